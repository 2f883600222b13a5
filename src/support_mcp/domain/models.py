"""Domain types: tickets, messages, events, runs, findings, hypotheses, plans, suggestions.

Frozen pydantic models so that every surface (MCP, CLI --json, portal) can serialise them
the same way; they know nothing of databases or transports.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from support_mcp.domain.errors import InvalidInput

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

Language = Literal["de", "en"]
MANUAL_FOLLOWUP = "manual_followup"


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


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class AuthorKind(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    AGENT = "agent"
    SYSTEM = "system"


class Ticket(_Frozen):
    id: uuid.UUID
    subject: str
    status: str = "open"
    priority: str = "normal"
    tier: int = 1
    customer: str | None = None
    escalation_path: list[str] = Field(default_factory=list)
    assigned_agent: str | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def escalation_running(self) -> bool:
        return bool(self.escalation_path)


class Message(_Frozen):
    id: uuid.UUID
    ticket_id: uuid.UUID
    author_kind: AuthorKind
    author_name: str | None = None
    body: str
    internal_only: bool = True
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime


class AutomationEvent(_Frozen):
    id: uuid.UUID
    ticket_id: uuid.UUID
    agent: str | None = None
    event_type: str
    status: str
    payload: dict[str, Any] = Field(default_factory=dict)
    resolves_event_id: uuid.UUID | None = None
    idempotency_key: str | None = None
    created_at: datetime


class CheckStatus(StrEnum):
    """Result states of a check, as HolmesGPT names them."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIPPED = "skipped"
    ERROR = "error"


class Finding(_Frozen):
    check: str
    status: CheckStatus
    title: str
    detail: str = ""
    evidence: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)


class Hypothesis(_Frozen):
    symptom: str
    suspected_cause: str
    tools: list[str] = Field(default_factory=list)


class Verdict(StrEnum):
    CONFIRMED = "confirmed"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    ESCALATED = "escalated"
    FAILED = "failed"


class Step(_Frozen):
    name: str
    status: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    output: dict[str, Any] = Field(default_factory=dict)


class Run(_Frozen):
    id: uuid.UUID
    ticket_id: uuid.UUID
    agent: str
    status: RunStatus
    hypothesis: Hypothesis | None = None
    verdict: Verdict | None = None
    checklist: dict[str, bool] = Field(default_factory=dict)
    steps: list[Step] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class Source(_Frozen):
    """One external research source (playbook 5.2): URL, date, key statement."""

    url: str
    date: str
    key_statement: str


class Suggestion(_Frozen):
    id: uuid.UUID
    ticket_id: uuid.UUID | None = None
    agent: str | None = None
    title: str
    body: str
    target_document: str | None = None
    target_section: str | None = None
    status: Literal["proposed", "accepted", "rejected"] = "proposed"
    reviewer: str | None = None
    reviewed_at: datetime | None = None
    created_at: datetime


PlanStatus = Literal["draft", "dry_run", "approved", "applied", "failed", "validated", "validation_failed"]


class Plan(_Frozen):
    """A repair plan: drafted, dry-run, hashed; applied only with an approval of its hash."""

    id: uuid.UUID
    ticket_id: uuid.UUID
    run_id: uuid.UUID | None = None
    agent: str
    repair: str
    title: str
    params: dict[str, Any] = Field(default_factory=dict)
    steps: list[dict[str, Any]] = Field(default_factory=list)
    dry_run_ok: bool | None = None
    dry_run_output: str | None = None
    fingerprint: str | None = None
    plan_hash: str | None = None
    status: PlanStatus = "draft"
    apply_output: str | None = None
    validation: list[dict[str, Any]] | None = None
    created_at: datetime
    updated_at: datetime


class Approval(_Frozen):
    id: uuid.UUID
    plan_id: uuid.UUID
    plan_hash: str
    approver: str
    approved_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
