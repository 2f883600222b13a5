"""Checks of the hetzner-ops-agent (playbook 3.1) on one configured HostTarget over SSH.

PM2 process state and restart loops, error lines of the app's logs with their timestamps, the
journal where systemd runs (else the reason why PM2/Caddy logs stand in), who listens on the app
port, Caddy's configuration and service, the answer through Caddy, firewall rules and the age of
the deployed build against the last deployment event. A failed probe is a Finding (`error`).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from support_mcp.agents.base import Check, CheckContext
from support_mcp.agents.hetzner_ops import parsers as p
from support_mcp.agents.hetzner_ops.layout import app_layout, found_host
from support_mcp.agents.hetzner_ops.paths import resolved_path
from support_mcp.agents.hetzner_ops.texts import text
from support_mcp.domain.errors import ExecutionError, InvalidInput, PolicyViolation
from support_mcp.domain.models import CheckStatus, Finding, Language
from support_mcp.domain.targets import HostTarget
from support_mcp.executors.base import CommandResult
from support_mcp.policy import host_commands as hc
from support_mcp.policy.commands import Operation

RESTART_LOOP_MIN_RESTARTS = 3
MEMORY_LOOP_MIN_RESTARTS = 2  # restarts over max_memory_restart since the last start by hand
LOG_LINES = 200
JOURNAL_SINCE_MIN = 30
CADDY_JOURNAL_SINCE_MIN = 15
HTTP_TIMEOUT_S = 10.0
MAX_BACKUPS_TRIED = 5  # newest first; an older backup than this is not a restore candidate
_EVIDENCE = 20


def _lines(output: str) -> list[str]:
    return [ln.rstrip() for ln in output.splitlines() if ln.strip()][:_EVIDENCE]


def _when(stamp: datetime | None) -> str:
    return stamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if stamp else "?"


class _OpsCheck:
    """Shared plumbing: the host, running an operation, turning failed probes into findings."""

    name = ""
    title = ""
    tools: Sequence[str] = ()
    _title_key = ""

    def __init__(self, host: HostTarget) -> None:
        self.host = host

    def title_for(self, language: Language) -> str:
        return text(language, self._title_key)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        """The check on the host as found (PM2_HOME, the app's port and folder; see layout.py)."""
        bound = copy.copy(self)
        bound.host = await found_host(ctx, self.host)
        return await bound.check(ctx)

    async def check(self, ctx: CheckContext) -> list[Finding]:
        raise NotImplementedError

    async def _execute(self, ctx: CheckContext, op: Operation, *, allow_fail: bool = False) -> CommandResult | Finding:
        title = self.title_for(ctx.language)
        try:
            result = await ctx.execute(op)
        except ExecutionError as exc:
            return self._finding(CheckStatus.ERROR, text(ctx.language, "error.start", title=title), op, [str(exc)])
        if result.timed_out:
            return self._finding(CheckStatus.ERROR, text(ctx.language, "error.timeout", title=title,
                                                         seconds=int(op.timeout_s)), op, _lines(result.stderr))
        if result.exit_code != 0 and not allow_fail:
            return self._finding(CheckStatus.ERROR, text(ctx.language, "error.exit", title=title,
                                                         code=result.exit_code), op,
                                 _lines(result.stderr) or _lines(result.stdout), {"exit_code": result.exit_code})
        return result

    def _parse_error(self, ctx: CheckContext, op: Operation, result: CommandResult, exc: InvalidInput) -> Finding:
        return self._finding(CheckStatus.ERROR, text(ctx.language, "error.parse", title=self.title_for(ctx.language)),
                             op, [str(exc), *_lines(result.stdout)[:5]])

    def _finding(self, status: CheckStatus, title: str, op: Operation | None, evidence: list[str],
                 data: dict[str, Any] | None = None, detail: str | None = None) -> Finding:
        base: dict[str, Any] = {"target": self.host.name}
        if op is not None:
            base["command"] = list(op.argv)
        return Finding(check=self.name, status=status, title=title,
                       detail=detail if detail is not None else (op.display() if op else ""),
                       evidence=evidence[:_EVIDENCE], data={**base, **(data or {})})


class Pm2StatusCheck(_OpsCheck):
    """`pm2 jlist`: is the app online, stopped, errored, or restarting in a loop?"""

    name = "pm2_status"
    _title_key = "pm2_status.title"
    title = "PM2-Prozess der App"
    tools: Sequence[str] = ("pm2",)

    async def check(self, ctx: CheckContext) -> list[Finding]:
        lang, op = ctx.language, hc.pm2_jlist(self.host)
        if (layout := await app_layout(ctx, self.host)).no_daemon:
            return [self._finding(CheckStatus.FAIL, text(lang, "pm2_status.no_daemon", user=self.host.user,
                                                         app=self.host.app), hc.unix_listeners(self.host),
                                  list(layout.notes), {"app": self.host.app, "no_daemon": True, "status": None})]
        result = await self._execute(ctx, op)
        if isinstance(result, Finding):
            return [result]
        try:
            processes = p.parse_pm2_jlist(result.stdout)
        except InvalidInput as exc:
            return [self._parse_error(ctx, op, result, exc)]
        app = next((proc for proc in processes if proc.name == self.host.app), None)
        if app is None:
            return [self._finding(CheckStatus.FAIL, text(lang, "pm2_status.missing", app=self.host.app), op,
                                  [f"pm2 apps: {', '.join(x.name for x in processes) or '-'}"])]
        layout = await app_layout(ctx, self.host)
        data = {"app": app.name, "status": app.status, "pid": app.pid, "restarts": app.restarts,
                "unstable_restarts": app.unstable_restarts, "exit_code": app.exit_code, "port": app.port,
                "started_at": app.started_at.isoformat() if app.started_at else None,
                # where the app runs, as found on the host (nothing assumed; layout.py)
                "layout": {"pm2_home": str(self.host.pm2_home) if self.host.pm2_home else None,
                           "app_dir": str(self.host.app_dir) if self.host.app_dir else None,
                           "port": self.host.app_port, "sources": layout.sources, "other_apps": list(layout.others),
                           "out_log": app.out_log, "err_log": app.err_log}}
        evidence = [f"{app.name}: status={app.status} pid={app.pid} restarts={app.restarts} "
                    f"unstable_restarts={app.unstable_restarts} exit_code={app.exit_code}", *layout.evidence()]
        detail = text(lang, "pm2_status.detail", restarts=app.restarts, unstable=app.unstable_restarts,
                      since=_when(app.started_at))
        # PM2's counters survive manual restarts, so only a process that is not up is looping; an
        # online app that restarted recently is reported with its counters but not judged.
        looping = app.restarts >= RESTART_LOOP_MIN_RESTARTS and app.status in ("errored", "waiting restart",
                                                                                "launching")
        if app.max_memory_restart and (memory := await self._memory_restarts(ctx, app)) is not None:
            data.update({"memory": app.memory, "max_memory_restart": app.max_memory_restart,
                         "memory_restarts": memory.count})
            if memory.count >= MEMORY_LOOP_MIN_RESTARTS:
                # a leak: PM2 kills the app over its limit again and again. A restart cannot help and
                # a higher limit only delays it; a human decides (the evidence is on the ticket).
                data["memory_loop"] = True
                title = text(lang, "pm2_status.memory_loop", app=app.name, count=memory.count,
                             memory=_mib(memory.memory), limit=_mib(app.max_memory_restart), now=_mib(app.memory))
                return [self._finding(CheckStatus.FAIL, title, hc.pm2_daemon_log(self.host),
                                      [*evidence, memory.last_line or ""], data, detail)]
        if app.status == "online":
            title = text(lang, "pm2_status.online", app=app.name, pid=app.pid, restarts=app.restarts)
            return [self._finding(CheckStatus.OK, title, op, evidence, data, detail)]
        if looping:
            title = text(lang, "pm2_status.loop", app=app.name, restarts=app.restarts, status=app.status)
            data["restart_loop"] = True
            status = CheckStatus.FAIL if app.status != "online" else CheckStatus.WARN
            return [self._finding(status, title, op, evidence, data, detail)]
        title = text(lang, "pm2_status.down", app=app.name, status=app.status, exit_code=app.exit_code)
        return [self._finding(CheckStatus.FAIL, title, op, evidence, data, detail)]


    async def _memory_restarts(self, ctx: CheckContext, app: p.Pm2Process) -> p.MemoryRestarts | None:
        """PM2's restarts of the app over its memory limit, from PM2's own log (None: unreadable)."""
        result = await self._execute(ctx, hc.pm2_daemon_log(self.host), allow_fail=True)
        if isinstance(result, Finding) or result.exit_code != 0:
            return None
        return p.memory_restarts(result.stdout, app.pm_id, app.name)


def _mib(value: int | None) -> str:
    return f"{value / 1048576:.0f} MiB" if value is not None else "?"


class Pm2LogsCheck(_OpsCheck):
    """`pm2 logs <app> --lines 200 --nostream`: error lines (not stack frames) with their timestamps,
    wherever the ecosystem file puts the log files; and the variables the app's own start-up
    validation rejected, with the env file that sets them (`env_problems`, what config_fix needs)."""

    name = "pm2_logs"
    _title_key = "pm2_logs.title"
    title = "PM2-Logs der App"
    tools: Sequence[str] = ("pm2",)

    async def check(self, ctx: CheckContext) -> list[Finding]:
        lang, op = ctx.language, hc.pm2_logs(self.host, lines=LOG_LINES)
        if (await app_layout(ctx, self.host)).no_daemon:
            return [self._finding(CheckStatus.SKIPPED, text(lang, "pm2_logs.no_daemon", user=self.host.user), None,
                                  [])]
        result = await self._execute(ctx, op)
        if isinstance(result, Finding):
            return [result]
        app = (await app_layout(ctx, self.host)).process
        try:
            lines = p.parse_pm2_logs(result.stdout, err_logs=frozenset({app.err_log} if app and app.err_log else ()),
                                     out_logs=frozenset({app.out_log} if app and app.out_log else ()))
        except InvalidInput as exc:
            return [self._parse_error(ctx, op, result, exc)]
        errors = p.error_lines(lines)
        problems = await self._env_problems(ctx, lines, app)
        restore = await self._env_restore(ctx, errors, app) if errors and not problems else []
        if not errors and not problems:
            return [self._finding(CheckStatus.OK, text(lang, "pm2_logs.clean", lines=len(lines)), op,
                                  [ln.line for ln in lines[-5:]], {"lines": len(lines), "errors": []})]
        data: dict[str, Any] = {
            "lines": len(lines), "env_problems": problems, "env_restore": [r.as_data() for r in restore],
            "env_changed": bool(restore),
            "errors": [{"timestamp": e.timestamp.isoformat() if e.timestamp else None, "stream": e.stream,
                        "message": e.message} for e in errors[-10:]]}
        last = errors[-1] if errors else None
        title = text(lang, "pm2_logs.errors", count=len(errors), lines=len(lines),
                     when=_when(last.timestamp if last else None),
                     message=(last.message if last else problems[-1]["line"])[:200])
        evidence = [e.line for e in errors[-10:]] + [f"{x['key']}: {x['line']}" for x in problems]
        evidence += [text(lang, f"pm2_logs.env_{r.state}", name=r.key, path=r.path, backup=r.backup) for r in restore]
        detail = "\n".join([op.display(), *evidence[len(evidence) - len(restore):]]) if restore else None
        return [self._finding(CheckStatus.WARN, title, op, evidence, data, detail)]

    async def _env_restore(self, ctx: CheckContext, errors: list[p.LogLine],
                           app: p.Pm2Process | None) -> list[Any]:
        """Variables the app's errors name that its env file lost and a backup of it still holds."""
        from support_mcp.agents.hetzner_ops.env_files import restorable  # env_files imports repairs

        if app is None:
            return []
        return await restorable(ctx, self.host, [e.message for e in errors[-10:]], app.env_file_candidates())

    async def _env_problems(self, ctx: CheckContext, lines: list[p.LogLine],
                            app: p.Pm2Process | None) -> list[dict[str, Any]]:
        """Rejected variables, each with the env file that sets it: the one the app names, else the
        first of the files a Next.js app in PM2's cwd reads (`.env.production.local`, `.env.local`,
        `.env.production`, `.env`) that has the variable, else the first that exists."""
        problems = p.env_problems([ln.message for ln in lines])
        out = []
        for problem in problems:
            path = problem.path or await self._env_file(ctx, problem.key, app)
            out.append({"key": problem.key, "got": problem.got, "allowed": list(problem.allowed), "path": path,
                        "line": problem.line})
        return out

    async def _env_file(self, ctx: CheckContext, key: str, app: p.Pm2Process | None) -> str | None:
        from support_mcp.agents.hetzner_ops.repairs import (  # repairs import checks
            MAX_CONFIG_BYTES,
            file_access,
        )

        existing = []
        for candidate in app.env_file_candidates() if app else ():
            try:
                real, _ = await resolved_path(ctx, self.host, candidate)
                data = await file_access(ctx, self.host).read_file(real, MAX_CONFIG_BYTES)
            except (PolicyViolation, ExecutionError):
                continue
            if data is None:
                continue
            existing.append(candidate)
            if any(ln.split("=", 1)[0].strip() == key for ln in data.decode("utf-8", "replace").splitlines()):
                return candidate
        return existing[0] if existing else None


class JournalCheck(_OpsCheck):
    """`journalctl -u <app>` (30 min) and `-u caddy` (15 min); without systemd: skipped, with why."""

    name = "journal"
    _title_key = "journal.title"
    title = "Journal (journalctl)"
    tools: Sequence[str] = ("journalctl",)

    async def check(self, ctx: CheckContext) -> list[Finding]:
        lang = ctx.language
        findings = []
        for unit, since in ((self.host.app, JOURNAL_SINCE_MIN), ("caddy", CADDY_JOURNAL_SINCE_MIN)):
            if unit not in self.host.units:
                continue
            op = hc.journalctl(self.host, unit, since)
            result = await self._execute(ctx, op, allow_fail=True)
            if isinstance(result, Finding):
                return [result]
            reason = p.systemd_missing(result.stdout + "\n" + result.stderr) if self.host.systemd is not True else None
            if reason or self.host.systemd is False:
                reason = reason or "systemd disabled for this host"
                return [self._finding(CheckStatus.SKIPPED, text(lang, "journal.no_systemd", reason=reason), op,
                                      [reason], {"systemd": False, "fallback": ["pm2_logs", "caddy_status"]})]
            try:
                entries = p.parse_journalctl(result.stdout)
            except InvalidInput as exc:
                return [self._parse_error(ctx, op, result, exc)]
            errors = p.error_lines(entries)
            key = "journal.errors" if errors else "journal.clean"
            findings.append(self._finding(CheckStatus.WARN if errors else CheckStatus.OK,
                                          text(lang, key, count=len(errors), unit=unit, since=since), op,
                                          [e.line for e in errors[-10:]], {"unit": unit, "errors": len(errors)}))
        return findings


class AppPortCheck(_OpsCheck):
    """`ss -tulpen` and `pm2 jlist`: is the app port served by the PM2 app, by another process, or by none?"""

    name = "port_3000"
    _title_key = "port.title"
    title = "App-Port"
    tools: Sequence[str] = ("ss", "pm2")

    async def check(self, ctx: CheckContext) -> list[Finding]:
        lang, port, op = ctx.language, self.host.app_port, hc.ss_listening(self.host)
        result = await self._execute(ctx, op)
        if isinstance(result, Finding):
            return [result]
        try:
            listeners = [s for s in p.parse_ss(result.stdout) if s.port == port and s.netid == "tcp"]
        except InvalidInput as exc:
            return [self._parse_error(ctx, op, result, exc)]
        evidence = [result.stdout.splitlines()[0], *(s.line for s in listeners)]
        data: dict[str, Any] = {"port": port, "listeners": [{"pid": s.pid, "process": s.process,
                                                              "address": s.address} for s in listeners]}
        if not listeners:
            return [self._finding(CheckStatus.FAIL, text(lang, "port.free", port=port), op, evidence, data)]
        app_pid = await self._app_pid(ctx)
        holder = listeners[0]
        if app_pid and any(s.pid == app_pid for s in listeners):
            return [self._finding(CheckStatus.OK, text(lang, "port.app", port=port, app=self.host.app, pid=app_pid),
                                  op, evidence, data)]
        data["conflict"] = True
        title = text(lang, "port.conflict", port=port, process=holder.process or "?", pid=holder.pid or "?",
                     app=self.host.app)
        owner = await self._owner(ctx, holder.pid) if holder.pid else None
        cmdline = owner.args if owner else None
        if owner:
            evidence.append(f"ps -p {holder.pid}: user={owner.user} {owner.args}")
        # Ending a process we did not start is a human's decision: the finding says who holds the
        # port and the exact commands, and the run hands it over instead of proposing a repair.
        commands = [f"kill {holder.pid}" if holder.pid else f"ss -tulpen  # PID of port {port}",
                    hc.pm2_restart(self.host).display()]
        data["cmdline"] = cmdline
        data["manual_followup"] = {"pid": holder.pid, "process": holder.process, "cmdline": cmdline,
                                   "user": owner.user if owner else None, "commands": commands}
        detail = text(lang, "port.conflict_manual", pid=holder.pid or "?", process=holder.process or "?",
                      cmdline=cmdline or "?", commands=" && ".join(commands))
        return [self._finding(CheckStatus.FAIL, title, op, evidence, data, detail)]

    async def _owner(self, ctx: CheckContext, pid: int) -> p.ProcessInfo | None:
        """Who runs the process holding the port, with its command line (None when ps cannot say)."""
        result = await self._execute(ctx, hc.process_owner_and_args(self.host, pid), allow_fail=True)
        if isinstance(result, Finding) or result.exit_code != 0:
            return None
        try:
            return p.parse_ps_user_args(result.stdout)
        except InvalidInput:
            return None

    async def _app_pid(self, ctx: CheckContext) -> int | None:
        if (await app_layout(ctx, self.host)).no_daemon:
            return None  # pm2 would start an empty daemon
        result = await self._execute(ctx, hc.pm2_jlist(self.host))
        if isinstance(result, Finding):
            return None
        try:
            processes = p.parse_pm2_jlist(result.stdout)
        except InvalidInput:
            return None
        return next((x.pid for x in processes if x.name == self.host.app and x.status == "online"), None)


class CaddyCheck(_OpsCheck):
    """`systemctl status caddy` where systemd runs, and `caddy validate` of the configured Caddyfile."""

    name = "caddy_status"
    _title_key = "caddy.title"
    title = "Caddy (Reverse Proxy)"
    tools: Sequence[str] = ("systemctl", "caddy")

    async def check(self, ctx: CheckContext) -> list[Finding]:
        lang = ctx.language
        findings: list[Finding] = []
        service = ""
        if self.host.systemd is not False and "caddy" in self.host.units:
            op = hc.systemctl_status(self.host, "caddy")
            result = await self._execute(ctx, op, allow_fail=True)
            if isinstance(result, Finding):
                return [result]
            reason = p.systemd_missing(result.stdout + "\n" + result.stderr)
            if reason:
                service = "; " + text(lang, "caddy.no_systemd", reason=reason)
            else:
                try:
                    unit = p.parse_systemctl_status(result.stdout)
                except InvalidInput as exc:
                    return [self._parse_error(ctx, op, result, exc)]
                if unit.active != "active":
                    findings.append(self._finding(
                        CheckStatus.FAIL, text(lang, "caddy.service_down", state=f"{unit.active} ({unit.sub})"), op,
                        list(unit.log_lines), {"active": unit.active, "sub": unit.sub}))
                service = f" ({unit.active}, {unit.sub})"
        op = hc.caddy_validate(self.host)
        result = await self._execute(ctx, op, allow_fail=True)
        if isinstance(result, Finding):
            return [*findings, result]
        try:
            validation = p.parse_caddy_validate(result.stdout + "\n" + result.stderr, result.exit_code)
        except InvalidInput as exc:
            return [*findings, self._parse_error(ctx, op, result, exc)]
        if validation.valid:
            findings.append(self._finding(CheckStatus.OK, text(lang, "caddy.valid", service=service), op,
                                          ["Valid configuration"], {"valid": True, "systemd": not service.startswith(";")}))
            return findings
        backup, tried = await self.last_valid_backup(ctx)
        evidence = [validation.error or "", *(f"{path}: {'valid' if ok else 'invalid'}" for path, ok in tried)]
        detail = text(lang, "caddy.backup_valid", backup=backup) if backup else \
            text(lang, "caddy.no_valid_backup", count=len(tried))
        findings.insert(0, self._finding(CheckStatus.FAIL, text(lang, "caddy.invalid", error=validation.error), op,
                                         evidence, {"valid": False, "last_valid_backup": backup,
                                                    "backups_tried": [path for path, _ in tried]}, detail))
        return findings

    async def last_valid_backup(self, ctx: CheckContext) -> tuple[str | None, list[tuple[str, bool]]]:
        """The newest `<Caddyfile>.bak-<ts>` that passes `caddy validate` (and what was tried)."""
        listing = await self._execute(ctx, hc.caddy_dir_listing(self.host), allow_fail=True)
        if isinstance(listing, Finding) or listing.exit_code != 0:
            return None, []
        tried: list[tuple[str, bool]] = []
        for path in p.file_backups(listing.stdout, str(self.host.caddyfile))[:MAX_BACKUPS_TRIED]:
            result = await self._execute(ctx, hc.caddy_validate(self.host, path), allow_fail=True)
            if isinstance(result, Finding):
                continue
            try:
                ok = p.parse_caddy_validate(result.stdout + "\n" + result.stderr, result.exit_code).valid
            except InvalidInput:
                ok = False
            tried.append((path, ok))
            if ok:
                return path, tried
        return None, tried


class HttpSmokeCheck(_OpsCheck):
    """GET of the public URL through Caddy: 200 ok; 502/503/504 the app behind it is down; no
    connection: Caddy itself is down."""

    name = "http_smoke"
    _title_key = "smoke.title"
    title = "Erreichbarkeit über Caddy"
    tools: Sequence[str] = ("http",)

    async def check(self, ctx: CheckContext) -> list[Finding]:
        lang, url = ctx.language, self.host.public_url
        if not url:
            return [self._finding(CheckStatus.SKIPPED, text(lang, "smoke.no_url"), None, [])]
        op = Operation(name="http_get", argv=("GET", url), target=self.host.name, timeout_s=HTTP_TIMEOUT_S)
        started, clock = datetime.now(UTC), time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, follow_redirects=False) as client:
                response = await client.get(url)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
            await self._record(ctx, op, None, "", error, started, clock)
            return [self._finding(CheckStatus.FAIL, text(lang, "smoke.down", url=url, error=error), op,
                                  [error], {"url": url, "status": None, "caddy_down": True}, f"GET {url}")]
        status_code, body = response.status_code, response.text[:200]
        await self._record(ctx, op, status_code, f"HTTP {status_code} {response.reason_phrase}\n{body}", "",
                           started, clock)
        data = {"url": url, "status": status_code, "server": response.headers.get("server")}
        evidence = [f"GET {url} -> {status_code}", body.strip()]
        if status_code < 400:
            return [self._finding(CheckStatus.OK, text(lang, "smoke.ok", url=url, status=status_code), op,
                                  evidence, data, f"GET {url}")]
        if status_code in (502, 503, 504):
            data["proxy_error"] = True
            return [self._finding(CheckStatus.FAIL, text(lang, "smoke.proxy_error", url=url, status=status_code),
                                  op, evidence, data, f"GET {url}")]
        return [self._finding(CheckStatus.WARN, text(lang, "smoke.unexpected", url=url, status=status_code), op,
                              evidence, data, f"GET {url}")]

    @staticmethod
    async def _record(ctx: CheckContext, op: Operation, status: int | None, stdout: str, stderr: str,
                      started: datetime, clock: float) -> None:
        """The GET on the ticket like a command (exit code 0 for an answer below 400)."""
        await ctx.record(ctx.agent, op, CommandResult(
            target=op.target, argv=op.argv, exit_code=0 if status is not None and status < 400 else 1, stdout=stdout,
            stderr=stderr, duration_ms=(time.monotonic() - clock) * 1000.0, started_at=started))


class FirewallCheck(_OpsCheck):
    """`ufw status verbose`, else `nft list ruleset`: which rules name the app port (info for Tier 2)."""

    name = "firewall"
    _title_key = "firewall.title"
    title = "Firewall"
    tools: Sequence[str] = ("ufw", "nft")

    async def check(self, ctx: CheckContext) -> list[Finding]:
        lang, port = ctx.language, self.host.app_port
        reasons: list[str] = []
        for op, parse in ((hc.ufw_status(self.host), p.parse_ufw_status), (hc.nft_ruleset(self.host), p.parse_nft_ruleset)):
            result = await self._execute(ctx, op, allow_fail=True)
            if isinstance(result, Finding):
                reasons.extend(result.evidence)
                continue
            if result.exit_code != 0:
                reasons.append(f"{op.display()}: exit {result.exit_code}: {' '.join(_lines(result.stderr))[:200]}")
                continue
            try:
                rules = parse(result.stdout, port)
            except InvalidInput as exc:
                reasons.append(str(exc))
                continue
            title = text(lang, "firewall.rules", tool=rules.tool, state="aktiv" if rules.active and lang == "de"
                         else "active" if rules.active else "inaktiv" if lang == "de" else "inactive",
                         default=rules.default_incoming or "-", port=port, rules=", ".join(rules.rules_for_port) or "-")
            return [self._finding(CheckStatus.OK, title, op, list(rules.rules_for_port),
                                  {"tool": rules.tool, "active": rules.active, "rules": list(rules.rules_for_port)})]
        return [self._finding(CheckStatus.SKIPPED, text(lang, "firewall.none"), None, reasons)]


class DeployAgeCheck(_OpsCheck):
    """`.next/BUILD_ID` modification time against the newest `deployment` event."""

    name = "deploy_age"
    _title_key = "deploy.title"
    title = "Deploy-Stand (.next/BUILD_ID)"
    tools: Sequence[str] = ("stat", "cat")

    async def check(self, ctx: CheckContext) -> list[Finding]:
        lang, op = ctx.language, hc.build_id_stat(self.host)
        if self.host.app_dir is None and (await app_layout(ctx, self.host)).no_daemon:
            # no PM2 to say where the app runs, and the configuration does not say either
            return [self._finding(CheckStatus.SKIPPED, text(lang, "deploy.no_app_dir", user=self.host.user), None, [])]
        try:  # BUILD_ID (or a folder above it) may be a link out of the deploy folder: then nothing is read
            await resolved_path(ctx, self.host, hc.build_id_path(self.host))
        except PolicyViolation as exc:
            return [self._finding(CheckStatus.FAIL, text(lang, "deploy.link_outside", reason=str(exc)), None,
                                  [str(exc)], {"link_outside": True})]
        except ExecutionError:
            pass  # an executor that cannot resolve paths (local host basics): stat/cat judge the path as text
        result = await self._execute(ctx, op, allow_fail=True)
        if isinstance(result, Finding):
            return [result]
        if result.exit_code != 0:
            from support_mcp.agents.hetzner_ops.releases import previous_release  # releases imports repairs

            data: dict[str, Any] = {"missing": True}
            evidence, detail = _lines(result.stderr), None
            if release := await previous_release(ctx, self.host):
                data["previous_release"] = release.as_data()
                detail = text(lang, "deploy.previous_release", link=release.link, current=release.current,
                              release=release.path, stat=release.build_stat)
                evidence.append(detail)
            return [self._finding(CheckStatus.FAIL, text(lang, "deploy.missing", path=hc.build_id_path(self.host)), op,
                                  evidence, data, detail)]
        try:
            stat = p.parse_stat(result.stdout)
        except InvalidInput as exc:
            return [self._parse_error(ctx, op, result, exc)]
        read = await self._execute(ctx, hc.build_id_read(self.host))
        build = "?"
        if not isinstance(read, Finding):
            try:
                build = p.parse_build_id(read.stdout)
            except InvalidInput:
                build = "?"
        # Each deployment at the time it happened (a CI report's time, not when it was written).
        deployments = sorted(await ctx.deploy_events() if ctx.deploy_events else [], key=lambda d: d.deployed_at)
        data = {"build_id": build, "built_at": stat.modified_at.isoformat()}
        evidence = [result.stdout.strip()]
        if not deployments:
            return [self._finding(CheckStatus.OK, text(lang, "deploy.no_events", build=build,
                                                       built=_when(stat.modified_at)), op, evidence, data)]
        last = deployments[-1]
        data.update(deployed_at=last.deployed_at.isoformat(), deploy_event_id=str(last.id),
                    age_s=round((last.deployed_at - stat.modified_at).total_seconds()))
        evidence.append(f"{last.source} {last.id}: deployment {last.status} at {_when(last.deployed_at)} "
                        f"{last.payload}")
        values = {"build": build, "built": _when(stat.modified_at), "deployed": _when(last.deployed_at)}
        if stat.modified_at < last.deployed_at:
            data["stale"] = True
            return [self._finding(CheckStatus.FAIL, text(lang, "deploy.stale", **values), op, evidence, data)]
        return [self._finding(CheckStatus.OK, text(lang, "deploy.current", **values), op, evidence, data)]


def hetzner_checks(host: HostTarget) -> tuple[Check, ...]:
    """All checks of the hetzner-ops-agent on `host` (host basics are added by the registry)."""
    # health_checks builds on _OpsCheck above, so it can only be imported once this module is.
    from support_mcp.agents.hetzner_ops.health_checks import (
        CaddyUpstreamCheck,
        DeployLinksCheck,
        HealthPathCheck,
    )

    return (Pm2StatusCheck(host), Pm2LogsCheck(host), JournalCheck(host), AppPortCheck(host), CaddyCheck(host),
            CaddyUpstreamCheck(host), HttpSmokeCheck(host), HealthPathCheck(host), FirewallCheck(host),
            DeployAgeCheck(host), DeployLinksCheck(host))


# Names of the checks above (they need a HostTarget to be built; the playbook mapping names them).
HETZNER_CHECK_NAMES: tuple[str, ...] = tuple(cls.name for cls in (
    Pm2StatusCheck, Pm2LogsCheck, JournalCheck, AppPortCheck, CaddyCheck, HttpSmokeCheck, FirewallCheck,
    DeployAgeCheck)) + ("health_path", "deploy_links", "caddy_upstream")
