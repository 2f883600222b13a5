"""The one interface every command executor implements (local subprocess, SSH, ...)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from support_mcp.domain.errors import InvalidInput


@dataclass(frozen=True)
class CommandResult:
    """What a command did. Output is raw (not yet redacted) but already capped in size."""

    target: str
    argv: tuple[str, ...]
    exit_code: int | None  # None: killed on timeout
    stdout: str
    stderr: str
    duration_ms: float
    started_at: datetime
    truncated: bool = False
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class CommandExecutor(Protocol):
    """Runs an argv list on one target; never through a shell."""

    target: str

    async def run(
        self, argv: Sequence[str], *, timeout: float, max_output_bytes: int,
        env: Mapping[str, str] | None = None, detach: bool = False,
    ) -> CommandResult:
        """`env`: extra variables (validated by policy); `detach`: don't capture output (a
        launcher leaving a daemon behind)."""
        ...


_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")


def checked_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """Every executor's last guard on per-operation variables (policy.commands.validate_env
    decides which are allowed; this refuses what no executor should ever set)."""
    extra = dict(env or {})
    for name, value in extra.items():
        if not _ENV_NAME.fullmatch(name) or name == "PATH" or name.startswith("LD_") or "\x00" in value:
            raise InvalidInput(f"environment variable {name!r} cannot be set for a command")
    return extra
