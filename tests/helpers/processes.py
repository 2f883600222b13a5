"""Start a real `support-mcp` server process on a free loopback port for a test, and stop it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent / "support-mcp"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This machine's environment without any SUPPORT_MCP_* setting, plus `extra`."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("SUPPORT_MCP_")}, **extra}


@contextmanager
def serving(args: list[str], env: Mapping[str, str], *, timeout: float = 30.0) -> Iterator[int]:
    """Run `support-mcp <args> --port P` until the port accepts connections (bounded); yields P."""
    port = free_port()
    proc = subprocess.Popen([str(BIN), *args, "--port", str(port)], env=dict(env),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"support-mcp {' '.join(args)} did not start: {err}") from None
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
