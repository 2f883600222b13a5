"""The agents' names and the parsing of ids from user input: plain Python (no pydantic), so that a
command line can check its arguments without loading the domain models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from support_mcp.domain.errors import InvalidInput

Language = Literal["de", "en"]


def parse_instant(value: str, what: str = "time") -> datetime:
    """An ISO 8601 time with its zone (`2026-12-04T07:23:00Z`, `…+01:00`), as UTC."""
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{what} takes an ISO 8601 time with zone (2026-12-04T07:23:00Z), not {value!r}") from None
    if when.tzinfo is None:
        raise InvalidInput(f"{what} needs a zone (Z or +01:00): {value!r} could be any time")
    return when.astimezone(UTC)

AgentName = Literal["supabase-analyst-agent", "hetzner-ops-agent", "frontend-diagnostics-agent"]
AGENTS: tuple[AgentName, ...] = (
    "supabase-analyst-agent",
    "hetzner-ops-agent",
    "frontend-diagnostics-agent",
)
AGENT_ALIASES: dict[str, AgentName] = {
    "supabase-analyst": "supabase-analyst-agent",
    "supabase": "supabase-analyst-agent",
    "hetzner-ops": "hetzner-ops-agent",
    "hetzner": "hetzner-ops-agent",
    "frontend-diagnostics": "frontend-diagnostics-agent",
    "frontend": "frontend-diagnostics-agent",
}


def parse_agent(name: str) -> AgentName:
    """Accept the playbook's agent names and their short forms (`hetzner-ops`)."""
    key = name.strip().lower()
    if key in AGENTS:
        return key  # type: ignore[return-value]
    if key in AGENT_ALIASES:
        return AGENT_ALIASES[key]
    raise InvalidInput(f"unknown agent {name!r}; expected one of: {', '.join(AGENTS)}")


def parse_uuid(value: str | uuid.UUID, what: str = "ticket id") -> uuid.UUID:
    """Parse an id or raise InvalidInput naming the field, never a bare ValueError."""
    if isinstance(value, uuid.UUID):
        return value
    text = str(value).strip()
    try:
        return uuid.UUID(text)
    except ValueError:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise InvalidInput(f"malformed {what} {shown!r}: expected a UUID such as "
                           "'3f2b8c1e-7a4d-4e2a-9b1c-0d5e6f7a8b9c'") from None
