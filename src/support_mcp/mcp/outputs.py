"""Output schemas of the tools whose answer is JSON (issue 15): the server publishes each as the
tool's `outputSchema` and returns the answer as `structuredContent` besides the same JSON text.

Texts that quote the target or the ticket (finding details, causes, evidence) stay fenced strings
inside the structure: structured content is no way around the fencing. A list answer is published
as `{"result": [...]}` (an output schema must describe an object).
"""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12


class TriageOutput(TypedDict):
    primary: str | None
    ranking: list[str]
    scores: dict[str, float]
    reason: str  # fenced


class RunFinding(TypedDict):
    check: str
    status: str
    title: str
    detail: str  # fenced when not empty


class RunConclusion(TypedDict):
    cause: str | None  # fenced
    symptom: str | None
    revised: bool | None
    evidence: list[str]


class RunOutput(TypedDict):
    run_id: str
    agent: str
    verdict: str
    escalated: bool
    hypothesis: str | None
    checklist: dict[str, bool]
    conclusion: RunConclusion
    handover_to: str | None
    faults: list[str]
    findings: list[RunFinding]


class LeadOutput(TypedDict):
    triage: str
    runs: list[RunOutput]
    lead: dict[str, Any]  # cause (fenced), layer, confirmed, chain, runs, plans, note_id, escalated


class RepairEntry(TypedDict):
    repair: str
    title: str


class ValidationFinding(TypedDict):
    status: str
    title: str
    detail: str  # fenced when not empty


class ValidationOutput(TypedDict):
    status: str
    findings: list[ValidationFinding]


class ResolvedPath(TypedDict):
    path: str
    resolved: str


class SupabaseFinding(TypedDict):
    check: str
    status: str
    code: str | None
    title: str
    evidence: str  # fenced when not empty
    data: dict[str, Any]


# `start_run` answers one run, or with agent "auto" the lead run.
StartRunOutput = RunOutput | LeadOutput
RepairList = list[RepairEntry]
SupabaseFindings = list[SupabaseFinding]
