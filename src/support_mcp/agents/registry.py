"""Which checks each agent runs. Agent issues plug their check sets in here."""

from __future__ import annotations

from collections.abc import Sequence

from support_mcp.agents.base import Check
from support_mcp.agents.host_basics.checks import HOST_BASICS_CHECKS

# Host basics (uptime, disk, memory) are agent-independent; today only the host agent owns them.
_CHECKS: dict[str, tuple[Check, ...]] = {
    "hetzner-ops-agent": tuple(HOST_BASICS_CHECKS),
    "supabase-analyst-agent": (),
    "frontend-diagnostics-agent": (),
}


def checks_for(agent: str) -> Sequence[Check]:
    """The checks `agent` runs, in order; empty for an agent whose checks are not built yet."""
    return _CHECKS.get(agent, ())


def registered_check_names() -> set[str]:
    return {check.name for checks in _CHECKS.values() for check in checks}
