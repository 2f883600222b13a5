"""Which checks and repairs each agent has, for the configured targets. Agent packages plug in here."""

from __future__ import annotations

from collections.abc import Sequence

from support_mcp.agents.base import Check, Repair
from support_mcp.agents.explanations import Explanation
from support_mcp.agents.frontend_diagnostics.checks import frontend_checks
from support_mcp.agents.frontend_diagnostics.explanations import FRONTEND_EXPLANATIONS
from support_mcp.agents.frontend_diagnostics.repairs import frontend_repairs
from support_mcp.agents.frontend_diagnostics.session import FrontendSession
from support_mcp.agents.hetzner_ops.checks import HETZNER_CHECK_NAMES, hetzner_checks
from support_mcp.agents.hetzner_ops.explanations import HETZNER_EXPLANATIONS
from support_mcp.agents.hetzner_ops.file_repairs import hetzner_repairs
from support_mcp.agents.host_basics.checks import HOST_BASICS_CHECKS, DiskCheck, MemoryCheck, SystemLoadCheck
from support_mcp.agents.supabase_analyst import supabase_checks
from support_mcp.agents.supabase_analyst.base import supabase_runner
from support_mcp.agents.supabase_analyst.explanations import SUPABASE_EXPLANATIONS
from support_mcp.agents.supabase_analyst.repairs import supabase_repairs
from support_mcp.domain.targets import Targets
from support_mcp.executors.sql import SqlRunner


class AgentResources:
    """What the agents keep open across runs, one per configured target: the Supabase SQL runner
    (a bounded connection pool, opened on first use). Every check and repair built with it shares
    it; its owner (the bootstrap) calls `aclose` on shutdown."""

    def __init__(self, targets: Targets) -> None:
        self.supabase_sql: SqlRunner | None = supabase_runner(targets.supabase) if targets.supabase else None

    async def aclose(self) -> None:
        if self.supabase_sql is not None:
            await self.supabase_sql.aclose()


def checks_for(agent: str, targets: Targets | None = None, resources: AgentResources | None = None) -> Sequence[Check]:
    """The checks `agent` runs against `targets`; empty for an agent whose checks are not built yet.
    Without `resources`, a Supabase check opens its own SQL runner per run."""
    targets = targets or Targets()
    if agent == "hetzner-ops-agent":
        # Host basics are agent-independent; without an SSH host they run on the local machine.
        if not targets.hosts:
            return tuple(HOST_BASICS_CHECKS)
        return tuple(check for host in targets.hosts
                     for check in (SystemLoadCheck(host.name, app_user=host.user), DiskCheck(host.name), MemoryCheck(host.name),
                                   *hetzner_checks(host)))
    if agent == "frontend-diagnostics-agent":
        # One session per call (per run): the checks share the workspace and a single build.
        return frontend_checks(FrontendSession(targets.frontend))
    if agent == "supabase-analyst-agent":
        # Without a configured Supabase target each check reports itself as skipped.
        return supabase_checks(targets.supabase, resources.supabase_sql if resources else None)
    return ()


def repairs_for(agent: str, targets: Targets | None = None,
                resources: AgentResources | None = None) -> Sequence[Repair]:
    """The repairs `agent` may propose for `targets` (each applied only through an approved plan)."""
    targets = targets or Targets()
    if agent == "hetzner-ops-agent":
        return tuple(repair for host in targets.hosts for repair in hetzner_repairs(host))
    if agent == "frontend-diagnostics-agent":
        return frontend_repairs(targets.frontend)
    if agent == "supabase-analyst-agent":
        return supabase_repairs(targets.supabase, resources.supabase_sql if resources else None)
    return ()


EXPLANATIONS: dict[str, tuple[Explanation, ...]] = {
    "hetzner-ops-agent": HETZNER_EXPLANATIONS,
    "supabase-analyst-agent": SUPABASE_EXPLANATIONS,
    "frontend-diagnostics-agent": FRONTEND_EXPLANATIONS,
}


def explanations_for(agent: str) -> Sequence[Explanation]:
    """The agent's declared rules: which of its findings explain which symptoms."""
    return EXPLANATIONS.get(agent, ())


def registered_check_names() -> set[str]:
    return {c.name for agent in ("hetzner-ops-agent", "supabase-analyst-agent", "frontend-diagnostics-agent")
            for c in checks_for(agent)} | set(HETZNER_CHECK_NAMES)
