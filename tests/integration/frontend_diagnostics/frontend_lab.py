"""The Next.js lab: a project copy per fault scenario (template + overlay, node_modules hard-linked
from the cache that `scripts/labs/frontend` installs), its deployed build, and `next start` on a
free 127.0.0.1 port with its log in a file. Servers are stopped by the fixtures (bounded waits)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from support_mcp.agents.base import CheckContext
from support_mcp.domain.targets import FrontendTarget, Targets
from support_mcp.executors.base import CommandResult
from support_mcp.executors.local import LocalExecutor
from support_mcp.policy.commands import Operation

REPO = Path(__file__).resolve().parents[3]
LAB = REPO / "labs" / "frontend"
TEMPLATE = LAB / "app"
NODE_MODULES = LAB / ".cache" / "node_modules"
CHROMIUM = Path("/usr/bin/chromium")
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "NEXT_TELEMETRY_DISABLED": "1", "HOME": "/root"}
BUILD_TIMEOUT_S = 240
START_TIMEOUT_S = 30
FAULTS = ("type_error", "missing_module", "runtime_digest", "csp_blocked", "missing_asset", "lint_error",
          "failing_test")


def require_lab() -> None:
    missing = [p for p in (NODE_MODULES / "next", CHROMIUM) if not p.exists()]
    if missing:
        raise RuntimeError(f"frontend lab not set up ({', '.join(map(str, missing))} missing): run scripts/labs/frontend")


def make_project(dest: Path, fault: str | None = None) -> Path:
    """Template + fault overlay at `dest`, with node_modules hard-linked from the lab cache."""
    require_lab()
    shutil.copytree(TEMPLATE, dest, ignore=shutil.ignore_patterns("node_modules", ".next"))
    if fault is not None:
        shutil.copytree(LAB / "faults" / fault, dest, dirs_exist_ok=True)
    subprocess.run(["cp", "-al", str(NODE_MODULES), str(dest / "node_modules")], check=True, timeout=120)
    return dest


def build(project: Path) -> subprocess.CompletedProcess[str]:
    """The lab's own deployment build (the agent never builds in this folder)."""
    return subprocess.run(["npm", "--prefix", str(project), "run", "build"], env=ENV, capture_output=True,
                          text=True, timeout=BUILD_TIMEOUT_S, check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class NextServer:
    project: Path
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                ["node", "node_modules/next/dist/bin/next", "start", "-H", "127.0.0.1", "-p", str(self.port)],
                cwd=self.project, env=ENV, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"next start exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/api/health", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)  # bounded by the deadline above
        self.stop()
        raise RuntimeError(f"next start did not answer within {START_TIMEOUT_S} s")

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        self.proc = None

    def restart(self) -> None:
        """What the host agent's PM2 restart does for the lab after a deploy."""
        self.stop()
        self.start()


@dataclass
class Scenario:
    """One fault scenario: the project (source), its deployed build and the running server."""

    fault: str | None
    source: Path
    deploy: Path
    workspaces: Path
    server: NextServer | None = None

    def target(self, pages: tuple[str, ...] = ("/",)) -> FrontendTarget:
        return FrontendTarget(source_dir=self.source, workspace_dir=self.workspaces,
                              base_url=self.server.url if self.server else None, deploy_dir=self.deploy,
                              chromium_path=CHROMIUM, pages=pages,
                              server_log=self.server.log if self.server else None)

    def targets(self) -> Targets:
        return Targets(frontend=self.target())


@contextlib.contextmanager
def scenario(root: Path, fault: str | None, *, deployed: bool,
             grow: Callable[[Path], None] | None = None) -> Iterator[Scenario]:
    """Project for `fault`; with `deployed`, a built copy in a deploy folder served by next start.
    `grow` adds to both copies before the build (the benchmark's larger apps)."""
    root.mkdir(parents=True, exist_ok=True)
    source = make_project(root / "source", fault)
    if grow:
        grow(source)
    deploy = root / "deploy"
    sc = Scenario(fault, source, deploy, root / "workspaces")
    if not deployed:
        yield sc
        return
    make_project(deploy, fault)
    if grow:
        grow(deploy)
    result = build(deploy)
    if result.returncode != 0:
        raise RuntimeError(f"lab build of {fault} failed: {result.stdout[-2000:]} {result.stderr[-2000:]}")
    sc.server = NextServer(deploy, free_port(), root / "next-start.log")
    sc.server.start()
    try:
        yield sc
    finally:
        sc.server.stop()


class Recorder:
    """Collects what a CheckContext records (the ticket journal's place in these tests)."""

    def __init__(self) -> None:
        self.commands: list[tuple[Operation, CommandResult]] = []

    async def __call__(self, agent: str, op: Operation, result: CommandResult) -> None:
        self.commands.append((op, result))


def context(targets: Targets, language: Any = "de") -> tuple[CheckContext, Recorder]:
    rec = Recorder()
    ctx = CheckContext(ticket_id=uuid.uuid4(), agent="frontend-diagnostics-agent",
                       executors={"local": LocalExecutor()}, record=rec, language=language, targets=targets)
    return ctx, rec
