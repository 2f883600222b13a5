"""Freeing the app port from a process that is not the app (EADDRINUSE), as a gated plan.

Ending a process is proposed only when it runs as the deploy user (the account the agent works
as); anything else is escalated. The plan names the PID and its command line; a human approves
exactly that, and `apply` refuses when that PID no longer holds the port or runs another
command line than at the dry-run (the fingerprint).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from support_mcp.agents.base import ApplyResult, CheckContext, DryRun, RepairStep
from support_mcp.agents.hetzner_ops import parsers as p
from support_mcp.agents.hetzner_ops.repairs import HostRepair, command_step, digest, step_operation
from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.models import CheckStatus, Finding
from support_mcp.policy import host_commands as hc

PORT_FREE_TIMEOUT_S = 15.0


class FreeAppPortRepair(HostRepair):
    """`kill -TERM <pid>` of the process squatting the app port, then `pm2 restart <app>`."""

    name = "free_app_port"
    title = "App-Port freigeben (fremden Prozess beenden) und App neu starten"

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        for f in findings:
            follow = f.data.get("manual_followup") if f.check == "port_3000" else None
            if f.status != CheckStatus.FAIL or not f.data.get("conflict") or not follow:
                continue
            if follow.get("pid") and follow.get("user") == self.host.user and follow.get("cmdline"):
                return {"pid": int(follow["pid"]), "cmdline": follow["cmdline"]}
        return None

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]:
        pid = int(params["pid"])
        return [command_step(self.host, hc.kill_pid(self.host, pid)),
                command_step(self.host, hc.pm2_restart(self.host))]

    async def _holder(self, ctx: CheckContext, pid: int) -> tuple[bool, str | None]:
        """Whether `pid` still listens on the app port, and its current command line."""
        listening = await ctx.execute(hc.ss_listening(self.host))
        try:
            holds = any(s.pid == pid and s.port == self.host.app_port for s in p.parse_ss(listening.stdout))
        except InvalidInput:
            holds = False
        ps = await ctx.execute(hc.process_owner_and_args(self.host, pid))
        try:
            info = p.parse_ps_user_args(ps.stdout) if ps.exit_code == 0 else None
        except InvalidInput:
            info = None
        return holds, (f"{info.user} {info.args}" if info else None)

    @staticmethod
    def _pid(steps: Sequence[RepairStep]) -> int:
        return int(steps[0].payload["argv"][-1])

    async def fingerprint(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> str:
        holds, cmdline = await self._holder(ctx, self._pid(steps))
        return digest(self.name, self._pid(steps), holds, cmdline)

    async def dry_run(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> DryRun:
        pid = self._pid(steps)
        holds, cmdline = await self._holder(ctx, pid)
        lines = ["would run:", *(s.display for s in steps), "",
                 f"PID {pid} holds port {self.host.app_port}: {'yes' if holds else 'no'}",
                 f"PID {pid} runs: {cmdline or '(gone)'}"]
        return DryRun(ok=holds and cmdline is not None, output="\n".join(lines),
                      fingerprint=digest(self.name, pid, holds, cmdline))

    async def apply(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> ApplyResult:
        outputs = []
        ok, out = await self._run(ctx, step_operation(steps[0]))
        outputs.append(out)
        if not ok:
            return ApplyResult(False, "\n".join(outputs))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PORT_FREE_TIMEOUT_S
        while (await self._holder(ctx, self._pid(steps)))[0]:
            if loop.time() >= deadline:
                return ApplyResult(False, "\n".join([*outputs, "port still held after SIGTERM; not escalated "
                                                               "to SIGKILL (a human decides)"]))
            await asyncio.sleep(0.3)
        ok, out = await self._run(ctx, step_operation(steps[1]))
        outputs.append(out)
        settled = ok and await self._settled(ctx)
        return ApplyResult(settled, "\n".join(outputs),
                           changed=[f"pid {self._pid(steps)} ended", f"pm2:{self.host.app}"])
