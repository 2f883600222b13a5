"""One diagnosis of a Next.js frontend: the workspace copy (never the deployed folder), the build
run once and shared by the checks that need it, and the plumbing that turns failed probes,
HTTP requests and browser visits into findings and ticket records."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support_mcp.agents.base import CheckContext
from support_mcp.agents.frontend_diagnostics.texts import text
from support_mcp.domain.clock import utc_now
from support_mcp.domain.errors import ExecutionError
from support_mcp.domain.models import CheckStatus, Finding
from support_mcp.domain.targets import FrontendTarget
from support_mcp.executors.base import CommandResult
from support_mcp.executors.http import HttpClient, HttpResponse
from support_mcp.policy import npm_commands
from support_mcp.policy.commands import Operation

EVIDENCE_LINES = 20
TELEMETRY_OFF = {"telemetry": {"enabled": False}}


def lines(output: str, limit: int = EVIDENCE_LINES) -> list[str]:
    return [ln.rstrip() for ln in output.splitlines() if ln.strip()][:limit]


def workspace_path(target: FrontendTarget) -> Path:
    """A stable workspace per project, so that repeated builds are incremental."""
    root = target.workspace_dir or Path("/tmp/support-mcp-frontend")
    digest = hashlib.sha256(str(target.source_dir).encode()).hexdigest()[:12]
    return root / f"ws-{target.source_dir.name}-{digest}"


@dataclass(frozen=True)
class Workspace:
    path: Path
    scripts: frozenset[str]


@dataclass(frozen=True)
class BuildRun:
    result: CommandResult
    workspace: Workspace


class Failed(Exception):
    """Internal: a probe failed; carries the finding to return instead."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.title)
        self.finding = finding


def error_finding(check: str, title: str, op: Operation | None, evidence: list[str],
                  data: dict[str, Any] | None = None) -> Finding:
    return Finding(check=check, status=CheckStatus.ERROR, title=title, detail=op.display() if op else "",
                   evidence=evidence[:EVIDENCE_LINES],
                   data={**({"command": list(op.argv), "target": op.target} if op else {}), **(data or {})})


async def execute(ctx: CheckContext, op: Operation, check: str, title: str, *,
                  allow_failure: bool = False) -> CommandResult:
    """Run `op`; raise Failed with an error finding when it cannot run, times out, or (unless
    `allow_failure`) exits non-zero."""
    lang = ctx.language
    try:
        result = await ctx.execute(op)
    except ExecutionError as exc:
        raise Failed(error_finding(check, text(lang, "error.start", title=title), op, [str(exc)])) from None
    if result.timed_out:
        raise Failed(error_finding(check, text(lang, "error.timeout", title=title, seconds=int(op.timeout_s)), op,
                                   lines(result.stderr), {"timed_out": True}))
    if result.exit_code != 0 and not allow_failure:
        raise Failed(error_finding(check, text(lang, "error.exit", title=title, code=result.exit_code), op,
                                   lines(result.stderr) + lines(result.stdout)[-5:], {"exit_code": result.exit_code}))
    return result


async def http_get(ctx: CheckContext, client: HttpClient, url: str) -> HttpResponse:
    """GET `url` and record it on the ticket like a command (`GET <url>` → status and headers)."""
    response = await client.get(url)
    head = [f"HTTP {response.status}"] + [f"{k}: {v}" for k, v in sorted(response.headers.items())]
    op = Operation(name="http_get", argv=("GET", url), target="frontend-http", timeout_s=10.0)
    await ctx.record(ctx.agent, op, CommandResult(
        target=op.target, argv=op.argv, exit_code=0 if response.ok else (response.status or 1),
        stdout="\n".join(head), stderr=response.error or "", duration_ms=response.duration_ms,
        started_at=response.started_at or utc_now(), truncated=response.truncated))
    return response


class FrontendSession:
    """Shared by the checks of one run: the workspace is prepared once and `npm run build` runs
    once, however many checks ask (the runner runs checks concurrently)."""

    def __init__(self, target: FrontendTarget | None, *, reuse_workspace: bool = False) -> None:
        self.target = target
        # A repair's validation reads the workspace as the hotfix left it (what was deployed),
        # not a fresh copy of the sources, which the patch was not applied to.
        self._reuse_workspace = reuse_workspace
        self._lock = asyncio.Lock()
        self._workspace: Workspace | Finding | None = None
        self._build: BuildRun | Finding | None = None
        self._headers: str | Finding | None = None
        self.http = HttpClient()

    async def workspace(self, ctx: CheckContext, check: str, title: str) -> Workspace:
        """The workspace copy of the project: rsync of the sources, hard-linked node_modules."""
        async with self._lock:
            if self._workspace is None:
                self._workspace = await self._prepare(ctx, check, title)
        if isinstance(self._workspace, Finding):
            raise Failed(self._workspace.model_copy(update={"check": check}))
        return self._workspace

    async def _prepare(self, ctx: CheckContext, check: str, title: str) -> Workspace | Finding:
        assert self.target is not None
        source = self.target.source_dir
        ws = workspace_path(self.target)
        try:
            reuse = self._reuse_workspace and (ws / "package.json").is_file()
            ws.mkdir(parents=True, exist_ok=True)
            if not reuse:
                await execute(ctx, npm_commands.sync_workspace(str(source), str(ws)), check, title)
            if (source / "node_modules").is_dir() and not (ws / "node_modules").exists():
                await execute(ctx, npm_commands.link_node_modules(str(source / "node_modules"),
                                                                  str(ws / "node_modules")), check, title)
            # Next keeps its telemetry switch in .next/cache on containers; the executor's fixed
            # environment cannot carry NEXT_TELEMETRY_DISABLED.
            (ws / ".next" / "cache").mkdir(parents=True, exist_ok=True)
            (ws / ".next" / "cache" / "config.json").write_text(json.dumps(TELEMETRY_OFF))
            package = json.loads((ws / "package.json").read_text("utf-8"))
        except Failed as exc:
            return exc.finding
        except (OSError, ValueError) as exc:
            return error_finding(check, text(ctx.language, "workspace.failed"), None, [str(exc)])
        scripts = frozenset((package.get("scripts") or {}).keys())
        return Workspace(ws, scripts)

    async def build(self, ctx: CheckContext, check: str, title: str) -> BuildRun:
        """`npm run build` in the workspace, once per session."""
        workspace = await self.workspace(ctx, check, title)
        async with self._lock:
            if self._build is None:
                if "build" not in workspace.scripts:
                    self._build = Finding(check=check, status=CheckStatus.SKIPPED,
                                          title=text(ctx.language, "no_script", title=title, script="build"))
                else:
                    op = npm_commands.npm_run("build", str(workspace.path), workspace.scripts)
                    try:
                        result = await execute(ctx, op, check, title, allow_failure=True)
                        self._build = BuildRun(result, workspace)
                    except Failed as exc:
                        self._build = exc.finding
        if isinstance(self._build, Finding):
            raise Failed(self._build.model_copy(update={"check": check}))
        return self._build

    async def next_headers(self, ctx: CheckContext, check: str, title: str) -> str:
        """What `headers()` of the workspace's next.config returns (JSON of the node reader), once
        per session."""
        workspace = await self.workspace(ctx, check, title)
        async with self._lock:
            if self._headers is None:
                try:
                    result = await execute(ctx, npm_commands.read_next_headers(str(workspace.path)), check, title)
                    self._headers = result.stdout
                except Failed as exc:
                    self._headers = exc.finding
        if isinstance(self._headers, Finding):
            raise Failed(self._headers.model_copy(update={"check": check}))
        return self._headers

    def page_urls(self) -> list[str]:
        assert self.target is not None and self.target.base_url
        base = self.target.base_url.rstrip("/")
        return [base + (p if p.startswith("/") else "/" + p) for p in self.target.pages]
