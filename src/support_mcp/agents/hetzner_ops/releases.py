"""Release folders (`current → releases/<stamp>`, as Capistrano, Deployer or a CI script lay them
out): when the release the app runs from has no build (`next build` failed mid-deploy), the
release before it that has one is the rollback (playbook 3.2: never restart onto no build).

Nothing about the layout is assumed: the app folder is PM2's cwd (a link, else no release
layout), the releases are the folders beside the one it resolves to, newest by name first, and a
release counts only when its `.next/BUILD_ID` exists. `rollback` points the link at that release
(`ln -sfn`) and restarts the app; it puts the link back when the app does not come up.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from support_mcp.agents.base import ApplyResult, CheckContext, DryRun, RepairStep
from support_mcp.agents.hetzner_ops.paths import resolved_path
from support_mcp.agents.hetzner_ops.repairs import HostRepair, _bad, command_step, digest, step_operation
from support_mcp.domain.errors import ExecutionError, InvalidInput, PolicyViolation
from support_mcp.domain.models import Finding
from support_mcp.domain.targets import HostTarget
from support_mcp.policy import host_commands as hc

MAX_RELEASES_TRIED = 3


@dataclass(frozen=True)
class Release:
    """`path` (a release folder with a build) to go back to from `current` (where `link` points now)."""

    link: str
    current: str
    path: str
    build_stat: str

    def as_data(self) -> dict[str, str]:
        return {"link": self.link, "current": self.current, "path": self.path, "build_stat": self.build_stat}


async def _build_stat(ctx: CheckContext, host: HostTarget, release: str) -> str | None:
    """`stat` of `<release>/.next/BUILD_ID`, None when it has no build."""
    try:
        result = await ctx.execute(hc.file_stat(host, posixpath.join(release, ".next", "BUILD_ID")))
    except (PolicyViolation, ExecutionError):
        return None
    return result.stdout.strip() if result.exit_code == 0 else None


async def previous_release(ctx: CheckContext, host: HostTarget) -> Release | None:
    """The newest release older than the current one that has a build (None: no release layout,
    or none has a build)."""
    if host.app_dir is None:
        return None
    link = str(host.app_dir)
    try:
        current, roots = await resolved_path(ctx, host, link)
        if current.rstrip("/") == link.rstrip("/"):
            return None  # the app folder is no link: no releases to switch between
        listing = await ctx.execute(hc.folder_listing(host, posixpath.dirname(current), roots))
    except (PolicyViolation, ExecutionError):
        return None
    if listing.exit_code != 0:
        return None
    name = posixpath.basename(current)
    older = sorted((entry.strip() for entry in listing.stdout.splitlines()
                    if entry.strip() and not entry.startswith(".") and entry.strip() < name), reverse=True)
    for entry in older[:MAX_RELEASES_TRIED]:
        release = posixpath.join(posixpath.dirname(current), entry)
        if (stat := await _build_stat(ctx, host, release)) is not None:
            return Release(link, current, release, stat)
    return None


class RollbackRepair(HostRepair):
    """Point the app's release link at the previous release that has a build, restart the app."""

    name = "rollback"
    title = "Auf das vorige Release mit Build zurückschalten"

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        for finding in _bad(findings, "deploy_age"):
            if finding.data.get("missing") and (release := finding.data.get("previous_release")):
                return {"release": release["path"], "from": release["current"]}
        return None

    async def _where(self, ctx: CheckContext) -> str:
        if self.host.app_dir is None:
            raise InvalidInput("rollback: the app folder (PM2's cwd) is not known on this host")
        current, _ = await resolved_path(ctx, self.host, str(self.host.app_dir))
        return current

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]:
        release, before = str(params.get("release") or ""), str(params.get("from") or "")
        if not release.startswith("/") or not before.startswith("/"):
            raise InvalidInput("rollback needs `release` (the folder to switch to) and `from` (the current one)")
        current = await self._where(ctx)
        if current != before:
            raise InvalidInput(f"rollback: {self.host.app_dir} points at {current} now, not {before}")
        if posixpath.dirname(release) != posixpath.dirname(current) or release == current:
            raise PolicyViolation(f"rollback: {release} is no other release beside {current}")
        _, roots = await resolved_path(ctx, self.host, release)
        switch = command_step(self.host, hc.switch_release(self.host, release, roots))
        back = hc.switch_release(self.host, current, roots)
        switch = RepairStep(kind=switch.kind, target=switch.target, display=switch.display,
                            payload={**switch.payload, "undo_argv": list(back.argv), "release": release,
                                     "from": current})
        return [switch, command_step(self.host, hc.pm2_restart(self.host))]

    async def dry_run(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> DryRun:
        release = steps[0].payload["release"]
        stat = await _build_stat(ctx, self.host, release)
        current = await self._where(ctx)
        out = ["would run:", *(f"  {s.display}" for s in steps), "",
               f"{self.host.app_dir} -> {current} (no build)", f"{release}: build {stat or 'missing'}"]
        ok = stat is not None and current == steps[0].payload["from"]
        return DryRun(ok=ok, output="\n".join(out), fingerprint=await self.fingerprint(ctx, steps))

    async def fingerprint(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> str:
        release = steps[0].payload["release"]
        return digest(self.name, await self._where(ctx), release, await _build_stat(ctx, self.host, release))

    async def apply(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> ApplyResult:
        ok, outputs = await self._run_steps(ctx, steps)
        if ok and await self._settled(ctx):
            return ApplyResult(ok=True, output="\n".join(outputs), changed=[str(self.host.app_dir), f"pm2:{self.host.app}"])
        # the app did not come up on the release: the link goes back to where it pointed
        switch = steps[0]
        undo = step_operation(RepairStep(kind="command", target=switch.target, display="",
                                         payload={**switch.payload, "argv": switch.payload["undo_argv"]}))
        for op in (undo, hc.pm2_restart(self.host)):
            _, out = await self._run(ctx, op)
            outputs.append(out)
        return ApplyResult(ok=False, output="\n".join(outputs))

    # validate: the base one (PM2 online, 200 through Caddy). deploy_age would call the older
    # build "stale" against the failed deployment: that is what a rollback leaves, and says so.
