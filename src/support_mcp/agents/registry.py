"""Which checks and repairs each agent has, for the configured targets. Agent packages plug in here."""

from __future__ import annotations

from collections.abc import Sequence

from support_mcp.agents.base import Check, Repair
from support_mcp.agents.host_basics.checks import HOST_BASICS_CHECKS
from support_mcp.domain.targets import Targets


def checks_for(agent: str, targets: Targets | None = None) -> Sequence[Check]:
    """The checks `agent` runs against `targets`; empty for an agent whose checks are not built yet."""
    targets = targets or Targets()
    if agent == "hetzner-ops-agent":
        # Host basics are agent-independent; without an SSH host they run on the local machine.
        return tuple(HOST_BASICS_CHECKS)
    return ()


def repairs_for(agent: str, targets: Targets | None = None) -> Sequence[Repair]:
    """The repairs `agent` may propose for `targets` (each applied only through an approved plan)."""
    return ()


def registered_check_names() -> set[str]:
    return {c.name for agent in ("hetzner-ops-agent", "supabase-analyst-agent", "frontend-diagnostics-agent")
            for c in checks_for(agent)}
