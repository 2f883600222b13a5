"""Host basics every agent can run on any target: system load, disk usage, memory.

Each check runs typed operations through `ctx.execute`, parses the output with the pure parsers
and judges it against the named thresholds below. A command that fails, times out or prints
something unparseable becomes a Finding with status `error`, never an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from support_mcp.agents.base import Check, CheckContext
from support_mcp.agents.host_basics.parsers import (
    DiskUsage,
    parse_df,
    parse_free,
    parse_nproc,
    parse_top,
    parse_uptime,
)
from support_mcp.domain.errors import ExecutionError, InvalidInput
from support_mcp.domain.models import CheckStatus, Finding, Language
from support_mcp.executors.base import CommandResult
from support_mcp.policy import commands
from support_mcp.policy.commands import Operation

LOAD_PER_CORE_WARN = 1.0
LOAD_PER_CORE_FAIL = 2.0
DISK_USE_WARN_PERCENT = 80
DISK_USE_FAIL_PERCENT = 90
MEMORY_AVAILABLE_WARN_PERCENT = 20.0
MEMORY_AVAILABLE_FAIL_PERCENT = 10.0
TOP_PROCESSES_SHOWN = 5
APP_BUSY_CPU_PERCENT = 50.0  # the app's processes together, in top's per-core percent
APP_MIN_CPU_TIME_S = 2.0  # a process with less CPU time in all is a probe or just started
_EVIDENCE_LINES = 20

# Mounts that mirror another filesystem (container layers, snaps): judging them again would
# report the same full disk several times.
_MIRROR_MOUNT_PREFIXES = ("/var/lib/docker/", "/run/containerd/", "/var/lib/containerd/", "/snap/",
                          "/var/lib/kubelet/")

# User-facing text for German support staff (default) and English; both strings side by side.
_TEXTS: dict[str, dict[Language, str]] = {
    "load.title": {"de": "Systemlast", "en": "System load"},
    "disk.title": {"de": "Festplattenbelegung", "en": "Disk usage"},
    "memory.title": {"de": "Arbeitsspeicher", "en": "Memory"},
    "load.result": {"de": "Systemlast {per_core} pro CPU-Kern (Last {load1} auf {cores} Kernen)",
                    "en": "System load {per_core} per CPU core (load {load1} on {cores} cores)"},
    "load.detail": {"de": "Lastmittel 1/5/15 min: {load1} / {load5} / {load15}; Warnung ab {warn}, "
                          "Fehler ab {fail} pro Kern.",
                    "en": "Load average 1/5/15 min: {load1} / {load5} / {load15}; warning from {warn}, "
                          "failure from {fail} per core."},
    "load.top": {"de": "CPU untätig {idle} %, Warten auf I/O {iowait} %, Steal {steal} %.",
                 "en": "CPU idle {idle}%, waiting for I/O {iowait}%, steal {steal}%."},
    "load.top_missing": {"de": "Prozessliste (top) nicht verfügbar.", "en": "Process list (top) not available."},
    "load.others": {"de": "Systemlast {per_core} pro CPU-Kern, verursacht von anderen Prozessen als denen der App "
                          "(Benutzer {user}): {busiest}; kein Befund für die App",
                    "en": "System load {per_core} per CPU core, caused by processes other than the app's "
                          "(user {user}): {busiest}; no finding for the app"},
    "load.app": {"de": "Die Last kommt von Prozessen der App (Benutzer {user}): {busiest}.",
                 "en": "The load comes from the app's processes (user {user}): {busiest}."},
    "disk.result": {"de": "Dateisystem {mount} zu {pct} % belegt", "en": "Filesystem {mount} is {pct}% full"},
    "disk.detail": {"de": "{avail} frei von {size} ({fs}); Warnung ab {warn} %, Fehler ab {fail} %.",
                    "en": "{avail} free of {size} ({fs}); warning from {warn}%, failure from {fail}%."},
    "disk.all_ok": {"de": "Alle {count} Dateisysteme unter {warn} % belegt (höchstens {max} %)",
                    "en": "All {count} filesystems below {warn}% full (at most {max}%)"},
    "disk.none": {"de": "Keine lokalen Dateisysteme zu prüfen", "en": "No local filesystems to check"},
    "memory.result": {"de": "{pct} % des Arbeitsspeichers verfügbar ({avail} von {total} MiB)",
                      "en": "{pct}% of memory available ({avail} of {total} MiB)"},
    "memory.detail": {"de": "Warnung unter {warn} %, Fehler unter {fail} % verfügbar.",
                      "en": "Warning below {warn}%, failure below {fail}% available."},
    "memory.swap": {"de": "Swap belegt: {used} von {total} MiB.", "en": "Swap in use: {used} of {total} MiB."},
    "error.exit": {"de": "{title}: Befehl fehlgeschlagen (Exit-Code {code})",
                   "en": "{title}: command failed (exit code {code})"},
    "error.timeout": {"de": "{title}: Zeitüberschreitung nach {seconds} s",
                      "en": "{title}: timed out after {seconds} s"},
    "error.start": {"de": "{title}: Befehl nicht ausführbar", "en": "{title}: command could not be run"},
    "error.parse": {"de": "{title}: Ausgabe nicht auswertbar", "en": "{title}: output could not be parsed"},
}


def text(language: Language, key: str, **values: object) -> str:
    """The user-facing text `key` in `language`, with numbers already formatted by the caller."""
    return _TEXTS[key][language].format(**values)


def _num(value: float, language: Language, digits: int = 2) -> str:
    formatted = f"{value:.{digits}f}"
    return formatted.replace(".", ",") if language == "de" else formatted


def _size(n_bytes: int, language: Language) -> str:
    return f"{_num(n_bytes / 1024**3, language, 1)} GiB"


def _status_above(value: float, warn: float, fail: float) -> CheckStatus:
    return CheckStatus.FAIL if value >= fail else CheckStatus.WARN if value >= warn else CheckStatus.OK


def _status_below(value: float, warn: float, fail: float) -> CheckStatus:
    return CheckStatus.FAIL if value < fail else CheckStatus.WARN if value < warn else CheckStatus.OK


class _HostCheck:
    """Shared plumbing: language-aware title, running an operation, turning failures into findings."""

    name = ""
    title = ""  # German, as the Check protocol wants one string; title_for() knows both
    tools: Sequence[str] = ()
    _title_key = ""

    def __init__(self, target: str = "local") -> None:
        self.target = target

    async def run(self, ctx: CheckContext) -> list[Finding]:
        """Run the probe and judge it; implemented by each check."""
        raise NotImplementedError

    def title_for(self, language: Language) -> str:
        """The check's title for German (default) or English support staff."""
        return text(language, self._title_key)

    async def _execute(self, ctx: CheckContext, op: Operation) -> CommandResult | Finding:
        """Run `op`; a timeout, a start failure or a failed command without output is a Finding."""
        title = self.title_for(ctx.language)
        try:
            result = await ctx.execute(op)
        except ExecutionError as exc:
            return self._error(text(ctx.language, "error.start", title=title), op, [str(exc)], {})
        facts = {"exit_code": result.exit_code, "timed_out": result.timed_out}
        if result.timed_out:
            message = text(ctx.language, "error.timeout", title=title, seconds=_num(op.timeout_s, ctx.language, 0))
            return self._error(message, op, _lines(result.stderr), facts)
        # Some commands (df with one unreadable mount) exit non-zero yet print usable output.
        if result.exit_code != 0 and not result.stdout.strip():
            message = text(ctx.language, "error.exit", title=title, code=result.exit_code)
            return self._error(message, op, _lines(result.stderr), facts)
        return result

    def _parse_error(self, ctx: CheckContext, op: Operation, result: CommandResult, exc: InvalidInput) -> Finding:
        message = text(ctx.language, "error.parse", title=self.title_for(ctx.language))
        return self._error(message, op, [str(exc), *_lines(result.stdout)[:5], *_lines(result.stderr)], {})

    def _error(self, title: str, op: Operation, evidence: list[str], facts: dict[str, Any]) -> Finding:
        return Finding(
            check=self.name,
            status=CheckStatus.ERROR,
            title=title,
            detail=op.display(),
            evidence=evidence[:_EVIDENCE_LINES],
            data={"command": list(op.argv), "target": op.target, **facts},
        )


def _lines(output: str) -> list[str]:
    return [line.rstrip() for line in output.splitlines() if line.strip()][:_EVIDENCE_LINES]


def _stderr_evidence(result: CommandResult) -> list[str]:
    return [f"stderr: {line}" for line in _lines(result.stderr)] if result.exit_code != 0 else []


class SystemLoadCheck(_HostCheck):
    """Load average per CPU core (`nproc`, `uptime`); when high, `top` names the busiest processes."""

    name = "host.load"
    tools: Sequence[str] = ("nproc", "uptime", "top")
    _title_key = "load.title"
    title = _TEXTS[_title_key]["de"]

    def __init__(self, target: str = "local", app_user: str | None = None) -> None:
        super().__init__(target)
        self.app_user = app_user  # who runs the app on this host (the SSH/deploy user), when known

    async def run(self, ctx: CheckContext) -> list[Finding]:
        """Judge the 1-minute load average per core against LOAD_PER_CORE_WARN/FAIL; a high load
        that the app's processes do not cause (another user's jobs, a test run beside the lab) is
        reported with the busiest processes, not as a fault of the app."""
        lang = ctx.language
        cores_op, uptime_op = commands.nproc(self.target), commands.uptime(self.target)
        cores_result = await self._execute(ctx, cores_op)
        if isinstance(cores_result, Finding):
            return [cores_result]
        uptime_result = await self._execute(ctx, uptime_op)
        if isinstance(uptime_result, Finding):
            return [uptime_result]
        try:
            cores = parse_nproc(cores_result.stdout)
        except InvalidInput as exc:
            return [self._parse_error(ctx, cores_op, cores_result, exc)]
        try:
            up = parse_uptime(uptime_result.stdout)
        except InvalidInput as exc:
            return [self._parse_error(ctx, uptime_op, uptime_result, exc)]

        per_core = up.load1 / cores
        status = _status_above(per_core, LOAD_PER_CORE_WARN, LOAD_PER_CORE_FAIL)
        loads = {k: _num(v, lang) for k, v in (("load1", up.load1), ("load5", up.load5), ("load15", up.load15))}
        detail = [text(lang, "load.detail", **loads, warn=_num(LOAD_PER_CORE_WARN, lang, 1),
                       fail=_num(LOAD_PER_CORE_FAIL, lang, 1))]
        evidence = [up.line, f"nproc: {cores}"]
        data: dict[str, Any] = {
            "load1": up.load1, "load5": up.load5, "load15": up.load15, "cores": cores,
            "load1_per_core": round(per_core, 3), "uptime_seconds": up.uptime_seconds, "users": up.users,
        }
        if status is not CheckStatus.OK:
            # High load: the busiest processes are what Tier 2 needs next, so fetch them now.
            await self._add_top(ctx, detail, evidence, data)
        title = text(lang, "load.result", per_core=_num(per_core, lang), load1=loads["load1"], cores=cores)
        if status is not CheckStatus.OK and self.app_user and data.get("top_processes"):
            status, title = self._judge_source(lang, status, title, per_core, detail, data)
        return [Finding(
            check=self.name,
            status=status,
            title=title,
            detail=" ".join(detail),
            evidence=evidence,
            data=data,
        )]

    def _is_app_user(self, user: str) -> bool:
        # top cuts user names to 8 characters and marks the cut with '+'
        assert self.app_user is not None
        return user == self.app_user or (user.endswith("+") and self.app_user.startswith(user[:-1]))

    def _judge_source(self, lang: Language, status: CheckStatus, title: str, per_core: float, detail: list[str],
                      data: dict[str, Any]) -> tuple[CheckStatus, str]:
        """Whose processes make the load: the app's (the finding stands) or others' (it does not)."""
        # `top` itself and the other probes of this run (`pm2 jlist` is a node process) run as the SSH
        # user: a process of that user with under APP_MIN_CPU_TIME_S of CPU time in all cannot have
        # made a minute's load, so only older ones count as the app's.
        top = [p for p in data["top_processes"] if not (self._is_app_user(p["user"]) and (
            p["command"] == "top" or (p.get("cpu_time_s") is not None and p["cpu_time_s"] < APP_MIN_CPU_TIME_S)))]
        app_cpu = sum(p["cpu_percent"] for p in top if self._is_app_user(p["user"]))
        other_cpu = sum(p["cpu_percent"] for p in top if not self._is_app_user(p["user"]))
        busiest = ", ".join(f"{p['command']} ({p['user']}, {_num(p['cpu_percent'], lang, 0)} %)" for p in top[:3])
        data.update(app_user=self.app_user, app_cpu_percent=round(app_cpu, 1), other_cpu_percent=round(other_cpu, 1))
        # The load average is a minute's mean, top one moment: the app made it only if its processes
        # are busy now (half a core at least) and busier than everyone else's.
        if app_cpu < APP_BUSY_CPU_PERCENT or other_cpu > app_cpu:
            data["load_source"] = "others"
            return CheckStatus.OK, text(lang, "load.others", per_core=_num(per_core, lang), user=self.app_user,
                                        busiest=busiest)
        data["load_source"] = "app"
        detail.append(text(lang, "load.app", user=self.app_user, busiest=busiest))
        return status, title

    async def _add_top(self, ctx: CheckContext, detail: list[str], evidence: list[str],
                       data: dict[str, Any]) -> None:
        lang = ctx.language
        result = await self._execute(ctx, commands.top_snapshot(self.target))
        if isinstance(result, Finding):
            detail.append(text(lang, "load.top_missing"))
            return
        try:
            snapshot = parse_top(result.stdout, limit=TOP_PROCESSES_SHOWN)
        except InvalidInput:
            detail.append(text(lang, "load.top_missing"))
            return
        detail.append(text(lang, "load.top", idle=_num(snapshot.cpu_idle, lang, 1),
                           iowait=_num(snapshot.cpu_iowait, lang, 1), steal=_num(snapshot.cpu_steal, lang, 1)))
        evidence.extend(snapshot.header_lines[1:3])
        evidence.extend(p.line for p in snapshot.processes)
        data.update(cpu_idle=snapshot.cpu_idle, cpu_iowait=snapshot.cpu_iowait, cpu_steal=snapshot.cpu_steal,
                    tasks_running=snapshot.tasks_running, tasks_total=snapshot.tasks_total,
                    top_processes=[{"pid": p.pid, "user": p.user, "cpu_percent": p.cpu_percent,
                                    "mem_percent": p.mem_percent, "command": p.command, "cpu_time_s": p.cpu_time_s}
                                   for p in snapshot.processes])


def relevant_filesystems(disks: Sequence[DiskUsage]) -> list[DiskUsage]:
    """Drop empty filesystems, container/snap mirrors and duplicate rows (bind mounts, repeated paths)."""
    seen: set[tuple[str, str]] = set()
    kept: list[DiskUsage] = []
    for disk in disks:
        key = (disk.filesystem, disk.mount)
        if disk.size_bytes == 0 or disk.use_percent is None or key in seen:
            continue
        if disk.mount.startswith(_MIRROR_MOUNT_PREFIXES):
            continue
        seen.add(key)
        kept.append(disk)
    return kept


class DiskCheck(_HostCheck):
    """Fill level of each local filesystem (`df -P -B1 -l`): one finding per full filesystem."""

    name = "host.disk"
    tools: Sequence[str] = ("df",)
    _title_key = "disk.title"
    title = _TEXTS[_title_key]["de"]

    async def run(self, ctx: CheckContext) -> list[Finding]:
        """Judge each filesystem's use% against DISK_USE_WARN/FAIL_PERCENT; one ok finding if all fine."""
        lang = ctx.language
        op = commands.df(target=self.target)
        result = await self._execute(ctx, op)
        if isinstance(result, Finding):
            return [result]
        try:
            disks = relevant_filesystems(parse_df(result.stdout))
        except InvalidInput as exc:
            return [self._parse_error(ctx, op, result, exc)]
        header = result.stdout.splitlines()[0].rstrip()
        extra = _stderr_evidence(result)
        if not disks:
            return [Finding(check=self.name, status=CheckStatus.SKIPPED, title=text(lang, "disk.none"),
                            detail=op.display(), evidence=[header, *extra])]
        findings: list[Finding] = []
        for disk in disks:
            status = _status_above(disk.use_percent or 0, DISK_USE_WARN_PERCENT, DISK_USE_FAIL_PERCENT)
            if status is CheckStatus.OK:
                continue
            findings.append(Finding(
                check=self.name,
                status=status,
                title=text(lang, "disk.result", mount=disk.mount, pct=disk.use_percent),
                detail=text(lang, "disk.detail", avail=_size(disk.available_bytes, lang),
                            size=_size(disk.size_bytes, lang), fs=disk.filesystem,
                            warn=DISK_USE_WARN_PERCENT, fail=DISK_USE_FAIL_PERCENT),
                evidence=[header, disk.line, *extra],
                data=_disk_data(disk),
            ))
        if findings:
            return findings
        return [Finding(
            check=self.name,
            status=CheckStatus.OK,
            title=text(lang, "disk.all_ok", count=len(disks), warn=DISK_USE_WARN_PERCENT,
                       max=max(d.use_percent or 0 for d in disks)),
            detail=op.display(),
            evidence=[header, *(d.line for d in disks), *extra][:_EVIDENCE_LINES],
            data={"filesystems": [_disk_data(d) for d in disks]},
        )]


def _disk_data(disk: DiskUsage) -> dict[str, Any]:
    return {"filesystem": disk.filesystem, "mount": disk.mount, "size_bytes": disk.size_bytes,
            "used_bytes": disk.used_bytes, "available_bytes": disk.available_bytes,
            "use_percent": disk.use_percent}


class MemoryCheck(_HostCheck):
    """Memory available to new work (`free -m`, the kernel's `available` estimate) and swap use."""

    name = "host.memory"
    tools: Sequence[str] = ("free",)
    _title_key = "memory.title"
    title = _TEXTS[_title_key]["de"]

    async def run(self, ctx: CheckContext) -> list[Finding]:
        """Judge available memory in percent of total against MEMORY_AVAILABLE_WARN/FAIL_PERCENT."""
        lang = ctx.language
        op = commands.free(self.target)
        result = await self._execute(ctx, op)
        if isinstance(result, Finding):
            return [result]
        try:
            memory = parse_free(result.stdout)
        except InvalidInput as exc:
            return [self._parse_error(ctx, op, result, exc)]
        pct = memory.available_percent
        status = _status_below(pct, MEMORY_AVAILABLE_WARN_PERCENT, MEMORY_AVAILABLE_FAIL_PERCENT)
        detail = [text(lang, "memory.detail", warn=_num(MEMORY_AVAILABLE_WARN_PERCENT, lang, 0),
                       fail=_num(MEMORY_AVAILABLE_FAIL_PERCENT, lang, 0))]
        if memory.swap_used_mib > 0:
            detail.append(text(lang, "memory.swap", used=memory.swap_used_mib, total=memory.swap_total_mib))
        return [Finding(
            check=self.name,
            status=status,
            title=text(lang, "memory.result", pct=_num(pct, lang, 1), avail=memory.available_mib,
                       total=memory.total_mib),
            detail=" ".join(detail),
            evidence=[*memory.lines, *_stderr_evidence(result)],
            data={"total_mib": memory.total_mib, "used_mib": memory.used_mib, "free_mib": memory.free_mib,
                  "available_mib": memory.available_mib, "buff_cache_mib": memory.buff_cache_mib,
                  "available_percent": round(pct, 2), "swap_total_mib": memory.swap_total_mib,
                  "swap_used_mib": memory.swap_used_mib, "swap_free_mib": memory.swap_free_mib},
        )]


HOST_BASICS_CHECKS: tuple[Check, ...] = (SystemLoadCheck(), DiskCheck(), MemoryCheck())
