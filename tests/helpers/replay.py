"""Replay of recorded real command output (tests/fixtures/host_basics), shared by tests.

A remote server's faults (disk full, memory pressure) cannot be produced on this machine, so
these tests replay output recorded from real `uptime`, `df`, `free`, `top` runs instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from support_mcp.domain.errors import ExecutionError
from support_mcp.executors.base import CommandResult

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "host_basics"
RECORDED_AT = datetime(2025, 3, 14, 14, 22, 7, tzinfo=UTC)


@dataclass(frozen=True)
class Replay:
    """What one program answers: a fixture file (or literal stdout), exit code, stderr."""

    fixture: str | None = None
    stdout: str = ""
    exit_code: int | None = 0
    stderr: str = ""
    timed_out: bool = False
    missing: bool = False


HEALTHY = {
    "nproc": Replay("local_nproc.txt"),
    "uptime": Replay("local_uptime.txt"),
    "df": Replay("local_df.txt"),
    "free": Replay("local_free.txt"),
    "top": Replay("local_top.txt"),
}


class ReplayExecutor:
    """A CommandExecutor that replays recorded real output from tests/fixtures/host_basics
    instead of running the command, so that faults of a remote server can be injected here."""

    def __init__(self, replies: dict[str, Replay], target: str = "local") -> None:
        self.target = target
        self.replies = replies
        self.calls: list[tuple[str, ...]] = []

    async def run(self, argv: Sequence[str], *, timeout: float, max_output_bytes: int) -> CommandResult:
        self.calls.append(tuple(argv))
        reply = self.replies[argv[0]]
        if reply.missing:
            raise ExecutionError(f"program {argv[0]!r} not found on target {self.target!r}")
        stdout = (FIXTURES / reply.fixture).read_text() if reply.fixture else reply.stdout
        return CommandResult(
            target=self.target, argv=tuple(argv), exit_code=reply.exit_code, stdout=stdout[:max_output_bytes],
            stderr=reply.stderr, duration_ms=12.5, started_at=RECORDED_AT, timed_out=reply.timed_out,
        )



PRESSURE = {
    "nproc": Replay("hetzner_pressure_nproc.txt"),
    "uptime": Replay("hetzner_pressure_uptime.txt"),
    "df": Replay("hetzner_pressure_df.txt"),
    "free": Replay("hetzner_pressure_free.txt"),
    "top": Replay("hetzner_pressure_top.txt"),
}
