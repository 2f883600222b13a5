"""The env file a crashing app reads, against its own backups: which variable the app's error
names that is missing, empty or changed in the file while a backup still holds a value.

That is what a deploy or a hand edit that lost a variable looks like on a host (`Error:
supabaseUrl is required.` after `SUPABASE_URL` went missing). What is found names the key, the
file and the backup, never a value: the plan (`config_fix` with `set_from`) takes the value from
the backup when it is drafted and again when it is applied.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from support_mcp.agents.base import CheckContext
from support_mcp.agents.hetzner_ops import parsers as p
from support_mcp.agents.hetzner_ops.paths import resolved_path
from support_mcp.agents.hetzner_ops.repairs import MAX_CONFIG_BYTES, file_access
from support_mcp.domain.errors import ExecutionError, PolicyViolation
from support_mcp.domain.targets import HostTarget
from support_mcp.policy import host_commands as hc

MAX_BACKUPS_READ = 5  # newest first


@dataclass(frozen=True)
class EnvRestore:
    """`key` as the app's error names it is `state` ("missing", "empty", "changed") in `path` (as
    the app reads it; `real` where it resolves), and `backup` holds a value for it."""

    key: str
    path: str
    real: str
    backup: str
    state: str

    def as_data(self) -> dict[str, str]:
        return {"key": self.key, "path": self.path, "real": self.real, "backup": self.backup, "state": self.state}


async def read_text(ctx: CheckContext, host: HostTarget, path: str) -> str | None:
    try:
        data = await file_access(ctx, host).read_file(path, MAX_CONFIG_BYTES)
    except (PolicyViolation, ExecutionError):
        return None
    return None if data is None else data.decode("utf-8", "replace")


async def backups_of(ctx: CheckContext, host: HostTarget, real: str) -> list[str]:
    """The timestamped backups of the file at `real` (resolved), newest first."""
    try:
        _, roots = await resolved_path(ctx, host, real)
        listing = await ctx.execute(hc.backup_listing(host, real, roots))
    except (PolicyViolation, ExecutionError):
        return []
    return p.file_backups(listing.stdout, real) if listing.exit_code == 0 else []


async def restorable(ctx: CheckContext, host: HostTarget, messages: Sequence[str],
                     candidates: Sequence[str]) -> list[EnvRestore]:
    """For the first env file among `candidates` that exists: the keys the error `messages` name
    whose value a backup of that file holds while the file itself lacks it, leaves it empty or
    holds another one (newest backup with a non-empty value wins)."""
    for candidate in candidates:
        try:
            real, _ = await resolved_path(ctx, host, candidate)
        except PolicyViolation:
            continue
        current_text = await read_text(ctx, host, real)
        if current_text is None:
            continue
        current = p.parse_dotenv(current_text)
        backups = []
        for backup in (await backups_of(ctx, host, real))[:MAX_BACKUPS_READ]:
            if (content := await read_text(ctx, host, backup)) is not None:
                backups.append((backup, p.parse_dotenv(content)))
        keys = {k for _, values in backups for k in values} | set(current)
        named = {k for message in messages for k in p.named_keys(message, sorted(keys))}
        found = []
        for key in sorted(named):
            now = current.get(key)
            for backup, values in backups:
                if values.get(key) and values[key] != now:
                    state = "missing" if now is None else "empty" if not now else "changed"
                    found.append(EnvRestore(key, candidate, real, backup, state))
                    break
        return found
    return []


def backup_value(content: str, key: str) -> str | None:
    return p.parse_dotenv(content).get(key) or None


def same_folder_backup(backup: str, real: str) -> bool:
    return posixpath.dirname(backup) == posixpath.dirname(real) and hc.is_backup_of(backup, real)
