"""Playbook 4.2: a hotfix in the workspace (a unified diff the agent supplies), build, lint and tests
re-run, the rsync of the build to the deploy folder, then the PM2 restart that makes the running
app load it — one plan, applied only when approved, validated by the smoke test.

The restart is the host agent's typed operation (`pm2 restart <app> --update-env`, only the
configured app), run through the executor of the configured restart target: a host of the
hetzner-ops-agent over SSH, or `local`.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from support_mcp.agents.base import ApplyResult, CheckContext, DryRun, RepairStep
from support_mcp.agents.frontend_diagnostics.checks import BuildCheck, LintCheck, TestCheck
from support_mcp.agents.frontend_diagnostics.session import (
    Failed,
    FrontendSession,
    execute,
    http_get,
    workspace_path,
)
from support_mcp.agents.frontend_diagnostics.texts import text
from support_mcp.agents.frontend_diagnostics.web_checks import HeadersCheck, SmokeCheck
from support_mcp.domain.errors import InvalidInput, PolicyViolation
from support_mcp.domain.models import CheckStatus, Finding
from support_mcp.domain.targets import FrontendTarget, Targets
from support_mcp.policy import host_commands, npm_commands
from support_mcp.policy.commands import Operation

MAX_PATCH_BYTES = 200_000
READY_TIMEOUT_S = 30.0  # after the restart: until the app answers HTTP again (bounded)
_DIFF_FILE = re.compile(r"^(?:---|\+\+\+) (?:[ab]/)?(?P<path>\S+)", re.MULTILINE)


def patched_files(patch: str) -> list[str]:
    """Project-relative files a unified diff touches; refuses absolute paths and `..`."""
    if not patch.strip() or len(patch.encode()) > MAX_PATCH_BYTES:
        raise InvalidInput(f"patch must be a non-empty unified diff of at most {MAX_PATCH_BYTES} bytes")
    files = []
    for m in _DIFF_FILE.finditer(patch):
        path = m["path"]
        if path == "/dev/null":
            continue
        if path.startswith("/") or ".." in path.split("/") or "\\" in path:
            raise PolicyViolation(f"patch touches {path!r}: only paths inside the project are allowed")
        files.append(path)
    if not files:
        raise InvalidInput("patch has no '--- a/…' / '+++ b/…' file headers (use `diff -u` or `git diff`)")
    return list(dict.fromkeys(files))


def restart_operation(target: FrontendTarget, targets: Targets, app: str | None = None) -> Operation | None:
    """The PM2 restart of the deployed app on its configured restart target; None without `pm2_app`.
    On a configured host (and its default PM2_HOME) it is exactly the host agent's builder."""
    if target.pm2_app is None:
        if app is not None:
            raise PolicyViolation("no PM2 app configured for the frontend (SUPPORT_MCP_FRONTEND_PM2_APP)")
        return None
    name = target.pm2_app if app is None else app
    host = next((h for h in targets.hosts if h.name == target.restart_target), None)
    if host is not None and target.pm2_home is None:
        if name != target.pm2_app:
            raise PolicyViolation(f"pm2 app {name!r} is not the configured frontend app {target.pm2_app!r}")
        return host_commands.pm2_restart(host, name)
    return npm_commands.pm2_restart(name, target.pm2_app, target=target.restart_target,
                                    pm2_home=str(target.pm2_home) if target.pm2_home else None)


class HotfixDeployRepair:
    """Apply a patch in the workspace, rebuild, lint, test, rsync the build to the deploy folder and
    restart the configured PM2 app (when `pm2_app` is set)."""

    name = "frontend.hotfix_deploy"
    agent = "frontend-diagnostics-agent"
    title = text("de", "repair.hotfix")

    def __init__(self, target: FrontendTarget | None) -> None:
        self.target = target

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        """A redeploy of the project as it is when the running build is older than its config (a
        `stale_build` finding); otherwise nothing: the fix is a diff someone (the LLM client or a
        human) writes."""
        if any(f.status == CheckStatus.FAIL and f.data.get("kind") == "stale_build" for f in findings):
            return {"redeploy": True}
        return None

    def _target(self) -> FrontendTarget:
        if self.target is None:
            raise InvalidInput("no frontend configured (SUPPORT_MCP_FRONTEND_DIR)")
        return self.target

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]:
        target = self._target()
        patch = str(params.get("patch") or "")
        redeploy = params.get("redeploy") is True and not patch.strip()
        if params.get("redeploy") not in (None, True, False):
            raise InvalidInput("param 'redeploy' must be true or false")
        if redeploy and target.deploy_dir is None:
            raise InvalidInput("a redeploy needs the deploy folder (SUPPORT_MCP_FRONTEND_DEPLOY_DIR)")
        files = [] if redeploy else patched_files(patch)
        app = params.get("app")
        if app is not None and not isinstance(app, str):
            raise InvalidInput("param 'app' must be the configured PM2 app's name")
        restart = restart_operation(target, ctx.targets, app)  # refuses any other app before anything is written
        if restart is not None and restart.target not in ctx.executors:
            raise InvalidInput(f"restart target {restart.target!r} has no executor (configured: "
                               f"{', '.join(sorted(ctx.executors))})")
        ws = workspace_path(target)
        if redeploy:
            # Nothing to change in the sources: the build of the project as it is, deployed.
            steps = [RepairStep("file", "local", text(ctx.language, "repair.redeploy", source=target.source_dir),
                                {"patch_file": None, "files": [], "redeploy": True})]
        else:
            patch_dir = ws.parent / "patches"
            patch_dir.mkdir(parents=True, exist_ok=True)
            patch_file = patch_dir / f"{hashlib.sha256(patch.encode()).hexdigest()[:16]}.patch"
            patch_file.write_text(patch, "utf-8")
            steps = [
                RepairStep("file", "local", patch, {"patch_file": str(patch_file), "files": files}),
                RepairStep("command", "local",
                           npm_commands.apply_patch(str(ws), str(patch_file), dry_run=False).display(),
                           {"operation": "patch_apply"}),
            ]
        for script in ("build", "lint", "test"):
            steps.append(RepairStep("command", "local", f"npm --prefix {ws} run {script}", {"script": script}))
        if target.deploy_dir is not None:
            op = npm_commands.deploy_rsync(str(ws), str(target.deploy_dir), dry_run=False)
            steps.append(RepairStep("rsync", "local", op.display(), {"deploy_dir": str(target.deploy_dir)}))
            if restart is not None:
                steps.append(RepairStep("command", restart.target, restart.display(),
                                        {"operation": restart.name, "argv": list(restart.argv),
                                         "app": target.pm2_app}))
        return steps

    async def _fresh_workspace(self, ctx: CheckContext, session: FrontendSession, check: str) -> Path:
        # A fresh sync from the source: the patch applies to what the project holds now.
        workspace = await session.workspace(ctx, check, self.title)
        return workspace.path

    async def dry_run(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> DryRun:
        session = FrontendSession(self._target())
        patch_file = steps[0].payload["patch_file"]
        try:
            ws = await self._fresh_workspace(ctx, session, self.name)
            if patch_file is None:  # a redeploy: what the rsync would change in the deploy folder now
                target = self._target()
                assert target.deploy_dir is not None
                result = await execute(ctx, npm_commands.deploy_rsync(str(ws), str(target.deploy_dir), dry_run=True),
                                       self.name, self.title, allow_failure=True)
            else:
                result = await execute(ctx, npm_commands.apply_patch(str(ws), patch_file, dry_run=True), self.name,
                                       self.title, allow_failure=True)
        except Failed as exc:
            return DryRun(False, exc.finding.title + "\n" + "\n".join(exc.finding.evidence),
                          await self.fingerprint(ctx, steps))
        output = [steps[0].display, "", "$ " + " ".join(result.argv), result.stdout, result.stderr, "",
                  "danach / then:", *(f"[{s.kind} @ {s.target}] {s.display}" for s in steps[1:])]
        return DryRun(result.exit_code == 0, "\n".join(output).strip(), await self.fingerprint(ctx, steps))

    async def fingerprint(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> str:
        """sha256 over the patched source files and the deployed BUILD_ID."""
        target = self._target()
        digest = hashlib.sha256()
        files = list(steps[0].payload["files"])
        if steps[0].payload.get("redeploy"):  # the config whose change the redeploy brings live
            files = [n for n in ("next.config.js", "next.config.mjs", "next.config.cjs", "next.config.ts")
                     if (target.source_dir / n).is_file()]
        for rel in files:
            path = target.source_dir / rel
            digest.update(rel.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"<missing>") + b"\0")
        if target.deploy_dir is not None:
            build_id = target.deploy_dir / ".next" / "BUILD_ID"
            digest.update(build_id.read_bytes() if build_id.is_file() else b"<no build>")
        return digest.hexdigest()

    async def apply(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> ApplyResult:
        target = self._target()
        session = FrontendSession(target)
        patch_file = steps[0].payload["patch_file"]
        out: list[str] = []
        try:
            restart = self._checked_restart(ctx, steps)
        except PolicyViolation as exc:
            return ApplyResult(False, f"nothing run, restart step refused: {exc}")
        try:
            ws = await self._fresh_workspace(ctx, session, self.name)
            if patch_file is not None:
                patch = await execute(ctx, npm_commands.apply_patch(str(ws), patch_file, dry_run=False), self.name,
                                      self.title)
                out.append(patch.stdout.strip())
        except Failed as exc:
            return ApplyResult(False, exc.finding.title)
        findings: list[Finding] = []
        for check in (BuildCheck(session), LintCheck(session), TestCheck(session)):
            findings += await check.run(ctx)
        out += [f"[{f.status}] {f.title}" for f in findings]
        if any(f.status in (CheckStatus.FAIL, CheckStatus.ERROR) for f in findings):
            return ApplyResult(False, "\n".join(out), changed=[f"workspace {ws}"])
        changed = [f"workspace {ws}: {', '.join(steps[0].payload['files']) or 'rebuilt as it is'}"]
        if target.deploy_dir is not None:
            try:
                result = await execute(ctx, npm_commands.deploy_rsync(str(ws), str(target.deploy_dir), dry_run=False),
                                       self.name, self.title)
            except Failed as exc:
                return ApplyResult(False, "\n".join([*out, exc.finding.title]), changed=changed)
            out.append(f"rsync → {target.deploy_dir}: {len(result.stdout.splitlines())} changes")
            changed.append(f"deploy {target.deploy_dir}")
            if restart is not None:
                ok, lines_ = await self._restart(ctx, session, restart)
                out += lines_
                if not ok:
                    return ApplyResult(False, "\n".join(out), changed=changed)
                changed.append(f"pm2:{target.pm2_app}@{restart.target}")
        return ApplyResult(True, "\n".join(out), changed=changed)

    def _checked_restart(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> Operation | None:
        """The plan's restart, rebuilt from the configuration; a stored step that names another app,
        argv or target than the configuration renders now is refused (it never runs as stored)."""
        stored = [s for s in steps if s.payload.get("operation") == "pm2_restart" or "pm2" in s.display.split()]
        if not stored:
            return None
        if len(stored) > 1:
            raise PolicyViolation("the plan has more than one PM2 restart step")
        step = stored[0]
        op = restart_operation(self._target(), ctx.targets, step.payload.get("app"))
        if op is None or list(op.argv) != list(step.payload.get("argv", ())) or op.target != step.target \
                or op.display() != step.display:
            raise PolicyViolation("the PM2 restart step does not match the configured app and restart target; "
                                  "draft the plan again")
        return op

    async def _restart(self, ctx: CheckContext, session: FrontendSession, op: Operation) -> tuple[bool, list[str]]:
        """The restart through the restart target's executor (on the ticket), then a bounded wait
        until the app answers HTTP again."""
        target = self._target()
        try:
            result = await execute(ctx, op, self.name, self.title)
        except Failed as exc:
            return False, [exc.finding.title, *exc.finding.evidence]
        out = [f"$ {op.display()}  (exit {result.exit_code}, {result.duration_ms:.0f} ms)"]
        if not target.base_url:
            return True, out
        url = session.page_urls()[0]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT_S
        while True:
            response = await session.http.get(url)
            if response.status is not None:
                await http_get(ctx, session.http, url)  # the answer after the restart, on the ticket
                return True, [*out, f"{url} answers again (HTTP {response.status})"]
            if loop.time() >= deadline:
                return False, [*out, f"{url} does not answer {READY_TIMEOUT_S:.0f} s after the restart: "
                                     f"{response.error}"]
            await asyncio.sleep(0.25)

    async def validate(self, ctx: CheckContext, params: dict[str, Any]) -> list[Finding]:
        """The smoke test (page answers, renders without the error, screenshot after) and the
        headers of next.config — as the workspace holds it, patch applied — against the live ones
        (a redeploy's purpose)."""
        target = self._target()
        session = FrontendSession(target, reuse_workspace=True)
        if not target.base_url:
            return await BuildCheck(session).run(ctx)
        return [*await SmokeCheck(session).run(ctx), *await HeadersCheck(session).run(ctx)]


def frontend_repairs(target: FrontendTarget | None) -> tuple[HotfixDeployRepair, ...]:
    return (HotfixDeployRepair(target),)
