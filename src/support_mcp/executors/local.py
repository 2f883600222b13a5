"""Run an argv list as a local subprocess: no shell, bounded time, bounded memory, fixed env."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence

from support_mcp.domain.clock import Clock, utc_now
from support_mcp.domain.errors import ExecutionError, InvalidInput
from support_mcp.executors.base import CommandResult, checked_env

# The child never sees the caller's environment: tokens, DSNs and API keys stay in this process.
# The C.UTF-8 locale keeps numbers and headers of df/free/top in the format the parsers expect.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BASE_ENV: Mapping[str, str] = {"PATH": DEFAULT_PATH, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}

_CHUNK = 65_536
# After the kill, how long to wait for the process and its pipes before giving up on them.
_REAP_TIMEOUT_S = 5.0


class BoundedOutput:
    """Keeps the first and the last `limit // 2` bytes of a stream and counts what it dropped."""

    def __init__(self, limit: int) -> None:
        self._head_limit = limit - limit // 2
        self._tail_limit = limit // 2
        self._head = bytearray()
        self._tail = bytearray()
        self.dropped = 0

    def feed(self, chunk: bytes) -> None:
        """Append a chunk; memory stays at most `limit` plus one chunk."""
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self._tail += chunk
        excess = len(self._tail) - self._tail_limit
        if excess > 0:
            del self._tail[:excess]
            self.dropped += excess

    @property
    def truncated(self) -> bool:
        return self.dropped > 0

    def text(self) -> str:
        """Decode head and tail; a marker in the middle says how much was dropped."""
        head = bytes(self._head).decode("utf-8", errors="replace")
        tail = bytes(self._tail).decode("utf-8", errors="replace")
        if not self.truncated:
            return head + tail
        return f"{head}\n[... {self.dropped} bytes omitted ...]\n{tail}"


class LocalExecutor:
    """CommandExecutor for the machine Support MCP runs on (the `local` target)."""

    def __init__(
        self,
        target: str = "local",
        *,
        path: str = DEFAULT_PATH,
        clock: Clock = utc_now,
    ) -> None:
        self.target = target
        self._env = {**BASE_ENV, "PATH": path}
        self._clock = clock

    async def run(
        self, argv: Sequence[str], *, timeout: float, max_output_bytes: int,
        env: Mapping[str, str] | None = None, detach: bool = False,
    ) -> CommandResult:
        """Run `argv` without a shell; kill its process group after `timeout` seconds.
        `env` adds (never replaces PATH); `detach` sends output to /dev/null."""
        args = _checked_argv(argv)
        if timeout <= 0 or max_output_bytes <= 0:
            raise InvalidInput("timeout and max_output_bytes must be positive")
        started_at = self._clock()
        start = time.monotonic()
        try:
            sink = asyncio.subprocess.DEVNULL if detach else asyncio.subprocess.PIPE
            proc = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
                env={**self._env, **checked_env(env)},
                # Own session = own process group, so a timeout kills grandchildren too.
                start_new_session=True,
            )
        except FileNotFoundError:
            raise ExecutionError(
                f"program {args[0]!r} not found on target {self.target!r} (PATH={self._env['PATH']})"
            ) from None
        except PermissionError:
            raise ExecutionError(f"program {args[0]!r} is not executable on target {self.target!r}") from None
        except OSError as exc:
            raise ExecutionError(f"could not start {args[0]!r} on target {self.target!r}: {exc}") from exc

        out, err = BoundedOutput(max_output_bytes), BoundedOutput(max_output_bytes)
        readers = []
        if not detach:
            assert proc.stdout is not None and proc.stderr is not None
            readers = [
                asyncio.create_task(_drain(proc.stdout, out)),
                asyncio.create_task(_drain(proc.stderr, err)),
            ]
        timed_out = False
        try:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*readers)
                await proc.wait()
        except TimeoutError:
            timed_out = True
        finally:
            # Also reached on cancellation from outside: never leave a child running.
            if proc.returncode is None or timed_out:
                _kill_group(proc.pid)
            await _reap(proc, readers)

        return CommandResult(
            target=self.target,
            argv=args,
            exit_code=None if timed_out else proc.returncode,
            stdout=out.text(),
            stderr=err.text(),
            duration_ms=(time.monotonic() - start) * 1000.0,
            started_at=started_at,
            truncated=out.truncated or err.truncated,
            timed_out=timed_out,
        )


def _checked_argv(argv: Sequence[str]) -> tuple[str, ...]:
    # Callers validate operations through policy.commands; this is the last guard against
    # things the OS would reject with a bare ValueError/TypeError.
    if isinstance(argv, str | bytes):
        raise InvalidInput("argv must be a list of arguments, not a single string")
    args = tuple(argv)
    if not args:
        raise InvalidInput("argv is empty")
    for arg in args:
        if not isinstance(arg, str):
            raise InvalidInput(f"argv elements must be strings, got {type(arg).__name__}")
        if "\x00" in arg:
            raise InvalidInput(f"argv element contains a NUL byte: {arg!r}")
    return args


async def _drain(stream: asyncio.StreamReader, sink: BoundedOutput) -> None:
    while chunk := await stream.read(_CHUNK):
        sink.feed(chunk)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _reap(proc: asyncio.subprocess.Process, readers: list[asyncio.Task[None]]) -> None:
    # A grandchild that left our process group may still hold the pipes open: stop reading
    # after a bounded wait instead of hanging.
    if readers:
        _, pending = await asyncio.wait(readers, timeout=_REAP_TIMEOUT_S)
        for task in pending:
            task.cancel()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), _REAP_TIMEOUT_S)
