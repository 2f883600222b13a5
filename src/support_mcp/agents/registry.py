"""Which checks and repairs each agent has, for the configured targets. Agent packages plug in here.

Each agent's package is imported when that agent is asked for (a CLI command that runs no agent,
such as `tickets create` or `plans list`, loads none of them: about a second per process).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from support_mcp.domain.targets import Targets

if TYPE_CHECKING:
    from support_mcp.agents.base import Check, Repair
    from support_mcp.agents.explanations import Explanation
    from support_mcp.executors.sql import SqlRunner


class AgentResources:
    """What the agents keep open across runs, one per configured target: the Supabase SQL runner
    (a bounded connection pool, opened on first use). Every check and repair built with it shares
    it; its owner (the bootstrap) calls `aclose` on shutdown."""

    def __init__(self, targets: Targets) -> None:
        self.supabase_sql: SqlRunner | None = None
        if targets.supabase:
            from support_mcp.agents.supabase_analyst.base import supabase_runner

            self.supabase_sql = supabase_runner(targets.supabase)

    async def aclose(self) -> None:
        if self.supabase_sql is not None:
            await self.supabase_sql.aclose()


def checks_for(agent: str, targets: Targets | None = None, resources: AgentResources | None = None) -> Sequence[Check]:
    """The checks `agent` runs against `targets`; empty for an agent whose checks are not built yet.
    Without `resources`, a Supabase check opens its own SQL runner per run."""
    targets = targets or Targets()
    if agent == "hetzner-ops-agent":
        from support_mcp.agents.hetzner_ops.checks import hetzner_checks
        from support_mcp.agents.host_basics.checks import (
            HOST_BASICS_CHECKS,
            DiskCheck,
            MemoryCheck,
            SystemLoadCheck,
        )

        # Host basics are agent-independent; without an SSH host they run on the local machine.
        if not targets.hosts:
            return tuple(HOST_BASICS_CHECKS)
        return tuple(check for host in targets.hosts
                     for check in (SystemLoadCheck(host.name, app_user=host.user), DiskCheck(host.name), MemoryCheck(host.name),
                                   *hetzner_checks(host)))
    if agent == "frontend-diagnostics-agent":
        from support_mcp.agents.frontend_diagnostics.checks import frontend_checks
        from support_mcp.agents.frontend_diagnostics.session import FrontendSession

        # One session per call (per run): the checks share the workspace and a single build.
        return frontend_checks(FrontendSession(targets.frontend))
    if agent == "supabase-analyst-agent":
        from support_mcp.agents.supabase_analyst import supabase_checks

        # Without a configured Supabase target each check reports itself as skipped.
        return supabase_checks(targets.supabase, resources.supabase_sql if resources else None)
    return ()


def repairs_for(agent: str, targets: Targets | None = None,
                resources: AgentResources | None = None) -> Sequence[Repair]:
    """The repairs `agent` may propose for `targets` (each applied only through an approved plan)."""
    targets = targets or Targets()
    if agent == "hetzner-ops-agent":
        from support_mcp.agents.hetzner_ops.file_repairs import hetzner_repairs

        return tuple(repair for host in targets.hosts for repair in hetzner_repairs(host))
    if agent == "frontend-diagnostics-agent":
        from support_mcp.agents.frontend_diagnostics.repairs import frontend_repairs

        return frontend_repairs(targets.frontend)
    if agent == "supabase-analyst-agent":
        from support_mcp.agents.supabase_analyst.repairs import supabase_repairs

        return supabase_repairs(targets.supabase, resources.supabase_sql if resources else None)
    return ()


@functools.cache
def _explanations() -> dict[str, tuple[Explanation, ...]]:
    from support_mcp.agents.frontend_diagnostics.explanations import FRONTEND_EXPLANATIONS
    from support_mcp.agents.hetzner_ops.explanations import HETZNER_EXPLANATIONS
    from support_mcp.agents.supabase_analyst.explanations import SUPABASE_EXPLANATIONS

    return {"hetzner-ops-agent": HETZNER_EXPLANATIONS, "supabase-analyst-agent": SUPABASE_EXPLANATIONS,
            "frontend-diagnostics-agent": FRONTEND_EXPLANATIONS}


def explanations_for(agent: str) -> Sequence[Explanation]:
    """The agent's declared rules: which of its findings explain which symptoms."""
    return _explanations().get(agent, ())


def __getattr__(name: str) -> Any:
    if name == "EXPLANATIONS":  # agent -> its rules, loaded on first use
        return _explanations()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def registered_check_names() -> set[str]:
    from support_mcp.agents.hetzner_ops.checks import HETZNER_CHECK_NAMES

    return {c.name for agent in ("hetzner-ops-agent", "supabase-analyst-agent", "frontend-diagnostics-agent")
            for c in checks_for(agent)} | set(HETZNER_CHECK_NAMES)
