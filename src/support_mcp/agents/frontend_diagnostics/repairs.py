"""Playbook 4.2: a hotfix in the workspace (a unified diff the agent supplies), build, lint and tests
re-run, then the rsync of the build to the deploy folder — one plan, applied only when approved.

The restart that makes the running app load the new build is the host agent's gated PM2 restart
(`pm2_restart` of the hetzner-ops-agent, a plan of its own over SSH); this plan stops after the rsync.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from support_mcp.agents.base import ApplyResult, CheckContext, DryRun, RepairStep
from support_mcp.agents.frontend_diagnostics.checks import BuildCheck, LintCheck, TestCheck
from support_mcp.agents.frontend_diagnostics.session import Failed, FrontendSession, execute, workspace_path
from support_mcp.agents.frontend_diagnostics.texts import text
from support_mcp.agents.frontend_diagnostics.web_checks import SmokeCheck
from support_mcp.domain.errors import InvalidInput, PolicyViolation
from support_mcp.domain.models import CheckStatus, Finding
from support_mcp.domain.targets import FrontendTarget
from support_mcp.policy import npm_commands

MAX_PATCH_BYTES = 200_000
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


class HotfixDeployRepair:
    """Apply a patch in the workspace, rebuild, lint, test, and rsync the build to the deploy folder."""

    name = "frontend.hotfix_deploy"
    agent = "frontend-diagnostics-agent"
    title = text("de", "repair.hotfix")

    def __init__(self, target: FrontendTarget | None) -> None:
        self.target = target

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        """Never by itself: the fix is a diff someone (the LLM client or a human) writes."""
        return None

    def _target(self) -> FrontendTarget:
        if self.target is None:
            raise InvalidInput("no frontend configured (SUPPORT_MCP_FRONTEND_DIR)")
        return self.target

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]:
        target = self._target()
        patch = str(params.get("patch") or "")
        files = patched_files(patch)
        ws = workspace_path(target)
        patch_dir = ws.parent / "patches"
        patch_dir.mkdir(parents=True, exist_ok=True)
        patch_file = patch_dir / f"{hashlib.sha256(patch.encode()).hexdigest()[:16]}.patch"
        patch_file.write_text(patch, "utf-8")
        steps = [
            RepairStep("file", "local", patch, {"patch_file": str(patch_file), "files": files}),
            RepairStep("command", "local", npm_commands.apply_patch(str(ws), str(patch_file), dry_run=False).display(),
                       {"operation": "patch_apply"}),
        ]
        for script in ("build", "lint", "test"):
            steps.append(RepairStep("command", "local", f"npm --prefix {ws} run {script}", {"script": script}))
        if target.deploy_dir is not None:
            op = npm_commands.deploy_rsync(str(ws), str(target.deploy_dir), dry_run=False)
            steps.append(RepairStep("rsync", "local", op.display(), {"deploy_dir": str(target.deploy_dir)}))
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
            result = await execute(ctx, npm_commands.apply_patch(str(ws), patch_file, dry_run=True), self.name,
                                   self.title, allow_failure=True)
        except Failed as exc:
            return DryRun(False, exc.finding.title + "\n" + "\n".join(exc.finding.evidence),
                          await self.fingerprint(ctx, steps))
        output = [steps[0].display, "", "$ " + " ".join(result.argv), result.stdout, result.stderr]
        return DryRun(result.exit_code == 0, "\n".join(output).strip(), await self.fingerprint(ctx, steps))

    async def fingerprint(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> str:
        """sha256 over the patched source files and the deployed BUILD_ID."""
        target = self._target()
        digest = hashlib.sha256()
        for rel in steps[0].payload["files"]:
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
            ws = await self._fresh_workspace(ctx, session, self.name)
            patch = await execute(ctx, npm_commands.apply_patch(str(ws), patch_file, dry_run=False), self.name, self.title)
            out.append(patch.stdout.strip())
        except Failed as exc:
            return ApplyResult(False, exc.finding.title)
        findings: list[Finding] = []
        for check in (BuildCheck(session), LintCheck(session), TestCheck(session)):
            findings += await check.run(ctx)
        out += [f"[{f.status}] {f.title}" for f in findings]
        if any(f.status in (CheckStatus.FAIL, CheckStatus.ERROR) for f in findings):
            return ApplyResult(False, "\n".join(out), changed=[f"workspace {ws}"])
        changed = [f"workspace {ws}: {', '.join(steps[0].payload['files'])}"]
        if target.deploy_dir is not None:
            try:
                result = await execute(ctx, npm_commands.deploy_rsync(str(ws), str(target.deploy_dir), dry_run=False),
                                       self.name, self.title)
            except Failed as exc:
                return ApplyResult(False, "\n".join([*out, exc.finding.title]), changed=changed)
            out.append(f"rsync → {target.deploy_dir}: {len(result.stdout.splitlines())} changes")
            changed.append(f"deploy {target.deploy_dir}")
        return ApplyResult(True, "\n".join(out), changed=changed)

    async def validate(self, ctx: CheckContext, params: dict[str, Any]) -> list[Finding]:
        """The smoke test (page answers, renders without the error, screenshot after)."""
        target = self._target()
        session = FrontendSession(target)
        if not target.base_url:
            return await BuildCheck(session).run(ctx)
        return await SmokeCheck(session).run(ctx)


def frontend_repairs(target: FrontendTarget | None) -> tuple[HotfixDeployRepair, ...]:
    return (HotfixDeployRepair(target),)
