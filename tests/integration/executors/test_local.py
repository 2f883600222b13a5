"""LocalExecutor against real processes: big output, timeouts, missing binaries, literal argv."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from support_mcp.domain.errors import ExecutionError, InvalidInput
from support_mcp.executors.local import BoundedOutput, LocalExecutor

PY = sys.executable
MiB = 1024 * 1024


async def test_50_mb_of_output_keeps_head_and_tail_within_the_bound() -> None:
    script = (
        "import sys\n"
        "out = sys.stdout.buffer\n"
        "out.write(b'HEAD-MARKER\\n')\n"
        "block = b'x' * (1024 * 1024)\n"
        "for _ in range(50):\n"
        "    out.write(block)\n"
        "out.write(b'\\nTAIL-MARKER\\n')\n"
    )
    tracemalloc.start()
    try:
        result = await LocalExecutor().run([PY, "-c", script], timeout=60, max_output_bytes=MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0 and result.truncated and not result.timed_out
    assert result.stdout.startswith("HEAD-MARKER\n")
    assert result.stdout.endswith("TAIL-MARKER\n")
    assert "bytes omitted" in result.stdout
    assert len(result.stdout.encode()) < MiB + 200
    # 50 MB went through the pipe; the executor never held more than a few MiB of it.
    assert peak < 8 * MiB


async def test_sleep_is_killed_after_the_timeout() -> None:
    started = time.monotonic()
    result = await LocalExecutor().run(["sleep", "30"], timeout=0.5, max_output_bytes=MiB)
    assert result.timed_out is True
    assert result.exit_code is None
    assert not result.ok
    assert time.monotonic() - started < 5


async def test_timeout_kills_the_whole_process_group() -> None:
    # The child starts a grandchild that keeps stdout open; only a group kill ends both quickly.
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '30'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(30)\n"
    )
    started = time.monotonic()
    result = await LocalExecutor().run([PY, "-c", script], timeout=1.0, max_output_bytes=MiB)
    assert result.timed_out and result.exit_code is None
    assert time.monotonic() - started < 4
    grandchild = int(result.stdout.split()[0])
    stat = Path(f"/proc/{grandchild}/stat")

    def running() -> bool:  # gone, or a zombie waiting for PID 1 to reap it: no longer running
        try:
            return stat.read_text().split()[2] != "Z"
        except FileNotFoundError:
            return False

    # SIGKILL takes effect when the killed process is next scheduled: on a loaded machine that
    # can be a moment after the group kill returned (seen: state R right after it).
    deadline = time.monotonic() + 5
    while running() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not running()


async def test_missing_binary_raises_execution_error_naming_it() -> None:
    with pytest.raises(ExecutionError, match="support-mcp-no-such-binary.*not found"):
        await LocalExecutor().run(["support-mcp-no-such-binary", "-v"], timeout=5, max_output_bytes=MiB)


async def test_shell_metacharacters_reach_the_program_as_one_literal_argument() -> None:
    hostile = ["; rm -rf /", "$(id)", "`id`", "a | b && c", "> /tmp/x", "*"]
    script = "import json, sys; print(json.dumps(sys.argv[1:]))"
    result = await LocalExecutor().run([PY, "-c", script, *hostile], timeout=10, max_output_bytes=MiB)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == hostile


async def test_child_sees_the_fixed_environment_not_the_callers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORT_MCP_TEST_SECRET", "s3cr3t-token")
    script = "import json, os; print(json.dumps(dict(os.environ)))"
    result = await LocalExecutor().run([PY, "-c", script], timeout=10, max_output_bytes=MiB)
    env = json.loads(result.stdout)
    assert "SUPPORT_MCP_TEST_SECRET" not in env
    assert "s3cr3t-token" not in result.stdout
    assert env["LANG"] == env["LC_ALL"] == "C.UTF-8"
    assert set(env) <= {"PATH", "LANG", "LC_ALL", "LC_CTYPE"}
    assert "SUPPORT_MCP_TEST_SECRET" in os.environ  # the parent keeps its own


async def test_stdin_is_closed() -> None:
    script = "import sys; print(repr(sys.stdin.read()))"
    result = await LocalExecutor().run([PY, "-c", script], timeout=5, max_output_bytes=MiB)
    assert result.stdout.strip() == "''"


async def test_failed_command_reports_exit_code_and_stderr() -> None:
    script = "import sys; sys.stderr.write('kaputt\\n'); sys.exit(3)"
    result = await LocalExecutor(target="local").run([PY, "-c", script], timeout=5, max_output_bytes=MiB)
    assert result.exit_code == 3 and not result.ok
    assert result.stderr == "kaputt\n"
    assert result.target == "local"
    assert result.argv == (PY, "-c", script)
    assert result.started_at.tzinfo is not None and result.duration_ms > 0


async def test_real_df_runs_through_the_fixed_path() -> None:
    result = await LocalExecutor().run(["df", "-P", "-B1", "/"], timeout=10, max_output_bytes=MiB)
    assert result.ok and result.stdout.startswith("Filesystem")


@pytest.mark.parametrize("argv", [[], "uptime", ["uptime", "a\x00b"]])
async def test_malformed_argv_is_refused(argv: list[str] | str) -> None:
    with pytest.raises(InvalidInput):
        await LocalExecutor().run(argv, timeout=5, max_output_bytes=MiB)


def test_bounded_output_keeps_head_and_tail() -> None:
    sink = BoundedOutput(10)
    for chunk in (b"abc", b"defgh", b"ijklmnop", b"qrst"):
        sink.feed(chunk)
    assert sink.truncated and sink.dropped == 10
    assert sink.text() == "abcde\n[... 10 bytes omitted ...]\npqrst"


def test_bounded_output_under_the_limit_is_unchanged() -> None:
    sink = BoundedOutput(100)
    sink.feed("Grüße\n".encode())
    assert not sink.truncated and sink.text() == "Grüße\n"


async def test_operation_environment_reaches_the_child_and_nothing_else_does() -> None:
    result = await LocalExecutor().run(
        [sys.executable, "-c", "import os; print(os.environ.get('PM2_HOME'), os.environ.get('HOME'))"],
        timeout=10, max_output_bytes=1000, env={"PM2_HOME": "/srv/pm2"})
    assert result.stdout.strip() == "/srv/pm2 None"
    with pytest.raises(InvalidInput):
        await LocalExecutor().run(["true"], timeout=5, max_output_bytes=100, env={"LD_PRELOAD": "/x.so"})


async def test_detached_launcher_returns_while_its_daemon_keeps_running(tmp_path: Path) -> None:
    marker = tmp_path / "daemon-alive"
    # The launcher forks a child that outlives it and would hold captured pipes open.
    code = ("import os, sys, time\n"
            "if os.fork() == 0:\n"
            f"    time.sleep(1.5); open({str(marker)!r}, 'w').write('x'); sys.exit(0)\n"
            "print('launched')\n")
    result = await LocalExecutor().run([sys.executable, "-c", code], timeout=5, max_output_bytes=1000, detach=True)
    # It returned before the daemon finished: captured pipes would have made it wait for the daemon.
    assert result.exit_code == 0 and not result.timed_out and not marker.exists()
    for _ in range(50):  # bounded: the daemon writes its marker after 1.5 s
        if marker.exists():
            break
        await asyncio.sleep(0.1)
    assert marker.exists()
