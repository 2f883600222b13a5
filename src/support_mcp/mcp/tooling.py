"""What every MCP tool module shares: the caller's identity, the `@tool` marker, argument types."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field

from support_mcp.domain.models import parse_agent
from support_mcp.policy.scopes import Identity

# Set by server.py around every tool call.
current_identity: ContextVar[Identity] = ContextVar("support_mcp_identity")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ToolSpec:
    scope: str
    read_only: bool
    title: str
    output: Any = None  # the type of a JSON answer (mcp/outputs.py): published as outputSchema


def tool(scope: str, title: str, *, read_only: bool = False, output: Any = None) -> Callable[[F], F]:
    """Mark a ToolBox method as an MCP tool needing `scope`; `output`: its answer is JSON of
    that type, returned as structuredContent too."""

    def mark(fn: F) -> F:
        fn.__support_mcp_tool__ = ToolSpec(scope, read_only, title, output)  # type: ignore[attr-defined]
        return fn

    return mark


TicketId = Annotated[str, Field(description="Ticket id (UUID) from support_tickets.")]
AgentArg = Annotated[
    str | None,
    Field(description="Agent acting (supabase-analyst-agent, hetzner-ops-agent, frontend-diagnostics-agent); "
                      "agent identities may omit it."),
]
VerdictArg = Annotated[Literal["confirmed", "refuted", "inconclusive"],
                       Field(description="Verdict on the hypothesis.")]


def me() -> Identity:
    """The identity of the current call."""
    return current_identity.get()


def acting_agent(requested: str | None) -> str:
    """The agent the call acts as (an agent identity is always itself)."""
    return parse_agent(me().acting_agent(requested))


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)
