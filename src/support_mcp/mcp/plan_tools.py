"""MCP tools for repair plans (playbook 2.2, 3.2, 4.2): draft → dry-run → apply → validate.
The approval itself is `approve_plan` in server.py: it asks the human at the client."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from support_mcp.bootstrap import Services
from support_mcp.domain.models import Plan, parse_uuid
from support_mcp.policy import scopes
from support_mcp.policy.fencing import fence

from . import outputs
from .tooling import AgentArg, TicketId, acting_agent, dump, tool


class PlanTools:
    s: Services

    @tool(scopes.RUNS_READ, "List repairs", read_only=True, output=outputs.RepairList)
    async def list_repairs(self, agent: AgentArg = None) -> str:
        """The repairs an agent can plan (each runs only through an approved plan)."""
        who = acting_agent(agent)
        return dump([{"repair": r.name, "title": r.title} for r in self.s.repairs.available(who)])

    @tool(scopes.RUNS_EXECUTE, "Draft and dry-run a repair plan")
    async def draft_repair_plan(
        self, ticket_id: TicketId,
        repair: Annotated[str, Field(description="Repair name from list_repairs.")],
        params: Annotated[dict[str, Any], Field(description="Repair parameters.")] = {},  # noqa: B006
        agent: AgentArg = None,
    ) -> str:
        """Draft a repair plan and dry-run it (nothing changes); returns the steps exactly as they
        would run, the dry-run output and the plan hash a human must approve."""
        plan = await self.s.repairs.draft(parse_uuid(ticket_id), acting_agent(agent), repair, params)
        plan = await self.s.repairs.dry_run(plan.id)
        return plan_text(plan)

    @tool(scopes.RUNS_READ, "Show repair plan", read_only=True)
    async def show_plan(self, plan_id: Annotated[str, Field(description="Plan id (UUID).")]) -> str:
        """A repair plan: steps, dry-run output, hash, status."""
        return plan_text(await self.s.repairs.get(parse_uuid(plan_id, "plan id")))

    @tool(scopes.RUNS_EXECUTE, "Apply an approved plan")
    async def apply_plan(self, plan_id: Annotated[str, Field(description="Plan id (UUID).")],
                         plan_hash: Annotated[str, Field(description="The approved hash.")]) -> str:
        """Apply a plan with an unexpired approval of this exact hash; refused when the target changed
        since the dry-run. Every command lands on the ticket."""
        plan = await self.s.repairs.apply(parse_uuid(plan_id, "plan id"), plan_hash)
        return plan_text(plan)

    @tool(scopes.RUNS_EXECUTE, "Validate an applied plan", output=outputs.ValidationOutput)
    async def validate_plan(self, plan_id: Annotated[str, Field(description="Plan id (UUID).")]) -> str:
        """Re-run the reproduction after a repair; reports whether it now passes."""
        plan, findings = await self.s.repairs.validate(parse_uuid(plan_id, "plan id"))
        return dump({"status": plan.status, "findings": [
            {"status": str(f.status), "title": f.title, "detail": fence(f.detail, "finding-detail") if f.detail else ""}
            for f in findings]})


def plan_text(plan: Plan) -> str:
    """A plan as the model reads it: steps, hash, status; outputs fenced."""
    lines = [f"plan {plan.id} · {plan.title} · status {plan.status} · agent {plan.agent}",
             f"plan_hash: {plan.plan_hash or '-'} · dry-run ok: {plan.dry_run_ok}", "steps:"]
    lines += [f"{i}. [{s['kind']} @ {s['target']}] {s['display']}" for i, s in enumerate(plan.steps, 1)]
    if plan.dry_run_output:
        lines.append(fence(plan.dry_run_output, "dry-run-output"))
    if plan.apply_output:
        lines.append(fence(plan.apply_output, "apply-output"))
    return "\n".join(lines)
