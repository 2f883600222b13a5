"""What every agent check is: a named, typed probe that turns command output into findings."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from support_mcp.domain.models import Deployment, Finding, Language
from support_mcp.domain.targets import Targets
from support_mcp.executors.base import CommandExecutor, CommandResult
from support_mcp.policy.commands import Operation

# Called by the check context after each command; the workflow service logs it on the ticket.
CommandRecorder = Callable[[str, Operation, CommandResult], Awaitable[None]]


@dataclass
class CheckContext:
    """What a check may use: the executors of its targets and the command recorder."""

    ticket_id: uuid.UUID
    agent: str
    executors: dict[str, CommandExecutor]
    record: CommandRecorder
    language: Language = "de"
    targets: Targets = field(default_factory=Targets)
    # The ticket's subject and customer messages: data to match against (a digest, an error
    # text), never instructions. Empty outside a run.
    ticket_text: str = ""
    ticket_customer: str = ""  # the ticket's customer field (an e-mail or user id, when support knows it)
    max_output_bytes: int = 1_048_576
    results: list[CommandResult] = field(default_factory=list)
    # hetzner-ops deploy_age: the newest `deployment` events of support_automation_events (read-only)
    deploy_events: Callable[[], Awaitable[list[Deployment]]] | None = None  # the last deployments
    # What the checks of one run found out about their targets and share (hetzner-ops: where the
    # app runs, see agents/hetzner_ops/layout.py); empty at the start of every run.
    facts: dict[object, Any] = field(default_factory=dict)

    async def execute(self, operation: Operation) -> CommandResult:
        """Run a validated operation on its target and record it on the ticket."""
        executor = self.executors[operation.target]
        extra: dict[str, Any] = {}
        if operation.env:
            extra["env"] = dict(operation.env)
        if operation.detach:
            extra["detach"] = True
        result = await executor.run(
            operation.argv, timeout=operation.timeout_s, max_output_bytes=self.max_output_bytes, **extra
        )
        self.results.append(result)
        await self.record(self.agent, operation, result)
        return result


class Check(Protocol):
    """A check names itself, says which tools it needs, and returns findings (never raises on a
    failed probe: a failed probe is a finding with status `error`)."""

    name: str
    title: str
    tools: Sequence[str]

    async def run(self, ctx: CheckContext) -> list[Finding]: ...


# --- repairs: gated plans ---------------------------------------------------------------------


@dataclass(frozen=True)
class RepairStep:
    """One operation of a repair plan, rendered exactly as it will run."""

    kind: str  # "command" | "sql" | "file" | "rsync"
    target: str  # executor/target name, e.g. "hetzner-prod", "supabase", "local"
    display: str  # what a human approves: the argv joined, the SQL text, the diff
    payload: dict[str, Any] = field(default_factory=dict)  # what apply needs: argv list, sql, paths


@dataclass(frozen=True)
class DryRun:
    """What a dry-run showed, and the fingerprint of the state the plan was made against."""

    ok: bool
    output: str  # affected rows, before/after of policies or functions, the diff, `caddy validate`
    fingerprint: str  # e.g. a hash of the touched schema objects or config file; apply compares it


@dataclass(frozen=True)
class ApplyResult:
    ok: bool
    output: str
    changed: list[str] = field(default_factory=list)  # corrected rows, restarted apps, files written


class Repair(Protocol):
    """A repair an agent can propose. Nothing in it runs without an approved plan hash: the
    RepairService calls `dry_run` before approval and `fingerprint` + `apply` only after."""

    name: str
    agent: str
    title: str

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        """Parameters for a plan when these findings call for this repair, else None."""
        ...

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]: ...

    async def dry_run(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> DryRun: ...

    async def fingerprint(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> str: ...

    async def apply(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> ApplyResult: ...

    async def validate(self, ctx: CheckContext, params: dict[str, Any]) -> list[Finding]:
        """Re-run the reproduction; findings with status ok mean the repair worked."""
        ...
