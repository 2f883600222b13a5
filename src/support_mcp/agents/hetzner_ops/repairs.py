"""Repairs of the hetzner-ops-agent (playbook 3.2), each a gated plan: the dry-run shows exactly
what would run and fingerprints the state it was made against; nothing runs before the
RepairService holds an approval of the plan's hash.

- `pm2_restart`: `pm2 restart <app> --update-env`
- `caddy_reload`: `caddy validate`, then `systemctl reload caddy` (or `caddy reload` without systemd)
- `config_fix`: a file under the deploy folder (or the Caddyfile): timestamped backup, the diff,
  `git status` where a repository exists, restart/reload, restored from the backup on failure
- `deploy`: `npm install --legacy-peer-deps`, `npm run build`, `npm prune --omit=dev`, then the restart

The last two live in `file_repairs.py`; `caddy_start` and `caddy_restore` in `caddy_repairs.py`.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import hashlib
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from support_mcp.agents.base import ApplyResult, CheckContext, DryRun, RepairStep
from support_mcp.agents.hetzner_ops import checks as c
from support_mcp.agents.hetzner_ops import parsers as p
from support_mcp.agents.hetzner_ops.layout import found_host
from support_mcp.agents.hetzner_ops.paths import resolved_roots
from support_mcp.domain.errors import ExecutionError, InvalidInput
from support_mcp.domain.models import CheckStatus, Finding
from support_mcp.domain.targets import HostTarget
from support_mcp.policy import host_commands as hc
from support_mcp.policy.commands import Operation, validate_argv

AGENT = "hetzner-ops-agent"
STABLE_AFTER_S = 4.0  # an app that stays online this long after a restart is not crash-looping
SETTLE_TIMEOUT_S = 25.0
MAX_CONFIG_BYTES = 262_144
_SAFE_VALUE = re.compile(r"[A-Za-z0-9_.:/-]{1,200}")


@runtime_checkable
class FileAccess(Protocol):
    """What the SSH executor offers beyond commands: reading and writing one file (SFTP)."""

    async def read_file(self, path: str, max_bytes: int) -> bytes | None: ...

    async def write_file(self, path: str, data: bytes) -> None: ...


def config_hint(findings: Sequence[Finding]) -> dict[str, Any] | None:
    """`{path, set: {KEY: VALUE}}` when the app's own validation rejected a variable and lists the
    values it accepts (the first is proposed; the human approving sees the diff), and the env file
    that sets it is known; else `{path, set_from: {KEY: backup}}` when the app's error names a
    variable its env file lost and a backup of the file holds (the value is read from the backup).
    A variable that is missing with no value anywhere proposes nothing."""
    for finding in _bad(findings, "pm2_logs"):
        for problem in reversed(finding.data.get("env_problems") or []):
            allowed = [v for v in problem.get("allowed") or [] if _SAFE_VALUE.fullmatch(v)]
            if allowed and problem.get("path"):
                return {"path": problem["path"], "set": {problem["key"]: allowed[0]}}
    for finding in _bad(findings, "pm2_logs"):
        # a variable the app's error names that its env file lost and a backup still holds
        if restore := finding.data.get("env_restore"):
            path = restore[0]["path"]
            return {"path": path, "set_from": {r["key"]: r["backup"] for r in restore if r["path"] == path}}
    return None


def _bad(findings: Sequence[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check and f.status in (CheckStatus.WARN, CheckStatus.FAIL)]


def command_step(host: HostTarget, op: Operation) -> RepairStep:
    return RepairStep(kind="command", target=host.name, display=op.display(),
                      payload={"operation": op.name, "argv": list(op.argv), "timeout_s": op.timeout_s,
                               "env": [list(pair) for pair in op.env], "detach": op.detach})


def step_operation(step: RepairStep) -> Operation:
    """The step's operation; its argv comes back from the plan store and is validated again."""
    return Operation(name=step.payload["operation"], argv=validate_argv(step.payload["argv"]), target=step.target,
                     timeout_s=float(step.payload["timeout_s"]), writes=True,
                     env=tuple((str(k), str(v)) for k, v in step.payload.get("env", ())),  # validated again
                     detach=bool(step.payload.get("detach", False)))


def digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(x) for x in parts).encode()).hexdigest()


_ON_FOUND_HOST = ("plan", "dry_run", "apply", "validate", "fingerprint")


def _on_found_host(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Run a repair step on the host as found (PM2_HOME, the app's port and folder; layout.py)."""
    @functools.wraps(method)
    async def bound_method(self: HostRepair, ctx: CheckContext, *args: Any, **kwargs: Any) -> Any:
        if self._found:
            return await method(self, ctx, *args, **kwargs)
        bound = copy.copy(self)
        bound.host, bound._found = await found_host(ctx, self.host), True
        return await method(bound, ctx, *args, **kwargs)

    return bound_method


class HostRepair:
    """A repair on one host; its plan, dry-run, apply, validation and fingerprint see the host as
    found on it (every subclass's methods of these names are wrapped, see __init_subclass__)."""

    name = ""
    agent = AGENT
    title = ""

    def __init__(self, host: HostTarget) -> None:
        self.host = host
        self._found = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _ON_FOUND_HOST:
            if name in cls.__dict__:
                setattr(cls, name, _on_found_host(cls.__dict__[name]))

    async def _run(self, ctx: CheckContext, op: Operation) -> tuple[bool, str]:
        try:
            result = await ctx.execute(op)
        except ExecutionError as exc:
            return False, f"$ {op.display()}\n{exc}"
        out = (result.stdout + result.stderr).strip()
        return result.exit_code == 0, f"$ {op.display()}  (exit {result.exit_code}, {result.duration_ms:.0f} ms)\n{out[-2000:]}"

    async def _run_steps(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> tuple[bool, list[str]]:
        """The command steps in order, stopping at the first that fails: (all ran fine, their outputs)."""
        outputs = []
        for step in steps:
            ok, out = await self._run(ctx, step_operation(step))
            outputs.append(out)
            if not ok:
                return False, outputs
        return True, outputs

    async def _app_state(self, ctx: CheckContext) -> p.Pm2Process | None:
        result = await ctx.execute(hc.pm2_jlist(self.host))
        try:
            return next((x for x in p.parse_pm2_jlist(result.stdout) if x.name == self.host.app), None)
        except InvalidInput:
            return None

    async def _settled(self, ctx: CheckContext) -> bool:
        """After a restart: the app is online and stays online for STABLE_AFTER_S (bounded wait)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_TIMEOUT_S
        online_since: float | None = None
        while loop.time() < deadline:
            state = await self._app_state(ctx)
            if state is not None and state.status == "errored":
                return False
            if state is not None and state.status == "online":
                online_since = online_since or loop.time()
                if loop.time() - online_since >= STABLE_AFTER_S:
                    return True
            else:
                online_since = None
            await asyncio.sleep(0.5)
        return False

    async def validate(self, ctx: CheckContext, params: dict[str, Any]) -> list[Finding]:
        """Re-run the reproduction: the PM2 state and the answer through Caddy (bounded retries)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_TIMEOUT_S
        while True:
            findings = [*await c.Pm2StatusCheck(self.host).run(ctx), *await c.HttpSmokeCheck(self.host).run(ctx)]
            if all(f.status == CheckStatus.OK for f in findings) or loop.time() >= deadline:
                return findings
            await asyncio.sleep(0.5)

    async def fingerprint(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> str:
        state = await self._app_state(ctx)
        return digest(self.name, state.name if state else None, state.status if state else None)


HostRepair.validate = _on_found_host(HostRepair.validate)  # type: ignore[method-assign,assignment]
HostRepair.fingerprint = _on_found_host(HostRepair.fingerprint)  # type: ignore[method-assign,assignment]


class Pm2RestartRepair(HostRepair):
    """`pm2 restart <app> --update-env` when the app is stopped, errored or nothing serves its port."""

    name = "pm2_restart"
    title = "PM2-Neustart der App"

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        if any(f.data.get("conflict") for f in _bad(findings, "port_3000")):
            return None  # a foreign process holds the port: a restart only fails again
        if config_hint(findings) is not None:
            return None  # the config fix restarts after fixing the cause
        if any(f.data.get("missing") for f in _bad(findings, "deploy_age")):
            return None  # no build: a restart starts onto nothing (rollback or deploy instead)
        if any(f.data.get("memory_loop") for f in _bad(findings, "pm2_status")):
            return None  # PM2 restarts it over its memory limit already: one more restart changes nothing
        if any(f.data.get("no_daemon") for f in _bad(findings, "pm2_status")):
            return None  # no PM2 daemon: `pm2 restart` would start an empty one and find no app
        if _bad(findings, "pm2_status") or _bad(findings, "port_3000"):
            return {"app": self.host.app}
        return None

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]:
        return [command_step(self.host, hc.pm2_restart(self.host, params.get("app")))]

    async def dry_run(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> DryRun:
        state = await self._app_state(ctx)
        now = f"{self.host.app}: status={state.status} pid={state.pid} restarts={state.restarts}" if state else "-"
        return DryRun(ok=True, output="would run:\n" + "\n".join(s.display for s in steps) + f"\ncurrent: {now}",
                      fingerprint=await self.fingerprint(ctx, steps))

    async def apply(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> ApplyResult:
        ok, outputs = await self._run_steps(ctx, steps)
        if not ok:
            return ApplyResult(ok=False, output="\n".join(outputs))
        settled = await self._settled(ctx)
        return ApplyResult(ok=settled, output="\n".join(outputs), changed=[f"pm2:{self.host.app}"])


class CaddyReloadRepair(HostRepair):
    """`caddy validate`, then the reload; proposed when Caddy answers 502 although the app serves its port."""

    name = "caddy_reload"
    title = "Caddy-Konfiguration prüfen und neu laden"

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        app_fine = not _bad(findings, "pm2_status") and not _bad(findings, "port_3000")
        valid = any(f.check == "caddy_status" and f.data.get("valid") for f in findings)
        proxy_error = any(f.data.get("proxy_error") for f in _bad(findings, "http_smoke"))
        on_disk_wrong = bool(_bad(findings, "caddy_upstream"))  # a reload would load the wrong upstream again
        return {"unit": "caddy"} if app_fine and valid and proxy_error and not on_disk_wrong else None

    def _reload(self, systemd: bool) -> Operation:
        return hc.systemctl_reload(self.host, "caddy") if systemd else hc.caddy_reload(self.host)

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]:
        systemd = self.host.systemd if self.host.systemd is not None else await has_systemd(ctx, self.host)
        return [command_step(self.host, hc.caddy_validate(self.host)), command_step(self.host, self._reload(systemd))]

    async def dry_run(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> DryRun:
        ok, out = await self._run(ctx, hc.caddy_validate(self.host))
        lines = ["would run:", *(s.display for s in steps), "", out]
        return DryRun(ok=ok, output="\n".join(lines), fingerprint=await self.fingerprint(ctx, steps))

    async def fingerprint(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> str:
        caddyfile = (await resolved_roots(ctx, self.host)).caddyfile
        data = await file_access(ctx, self.host).read_file(caddyfile, MAX_CONFIG_BYTES)
        return digest(self.name, hashlib.sha256(data or b"").hexdigest())

    async def apply(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> ApplyResult:
        ok, outputs = await self._run_steps(ctx, steps)
        if not ok:
            return ApplyResult(ok=False, output="\n".join(outputs))
        return ApplyResult(ok=True, output="\n".join(outputs), changed=["caddy"])


def file_access(ctx: CheckContext, host: HostTarget) -> FileAccess:
    executor = ctx.executors[host.name]
    if not isinstance(executor, FileAccess):
        raise ExecutionError(f"target {host.name!r}: its executor cannot read or write files")
    return executor


async def has_systemd(ctx: CheckContext, host: HostTarget) -> bool:
    result = await ctx.execute(hc.systemctl_status(host, "caddy"))
    return p.systemd_missing(result.stdout + "\n" + result.stderr) is None
