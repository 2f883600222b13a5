"""What every agent check is: a named, typed probe that turns command output into findings."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from support_mcp.domain.models import Finding, Language
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
    max_output_bytes: int = 1_048_576
    results: list[CommandResult] = field(default_factory=list)

    async def execute(self, operation: Operation) -> CommandResult:
        """Run a validated operation on its target and record it on the ticket."""
        executor = self.executors[operation.target]
        result = await executor.run(
            operation.argv, timeout=operation.timeout_s, max_output_bytes=self.max_output_bytes
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
