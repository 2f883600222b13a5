"""The Next.js labs — ours (`labs/frontend`, App Router) and the second one shaped as others build
apps (`labs/frontend_alt`: Pages Router with one App Router route, `src/` with `@/` aliases,
`next.config.mjs`, CSP from `src/proxy.ts`, vitest, its own flat ESLint config): a project copy per fault scenario (template + overlay, node_modules hard-linked
from the cache that `scripts/labs/frontend` installs), its deployed build, and `next start` on a
free 127.0.0.1 port run by a real PM2 (the npm package `scripts/labs/hetzner` installs) with a
private PM2_HOME under the scenario's folder and its log in a file. The fixture's teardown runs
`pm2 kill` with that PM2_HOME, so no daemon outlives it (bounded waits)."""

from __future__ import annotations

import contextlib
import json
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
LABS = ("frontend", "frontend_alt")
# the pages a run looks at on each lab (the second lab's digest fault sits on its App Router route)
PAGES = {"frontend": ("/",), "frontend_alt": ("/", "/dashboard")}
CHROMIUM = Path("/usr/bin/chromium")
PM2 = shutil.which("pm2") or "/usr/bin/pm2"
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "NEXT_TELEMETRY_DISABLED": "1", "HOME": "/root"}
BUILD_TIMEOUT_S = 240
START_TIMEOUT_S = 30
FAULTS = ("type_error", "missing_module", "runtime_digest", "csp_blocked", "missing_asset", "lint_error",
          "failing_test", "client_exception", "import_case", "stale_build")
# Faults whose project cannot be built and deployed (the build, or its lint/test gate, fails).
BUILD_BREAKING = frozenset({"type_error", "missing_module", "lint_error", "failing_test", "import_case"})
# Faults whose project is not what the server runs: a failed build leaves the last good one running,
# as after a failed deploy; stale_build is a config changed after the running build was made.
UNDEPLOYABLE = BUILD_BREAKING | {"stale_build"}


def lab_dir(lab: str = "frontend") -> Path:
    if lab not in LABS:
        raise ValueError(f"unknown frontend lab {lab!r}")
    return REPO / "labs" / lab


def require_lab(lab: str = "frontend") -> None:
    missing = [p for p in (lab_dir(lab) / ".cache" / "node_modules" / "next", CHROMIUM, Path(PM2)) if not p.exists()]
    if missing:
        raise RuntimeError(f"frontend lab not set up ({', '.join(map(str, missing))} missing): run "
                           "scripts/labs/frontend (and scripts/labs/hetzner for pm2)")


def make_project(dest: Path, fault: str | None = None, lab: str = "frontend") -> Path:
    """Template + fault overlay at `dest`, with node_modules hard-linked from the lab cache."""
    require_lab(lab)
    root = lab_dir(lab)
    shutil.copytree(root / "app", dest, ignore=shutil.ignore_patterns("node_modules", ".next"))
    if fault is not None:
        shutil.copytree(root / "faults" / fault, dest, dirs_exist_ok=True)
    subprocess.run(["cp", "-al", str(root / ".cache" / "node_modules"), str(dest / "node_modules")], check=True,
                   timeout=120)
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
class Pm2App:
    """`next start -H 127.0.0.1 -p <port>` in the deploy folder as the PM2 app `name`, under a PM2
    daemon of its own (PM2_HOME `home`); combined out/err log in `log` (the digest check reads it)."""

    project: Path
    port: int
    log: Path
    home: Path
    name: str = "shop-frontend"
    started: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pm2(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run([PM2, *args], env={**ENV, "PM2_HOME": str(self.home)}, capture_output=True,
                              text=True, timeout=timeout, check=False)

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        ecosystem = self.home.parent / "ecosystem.config.json"
        ecosystem.write_text(json.dumps({"apps": [{
            "name": self.name, "cwd": str(self.project), "script": "node_modules/next/dist/bin/next",
            "interpreter": "node", "args": ["start", "-H", "127.0.0.1", "-p", str(self.port)],
            "log_file": str(self.log), "autorestart": False, "env": {"NEXT_TELEMETRY_DISABLED": "1"}}]}))
        self.started = True
        result = self.pm2("start", str(ecosystem))
        if result.returncode != 0:
            self.stop()
            raise RuntimeError(f"pm2 start failed: {result.stdout[-2000:]} {result.stderr[-2000:]}")
        if not self.wait_until_up():
            self.stop()
            raise RuntimeError(f"next start under pm2 did not answer within {START_TIMEOUT_S} s: "
                               f"{self.log.read_text()[-2000:] if self.log.exists() else ''}")

    def wait_until_up(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/api/health", timeout=1.0).status_code == 200:
                    return True
            time.sleep(0.1)  # bounded by the deadline above
        return False

    def restarts(self) -> int:
        """`restart_time` of the app in `pm2 jlist` (how often PM2 restarted it)."""
        result = self.pm2("jlist")
        [app] = [a for a in json.loads(result.stdout) if a["name"] == self.name]
        return int(app["pm2_env"]["restart_time"])

    def stop(self) -> None:
        """`pm2 kill` with this PM2_HOME: the daemon and the app; the daemon's pid as a fallback."""
        if not self.started:
            return
        self.started = False
        with contextlib.suppress(subprocess.TimeoutExpired):
            if self.pm2("kill").returncode == 0:
                return
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            os.kill(int((self.home / "pm2.pid").read_text().strip()), signal.SIGKILL)


@dataclass
class Scenario:
    """One fault scenario: the project (source), its deployed build and the running server."""

    fault: str | None
    source: Path
    deploy: Path
    workspaces: Path
    server: Pm2App | None = None
    lab: str = "frontend"

    def target(self, pages: tuple[str, ...] | None = None) -> FrontendTarget:
        pages = PAGES[self.lab] if pages is None else pages
        return FrontendTarget(source_dir=self.source, workspace_dir=self.workspaces,
                              base_url=self.server.url if self.server else None, deploy_dir=self.deploy,
                              chromium_path=CHROMIUM, pages=pages,
                              server_log=self.server.log if self.server else None,
                              pm2_app=self.server.name if self.server else None,
                              pm2_home=self.server.home if self.server else None)

    def targets(self) -> Targets:
        return Targets(frontend=self.target())


@contextlib.contextmanager
def scenario(root: Path, fault: str | None, *, deployed: bool, grow: Callable[[Path], None] | None = None,
             lab: str = "frontend", deploy_healthy: bool = False) -> Iterator[Scenario]:
    """Project for `fault` (on `lab`); with `deployed`, a built copy in a deploy folder served by
    next start — of the faulty project, or with `deploy_healthy` of the healthy one (a fault that
    breaks the build never reaches the server: the last good version keeps running).
    `grow` adds to both copies before the build (the benchmark's larger apps)."""
    root.mkdir(parents=True, exist_ok=True)
    source = make_project(root / "source", fault, lab)
    if grow:
        grow(source)
    deploy = root / "deploy"
    sc = Scenario(fault, source, deploy, root / "workspaces", lab=lab)
    if not deployed:
        yield sc
        return
    make_project(deploy, None if deploy_healthy else fault, lab)
    if grow:
        grow(deploy)
    result = build(deploy)
    if result.returncode != 0:
        raise RuntimeError(f"lab build of {fault} failed: {result.stdout[-2000:]} {result.stderr[-2000:]}")
    sc.server = Pm2App(deploy, free_port(), root / "next-start.log", root / "pm2")
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
