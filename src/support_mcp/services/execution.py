"""How services give agents a CheckContext whose every command lands on the ticket."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar

from support_mcp.agents.base import CheckContext, CommandExecutor, CommandResult
from support_mcp.domain.models import Deployment, Language
from support_mcp.domain.targets import Targets
from support_mcp.policy.commands import Operation
from support_mcp.services.journal import TicketJournal

DeployEvents = Callable[[], Awaitable[list[Deployment]]]

# The check whose commands are being run; set by the runner around each check (checks run
# concurrently, each in its own task and so with its own value).
CURRENT_CHECK: ContextVar[str | None] = ContextVar("current_check", default=None)


class CommandLogger:
    """The recorder of a CheckContext: one internal note per command (playbook 1.4).

    Keys are `<prefix>:cmd:<operation>:<n>`, so a resumed run re-logs nothing it logged before.
    Each note's metadata names the prefix (`run`) and the check that ran it (`check`), so a
    conclusion can cite the command note its evidence came from.
    """

    def __init__(self, journal: TicketJournal, ticket_id: uuid.UUID, key_prefix: str) -> None:
        self._journal = journal
        self._ticket_id = ticket_id
        self._prefix = key_prefix
        self._counters: dict[str, int] = {}

    async def __call__(self, agent: str, op: Operation, result: CommandResult) -> None:
        self._counters[op.name] = self._counters.get(op.name, 0) + 1
        stderr = f"\n[stderr]\n{result.stderr}" if result.stderr.strip() else ""
        # Per-operation variables are part of what ran (e.g. PM2_HOME=… pm2 restart …).
        command = [f"{k}={v}" for k, v in op.env] + list(result.argv)
        await self._journal.log_command(
            self._ticket_id, agent=agent, target=result.target, command=command,
            exit_code=result.exit_code, duration_ms=result.duration_ms, output=result.stdout + stderr,
            started_at=result.started_at, timed_out=result.timed_out,
            key=f"{self._prefix}:cmd:{op.name}:{self._counters[op.name]}",
            source={"run": self._prefix, **({"check": check} if (check := CURRENT_CHECK.get()) else {})},
        )


class ContextFactory:
    """Builds CheckContexts over the configured executors and targets."""

    def __init__(self, journal: TicketJournal, executors: Mapping[str, CommandExecutor], targets: Targets,
                 language: Language, deploy_events: DeployEvents | None = None) -> None:
        self._deploy_events = deploy_events  # hetzner-ops deploy_age: the last deployments
        self._journal = journal
        self._executors = dict(executors)
        self._targets = targets
        self.language = language

    def executor(self, target: str) -> CommandExecutor:
        return self._executors[target]

    def __call__(self, ticket_id: uuid.UUID, agent: str, key_prefix: str, *, ticket_text: str = "",
                 ticket_customer: str = "") -> CheckContext:
        return CheckContext(
            ticket_id=ticket_id, agent=agent, executors=self._executors,
            record=CommandLogger(self._journal, ticket_id, key_prefix), language=self.language,
            targets=self._targets, deploy_events=self._deploy_events, ticket_text=ticket_text,
            ticket_customer=ticket_customer,
        )
