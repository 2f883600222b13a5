"""Run validated argv lists on a remote host over one SSH connection (asyncssh).

The host key is pinned through a known_hosts file, authentication is by key only, and every
command is a channel on the same connection, so independent probes run concurrently without a
new handshake each. The remote side receives one command line: this module is the only place
where one is rendered, with `shlex.join` over an argv that the policy already validated.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import secrets
import shlex
import stat
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from support_mcp.domain.clock import Clock, utc_now
from support_mcp.domain.errors import ExecutionError, InvalidInput, PolicyViolation
from support_mcp.executors.base import CommandResult, checked_env
from support_mcp.executors.local import BoundedOutput

# The C.UTF-8 locale keeps numbers and headers in the format the parsers expect; sshd passes
# LANG and LC_* through with Debian's default `AcceptEnv LANG LC_*`.
REMOTE_ENV = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
_CHUNK = 65_536
_CLOSE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class SSHSettings:
    """Where and how to connect; `known_hosts` is required: an unpinned host is refused."""

    host: str
    port: int = 22
    user: str = "deploy"
    key_path: Path | None = None
    known_hosts: Path | None = None
    connect_timeout_s: float = 10.0
    keepalive_s: float = 30.0
    extra: dict[str, Any] = field(default_factory=dict)


class SSHExecutor:
    """CommandExecutor for one remote host: one lazily opened connection, one channel per command."""

    def __init__(self, target: str, settings: SSHSettings, *, clock: Clock = utc_now) -> None:
        if settings.known_hosts is None:
            raise InvalidInput(f"target {target!r}: a known_hosts file is required (host key pinning)")
        self.target = target
        self.settings = settings
        self._clock = clock
        self._conn: asyncssh.SSHClientConnection | None = None
        self._lock = asyncio.Lock()
        self.connect_ms: float | None = None  # set-up cost of the current connection

    async def connect(self) -> asyncssh.SSHClientConnection:
        """Open the connection once; later calls reuse it (and reopen it after a loss)."""
        async with self._lock:
            if self._conn is not None and not self._conn.is_closed():
                return self._conn
            s = self.settings
            start = time.monotonic()
            try:
                self._conn = await asyncssh.connect(
                    s.host, s.port, username=s.user,
                    client_keys=[str(s.key_path)] if s.key_path else None,
                    known_hosts=str(s.known_hosts), agent_path=None, password=None,
                    preferred_auth=["publickey"], connect_timeout=s.connect_timeout_s,
                    keepalive_interval=s.keepalive_s, config=None, **s.extra,
                )
            except asyncssh.HostKeyNotVerifiable as exc:
                raise ExecutionError(f"target {self.target!r}: host key of {s.host}:{s.port} does not match "
                                     f"the pinned known_hosts entry ({exc.reason})") from None
            except asyncssh.PermissionDenied as exc:
                raise ExecutionError(f"target {self.target!r}: key authentication as {s.user!r} refused "
                                     f"({exc.reason})") from None
            except (OSError, asyncssh.Error, TimeoutError) as exc:
                raise ExecutionError(f"target {self.target!r}: cannot connect to {s.host}:{s.port}: {exc}") from exc
            self.connect_ms = (time.monotonic() - start) * 1000.0
            return self._conn

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        async with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(conn.wait_closed(), _CLOSE_TIMEOUT_S)

    async def run(self, argv: Sequence[str], *, timeout: float, max_output_bytes: int,
                  env: Mapping[str, str] | None = None, detach: bool = False) -> CommandResult:
        """Run `argv` on the host; on timeout the channel is signalled and closed. `env` is set
        with `env K=V` in front of the argv (sshd's AcceptEnv usually refuses other names);
        `detach` sends the command's output to /dev/null so a daemon it starts does not hold
        the channel open."""
        args = _checked_argv(argv)
        if timeout <= 0 or max_output_bytes <= 0:
            raise InvalidInput("timeout and max_output_bytes must be positive")
        extra = [f"{k}={v}" for k, v in checked_env(env).items()]
        conn = await self.connect()
        started_at = self._clock()
        start = time.monotonic()
        # The one place a command line is rendered: from the validated argv, quoted.
        command = shlex.join(["env", *extra, *args] if extra else list(args))
        if detach:
            command += " </dev/null >/dev/null 2>&1"
        try:
            process = await conn.create_process(command, env=REMOTE_ENV, encoding=None, stdin=asyncssh.DEVNULL)
        except (OSError, asyncssh.Error) as exc:
            raise ExecutionError(f"target {self.target!r}: cannot open a channel for {args[0]!r}: {exc}") from exc
        out, err = BoundedOutput(max_output_bytes), BoundedOutput(max_output_bytes)
        readers = [asyncio.create_task(_drain(process.stdout, out)),
                   asyncio.create_task(_drain(process.stderr, err))]
        timed_out = False
        exit_status: int | None = None
        try:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*readers)
                completed = await process.wait(check=False)
                exit_status = completed.exit_status
        except TimeoutError:
            timed_out = True
        except (OSError, asyncssh.Error) as exc:
            raise ExecutionError(f"target {self.target!r}: connection lost while running {args[0]!r}: {exc}") from exc
        finally:
            if timed_out or process.exit_status is None:
                with contextlib.suppress(OSError, asyncssh.Error):
                    process.send_signal("KILL")
                process.close()
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        if exit_status is not None and exit_status < 0:
            exit_status = None  # killed by a signal on the remote side
        return CommandResult(
            target=self.target, argv=args, exit_code=None if timed_out else exit_status,
            stdout=out.text(), stderr=err.text(), duration_ms=(time.monotonic() - start) * 1000.0,
            started_at=started_at, truncated=out.truncated or err.truncated, timed_out=timed_out,
        )

    async def realpath(self, path: str) -> str:
        """`path` with every symbolic link resolved on the target (SFTP realpath). A path that does
        not exist yet (a new backup) is its resolved folder plus its name."""
        conn = await self.connect()
        try:
            async with conn.start_sftp_client() as sftp:
                return await _resolve(sftp, path, 0)
        except (OSError, asyncssh.Error) as exc:
            raise ExecutionError(f"target {self.target!r}: cannot resolve {path}: {exc}") from exc

    async def realpaths(self, paths: Sequence[str]) -> list[str]:
        """`realpath` of many paths over one SFTP session (a deploy folder's links)."""
        conn = await self.connect()
        try:
            async with conn.start_sftp_client() as sftp:
                return [await _resolve(sftp, path, 0) for path in paths]
        except (OSError, asyncssh.Error) as exc:
            raise ExecutionError(f"target {self.target!r}: cannot resolve paths: {exc}") from exc

    async def read_file(self, path: str, max_bytes: int) -> bytes | None:
        """The file's content over SFTP (None when it does not exist). The caller resolves and
        checks the path first; a path that is itself a symbolic link (swapped in since) is refused."""
        conn = await self.connect()
        try:
            async with conn.start_sftp_client() as sftp:
                if await _is_link(sftp, path):
                    raise PolicyViolation(f"{path} on {self.target!r} is a symbolic link; files are read "
                                          "only at their resolved path")
                try:
                    async with sftp.open(path, "rb") as handle:
                        data: bytes = await handle.read(max_bytes + 1)
                except asyncssh.SFTPNoSuchFile:
                    return None
        except (OSError, asyncssh.Error) as exc:
            raise ExecutionError(f"target {self.target!r}: cannot read {path}: {exc}") from exc
        if len(data) > max_bytes:
            raise ExecutionError(f"target {self.target!r}: {path} is larger than {max_bytes} bytes")
        return data

    async def write_file(self, path: str, data: bytes) -> None:
        """Write `data` to `path` over SFTP: to a new sibling temp file (created exclusively, so
        no link can stand in its place), then renamed into place. A `path` that is a symbolic link
        is refused: a write never follows a link."""
        conn = await self.connect()
        tmp = f"{path}.support-mcp-{secrets.token_hex(6)}.tmp"
        try:
            async with conn.start_sftp_client() as sftp:
                if await _is_link(sftp, path):
                    raise PolicyViolation(f"{path} on {self.target!r} is a symbolic link; writes never follow links")
                flags = asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_EXCL
                async with sftp.open(tmp, flags, encoding=None) as handle:
                    await handle.write(data)
                await sftp.posix_rename(tmp, path)
        except (OSError, asyncssh.Error) as exc:
            raise ExecutionError(f"target {self.target!r}: cannot write {path}: {exc}") from exc


async def _is_link(sftp: asyncssh.SFTPClient, path: str) -> bool:
    try:
        attrs = await sftp.lstat(path)
    except asyncssh.SFTPNoSuchFile:
        return False
    return attrs.permissions is not None and stat.S_ISLNK(attrs.permissions)


async def _resolve(sftp: asyncssh.SFTPClient, path: str, depth: int) -> str:
    try:
        return str(await sftp.realpath(path))
    except asyncssh.SFTPNoSuchFile:
        parent, name = posixpath.split(path.rstrip("/"))
        if not name or depth > 64:
            raise
        return posixpath.join(await _resolve(sftp, parent, depth + 1), name)


def _checked_argv(argv: Sequence[str]) -> tuple[str, ...]:
    if isinstance(argv, str | bytes):
        raise InvalidInput("argv must be a list of arguments, not a single string")
    args = tuple(argv)
    if not args or not all(isinstance(a, str) and a for a in args):
        raise InvalidInput("argv must be a non-empty list of non-empty strings")
    if any("\x00" in a or "\n" in a or "\r" in a for a in args):
        raise InvalidInput("argv elements must not contain NUL or line breaks")
    return args


async def _drain(stream: Any, sink: BoundedOutput) -> None:
    while chunk := await stream.read(_CHUNK):
        sink.feed(chunk)
