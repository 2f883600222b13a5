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

# re-exported: the names and id parsing live in domain.parsing (importable without pydantic)
from support_mcp.domain.parsing import AGENT_ALIASES as AGENT_ALIASES
from support_mcp.domain.parsing import AGENTS as AGENTS
from support_mcp.domain.parsing import AgentName as AgentName
from support_mcp.domain.parsing import Language as Language
from support_mcp.domain.parsing import parse_agent as parse_agent
from support_mcp.domain.parsing import parse_uuid as parse_uuid

MANUAL_FOLLOWUP = "manual_followup"


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


class Deployment(_Frozen):
    """A deploy of the app, as the hetzner-ops `deploy_age` check compares it with the build: from
    a CI report without a ticket (`support_mcp_deployments`) or a ticket's `deployment` event."""

    id: uuid.UUID
    deployed_at: datetime  # when it happened: the report's time, else when the event was written
    status: str
    source: str  # "support_mcp_deployments" or "support_automation_events"
    reported_by: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    ticket_id: uuid.UUID | None = None


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
    approver_identity: str = "unrecorded"  # the session, login or OS user it came through
    expires_at: datetime
    used_at: datetime | None = None
