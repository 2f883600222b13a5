"""Gated repair plans (playbook 2.2, 3.2, 4.2): draft → dry-run → plan hash → approval → apply →
validate. Nothing an agent repairs runs without a named human's approval of the exact hash, and
a plan is refused when the state it was dry-run against has changed since.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from support_mcp.agents.base import Repair, RepairStep
from support_mcp.domain.clock import Clock, utc_now
from support_mcp.domain.errors import Conflict, InvalidInput, NotFound, PolicyViolation
from support_mcp.domain.models import AGENTS, Approval, Finding, Plan, Run
from support_mcp.policy.redaction import prepare_output
from support_mcp.services import playbook
from support_mcp.services.execution import ContextFactory
from support_mcp.services.journal import TicketJournal
from support_mcp.services.texts import text
from support_mcp.store.plans import PlanStore
from support_mcp.store.runs import RunStore

RepairsFor = Callable[[str], Sequence[Repair]]
MAX_APPROVAL_MINUTES = 24 * 60
_PLAN_STATES_FOR_CHECKLIST = {"applied": ("applied",), "validated": ("applied", "validated")}


def plan_hash(plan: Plan, steps: Sequence[dict[str, Any]], fingerprint: str) -> str:
    """sha256 over what will run and the state it was tested against; approvals name this hash."""
    canonical = json.dumps(
        {"plan": str(plan.id), "ticket": str(plan.ticket_id), "agent": plan.agent, "repair": plan.repair,
         "steps": list(steps), "fingerprint": fingerprint},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()



def check_hash(plan: Plan, given: str, error: type[Exception] = Conflict) -> None:
    """`given` must be the plan's current hash (compared in constant time). The message does not
    say what the hash is: whoever holds a plan id must not learn it from a failed approval."""
    if not plan.plan_hash or not hmac.compare_digest(given.encode(), plan.plan_hash.encode()):
        raise error(f"hash mismatch: that is not the hash of plan {plan.id}'s current dry-run; "
                    "show_plan gives it to whoever may see the plan")

class RepairService:
    def __init__(self, *, plans: PlanStore, runs: RunStore, journal: TicketJournal, contexts: ContextFactory,
                 repairs_for: RepairsFor, output_cap_bytes: int = 16_384, clock: Clock = utc_now) -> None:
        self._plans = plans
        self._runs = runs
        self._journal = journal
        self._contexts = contexts
        self._repairs_for = repairs_for
        self._cap = output_cap_bytes
        self._clock = clock

    def available(self, agent: str) -> list[Repair]:
        return list(self._repairs_for(agent))

    def _repair(self, agent: str, name: str) -> Repair:
        for repair in self._repairs_for(agent):
            if repair.name == name:
                return repair
        known = ", ".join(r.name for r in self._repairs_for(agent)) or "none"
        raise NotFound(f"{agent} has no repair {name!r} (available: {known})")

    def _ctx(self, plan: Plan, phase: str) -> Any:
        return self._contexts(plan.ticket_id, plan.agent, f"plan:{plan.id}:{phase}")

    @staticmethod
    def _steps(plan: Plan) -> list[RepairStep]:
        return [RepairStep(**s) for s in plan.steps]

    async def get(self, plan_id: uuid.UUID) -> Plan:
        return await self._plans.get(plan_id)

    async def list_plans(self, ticket_id: uuid.UUID | None = None) -> list[Plan]:
        return await self._plans.for_ticket(ticket_id)

    async def draft(self, ticket_id: uuid.UUID, agent: str, repair_name: str, params: dict[str, Any] | None = None,
                    *, run_id: uuid.UUID | None = None) -> Plan:
        """Render the repair's steps exactly as they would run; nothing runs yet."""
        repair = self._repair(agent, repair_name)
        params = params or {}
        steps = await repair.plan(self._contexts(ticket_id, agent, f"draft:{uuid.uuid4()}"), params)
        if not steps:
            raise InvalidInput(f"repair {repair_name!r} produced no steps for {params}")
        plan = await self._plans.create(ticket_id=ticket_id, run_id=run_id, agent=agent, repair=repair.name,
                                        title=repair.title, params=params, steps=[asdict(s) for s in steps])
        lang = self._contexts.language
        body = "\n".join([f"## {text('plan.drafted', lang, title=plan.title)}", f"Plan-ID: `{plan.id}`", ""]
                         + [f"{i}. [{s.kind} @ {s.target}] `{s.display}`" for i, s in enumerate(steps, 1)])
        await self._journal.note(ticket_id, body, agent=agent, tags=["repair_plan"],
                                 metadata={"plan_id": str(plan.id)}, key=f"plan:{plan.id}:drafted")
        await self._journal.event(ticket_id, "repair_planned", status="open", agent=agent,
                                  payload={"plan_id": str(plan.id), "repair": plan.repair},
                                  key=f"plan:{plan.id}:drafted:event")
        return plan

    async def dry_run(self, plan_id: uuid.UUID) -> Plan:
        """Run the dry-run (transaction rolled back, `caddy validate`, a diff …) and hash the plan."""
        plan = await self._plans.get(plan_id)
        if plan.status not in ("draft", "dry_run"):
            raise Conflict(f"plan {plan.id} is {plan.status}; only a draft can be dry-run")
        repair = self._repair(plan.agent, plan.repair)
        result = await repair.dry_run(self._ctx(plan, f"dry_run:{uuid.uuid4()}"), self._steps(plan))
        digest = plan_hash(plan, plan.steps, result.fingerprint)
        output, _ = prepare_output(result.output, self._cap)
        plan = await self._plans.update(plan.id, expect_status=("draft", "dry_run"), status="dry_run",
                                        dry_run_ok=result.ok, dry_run_output=output,
                                        fingerprint=result.fingerprint, plan_hash=digest)
        lang = self._contexts.language
        verdict = text("plan.dry_run_ok" if result.ok else "plan.dry_run_failed", lang)
        await self._journal.note(
            plan.ticket_id,
            f"## {text('plan.dry_run', lang, title=plan.title)}\n{verdict}\nPlan-Hash: `{digest}`\n```\n{output}\n```",
            agent=plan.agent, tags=["repair_dry_run"], metadata={"plan_id": str(plan.id), "plan_hash": digest},
        )
        await self._journal.event(plan.ticket_id, "repair_dry_run", status="done" if result.ok else "failed",
                                  agent=plan.agent, payload={"plan_id": str(plan.id), "plan_hash": digest})
        return plan

    async def approvable(self, plan_id: uuid.UUID, plan_hash_: str, *, by: str) -> Plan:
        """The plan, if `by` may approve exactly this hash of it now; raises otherwise. MCP calls
        it before it asks anyone (elicitation), `approve` before it records anything."""
        if by in AGENTS:
            raise PolicyViolation(f"identity {by!r} is an agent; only a person approves a repair plan")
        plan = await self._plans.get(plan_id)
        if plan.status not in ("dry_run", "approved"):
            raise Conflict(f"plan {plan.id} is {plan.status}; approve it after a successful dry-run")
        if not plan.dry_run_ok:
            raise Conflict(f"the dry-run of plan {plan.id} failed; fix the plan and dry-run it again")
        check_hash(plan, plan_hash_)
        if by == plan.agent:
            raise PolicyViolation(f"plan {plan.id} was drafted by {by}; it cannot approve it")
        return plan

    async def approve(self, plan_id: uuid.UUID, plan_hash_: str, approver: str, *, by: str,
                      ttl_minutes: int = 30) -> Approval:
        """A named human approves exactly this hash, for a limited time. `by` is the identity the
        approval comes through (the MCP session's, the portal login's, `cli:<user>`); an agent
        identity never approves, least of all a plan it drafted."""
        if not approver.strip():
            raise InvalidInput("an approval needs the approver's name")
        if not 1 <= ttl_minutes <= MAX_APPROVAL_MINUTES:
            raise InvalidInput(f"approval expiry must be 1 to {MAX_APPROVAL_MINUTES} minutes")
        plan = await self.approvable(plan_id, plan_hash_, by=by)
        now = self._clock()
        approval = await self._plans.add_approval(plan.id, plan_hash_, approver.strip(), now,
                                                  now + timedelta(minutes=ttl_minutes), approver_identity=by)
        await self._plans.update(plan.id, expect_status=("dry_run", "approved"), status="approved")
        lang = self._contexts.language
        await self._journal.note(
            plan.ticket_id,
            text("plan.approved", lang, title=plan.title, approver=f"{approval.approver} ({by})",
                 until=approval.expires_at.isoformat(timespec="minutes"), hash=plan_hash_),
            agent=plan.agent, tags=["repair_approval"],
            metadata={"plan_id": str(plan.id), "approver": approver, "approver_identity": by},
        )
        await self._journal.event(plan.ticket_id, "repair_approved", status="done", agent=plan.agent,
                                  payload={"plan_id": str(plan.id), "approver": approver, "approver_identity": by,
                                           "plan_hash": plan_hash_})
        return approval

    async def apply(self, plan_id: uuid.UUID, plan_hash_: str) -> Plan:
        """Apply with an unexpired approval of this exact hash, if the state is still as dry-run."""
        plan = await self._plans.get(plan_id)
        if plan.status != "approved":
            raise PolicyViolation(f"plan {plan.id} is {plan.status}; it needs an approval before it can run")
        check_hash(plan, plan_hash_, PolicyViolation)
        repair = self._repair(plan.agent, plan.repair)
        steps = self._steps(plan)
        current = await repair.fingerprint(self._ctx(plan, "fingerprint"), steps)
        if current != plan.fingerprint:
            raise Conflict(f"the target changed since the dry-run of plan {plan.id}; dry-run it again")
        if await self._plans.use_approval(plan.id, plan_hash_, self._clock(), not_by=AGENTS) is None:
            raise PolicyViolation(f"no valid approval for plan {plan.id} (missing, expired, already used, "
                                  "or given by an agent identity)")
        result = await repair.apply(self._ctx(plan, "apply"), steps)
        output, _ = prepare_output(result.output, self._cap)
        status = "applied" if result.ok else "failed"
        plan = await self._plans.update(plan.id, expect_status=("approved",), status=status, apply_output=output)
        lang = self._contexts.language
        changed = "\n".join(f"- {c}" for c in result.changed) or "—"
        await self._journal.note(
            plan.ticket_id,
            f"## {text('plan.applied' if result.ok else 'plan.apply_failed', lang, title=plan.title)}\n"
            f"{text('plan.changed', lang)}:\n{changed}\n```\n{output}\n```",
            agent=plan.agent, tags=["repair_applied" if result.ok else "repair_failed"],
            metadata={"plan_id": str(plan.id), "changed": result.changed},
        )
        await self._journal.event(plan.ticket_id, "repair_applied", status="done" if result.ok else "failed",
                                  agent=plan.agent, payload={"plan_id": str(plan.id), "changed": result.changed})
        await self._update_checklist(plan)
        return plan

    async def validate(self, plan_id: uuid.UUID) -> tuple[Plan, list[Finding]]:
        """Re-run the reproduction; the plan is validated when every finding is ok."""
        plan = await self._plans.get(plan_id)
        if plan.status not in ("applied", "validated", "validation_failed"):
            raise Conflict(f"plan {plan.id} is {plan.status}; validate after applying it")
        repair = self._repair(plan.agent, plan.repair)
        findings = await repair.validate(self._ctx(plan, f"validate:{uuid.uuid4()}"), plan.params)
        ok = bool(findings) and all(f.status == "ok" for f in findings)
        plan = await self._plans.update(plan.id, status="validated" if ok else "validation_failed",
                                        validation=[f.model_dump(mode="json") for f in findings])
        lang = self._contexts.language
        lines = [f"## {text('plan.validated' if ok else 'plan.validation_failed', lang, title=plan.title)}"]
        lines += [f"- [{f.status}] {f.title}" + (f": {f.detail}" if f.detail else "") for f in findings]
        await self._journal.note(plan.ticket_id, "\n".join(lines), agent=plan.agent, tags=["repair_validation"],
                                 metadata={"plan_id": str(plan.id), "ok": ok})
        await self._journal.event(plan.ticket_id, "repair_validated", status="done" if ok else "failed",
                                  agent=plan.agent, payload={"plan_id": str(plan.id), "ok": ok})
        await self._update_checklist(plan)
        return plan, findings

    async def _update_checklist(self, plan: Plan) -> None:
        """Applying or validating a plan ticks the agent's checklist lines of the run it came from."""
        run: Run | None = await self._runs.get_run(plan.run_id) if plan.run_id else None
        if run is None:
            candidates = [r for r in await self._runs.runs_for_ticket(plan.ticket_id) if r.agent == plan.agent]
            run = candidates[0] if candidates else None
        if run is None:
            return
        states: set[str] = set()
        for p in await self._plans.for_ticket(plan.ticket_id):
            if p.agent == plan.agent:
                states.update(_PLAN_STATES_FOR_CHECKLIST.get(p.status, ()))
        await self._runs.update_run(run.id, checklist=playbook.checklist_for_run(run, states))
