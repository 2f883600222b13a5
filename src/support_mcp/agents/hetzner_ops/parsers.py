"""Pure parsers for the hetzner-ops commands: `pm2 jlist`, `pm2 logs --nostream`, `journalctl -o
short-iso`, `systemctl status`, `ss -tulpen`, `caddy validate`, `caddy adapt`, `ufw status`, `nft list ruleset`,
and `stat` of the build's BUILD_ID. Output that does not have the expected shape raises
InvalidInput instead of yielding half-parsed data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from support_mcp.domain.errors import InvalidInput
from support_mcp.policy.host_commands import BACKUP_SUFFIX_RE, backup_time_key


def _fail(what: str, text: str) -> InvalidInput:
    shown = text.strip().splitlines()[0] if text.strip() else "<empty>"
    return InvalidInput(f"unparseable {what}: {shown[:117]!r}")


# --- pm2 jlist -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pm2Process:
    name: str
    pm_id: int
    pid: int
    status: str  # online | stopped | errored | launching | waiting restart | stopping
    restarts: int
    unstable_restarts: int
    started_at: datetime | None  # pm_uptime: when the current instance started
    exit_code: int | None
    port: str | None  # env PORT of the app, when set
    err_log: str | None
    out_log: str | None
    # Where and how the app runs, as PM2 knows it (issue 11: nothing of a lab assumed):
    cwd: str | None = None  # pm_cwd, e.g. /var/www/<app>/current (a link PM2 does not resolve)
    script: str | None = None  # pm_exec_path
    pm2_home: str | None = None  # PM2_HOME of the daemon (not always ~/.pm2)
    max_memory_restart: int | None = None  # bytes; PM2 restarts the app above it
    log_date_format: str | None = None  # the log's timestamp format, when the ecosystem file sets one
    args: tuple[str, ...] = ()  # the script's arguments (`next start -p 3100`)
    memory: int | None = None  # bytes (monit), now

    def listen_port(self) -> int | None:
        """The port the app listens on as PM2 starts it: `-p N`/`--port N` in its arguments, else env PORT."""
        for i, arg in enumerate(self.args):
            value = self.args[i + 1] if arg in ("-p", "--port") and i + 1 < len(self.args) else \
                arg.split("=", 1)[1] if arg.startswith("--port=") else None
            if value is not None and value.isdigit() and 0 < int(value) < 65536:
                return int(value)
        return int(self.port) if self.port and self.port.isdigit() and 0 < int(self.port) < 65536 else None

    def env_file_candidates(self) -> tuple[str, ...]:
        """Where a Next.js app in `cwd` reads its environment from (the first that exists wins)."""
        if not self.cwd:
            return ()
        return tuple(f"{self.cwd.rstrip('/')}/{name}" for name in (".env.production.local", ".env.local",
                                                                     ".env.production", ".env"))


def _ms(value: object) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if isinstance(value, int | float) and value > 0 else None


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _args(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    return tuple(str(x) for x in value) if isinstance(value, list) else ()


def parse_pm2_jlist(text: str) -> list[Pm2Process]:
    """Parse `pm2 jlist` (JSON array). PM2 may print daemon notices before the JSON; they are skipped."""
    start = next((i for i, line in enumerate(text.splitlines()) if line.startswith("[")), None)
    if start is None:
        raise _fail("pm2 jlist output (no JSON array)", text)
    try:
        data = json.loads("\n".join(text.splitlines()[start:]))
    except json.JSONDecodeError:
        raise _fail("pm2 jlist JSON", text) from None
    if not isinstance(data, list):
        raise _fail("pm2 jlist JSON (not a list)", text)
    processes = []
    for item in data:
        env = item.get("pm2_env") or {}
        try:
            processes.append(Pm2Process(
                name=str(item["name"]), pm_id=int(item["pm_id"]), pid=int(item.get("pid") or 0),
                status=str(env["status"]), restarts=int(env.get("restart_time", 0)),
                unstable_restarts=int(env.get("unstable_restarts", 0)), started_at=_ms(env.get("pm_uptime")),
                exit_code=env.get("exit_code") if isinstance(env.get("exit_code"), int) else None,
                port=str(env["env"]["PORT"]) if "PORT" in (env.get("env") or {}) else None,
                err_log=env.get("pm_err_log_path"), out_log=env.get("pm_out_log_path"),
                cwd=_text_or_none(env.get("pm_cwd")), script=_text_or_none(env.get("pm_exec_path")),
                pm2_home=_text_or_none(env.get("PM2_HOME") or (env.get("env") or {}).get("PM2_HOME")),
                max_memory_restart=_int_or_none(env.get("max_memory_restart")),
                log_date_format=_text_or_none(env.get("log_date_format")),
                args=_args(env.get("args")),
                memory=_int_or_none((item.get("monit") or {}).get("memory")),
            ))
        except (KeyError, TypeError, ValueError):
            raise _fail("pm2 jlist entry", json.dumps(item)[:200]) from None
    return processes


# --- pm2 logs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogLine:
    stream: str  # "out" | "err" (pm2 logs); the identifier for journal lines
    timestamp: datetime | None
    message: str
    line: str


# PM2 prints `<log file> last N lines:` above each file; the file is whatever the ecosystem's
# out_file/error_file say (`~/.pm2/logs/<app>-out.log` by default, `shared/logs/web.err.log` elsewhere).
_PM2_FILE_HEADER = re.compile(r"^(?P<path>/\S+) last \d+ lines:$")
_ERR_FILE = re.compile(r"(?:^|[-._/])(?:error|err|stderr)(?:[-._]|$)", re.IGNORECASE)
_PM2_LINE = re.compile(r"^\d+\|(?P<app>[^|]*?)\s*\|\s?(?P<rest>.*)$")
# The prefix PM2 writes with `log_date_format`: ISO (`YYYY-MM-DDTHH:mm:ss.SSSZ`) or the common
# `YYYY-MM-DD HH:mm:ss Z` / `YYYY-MM-DD HH:mm:ss` (no zone: taken as UTC).
_ISO_PREFIX = re.compile(r"^(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?"
                         r"(?: ?(?:Z|[+-]\d{2}:?\d{2}))?): (?P<msg>.*)$")
# Error words in any case, and the errno codes Node and npm report (in capitals): "Every",
# "Environments" and "ENVIRONMENT" are no errors.
_ERRNO = ("EADDRINUSE", "EADDRNOTAVAIL", "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ETIMEDOUT", "EHOSTUNREACH",
          "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE", "ENOMEM", "ENOSPC", "ENOENT", "EACCES", "EPERM",
          "EMFILE", "ENFILE", "EEXIST", "EISDIR", "ENOTDIR", "EBADF", "EINVAL", "EROFS", "EBUSY", "ELIFECYCLE",
          "ERR_[A-Z_]+")
_ERROR_WORDS = re.compile(r"\b(?:Error|ERR!|FATAL|panic|Unhandled|uncaught|exception|failed)\b|"
                          r"(?-i:\b(?:" + "|".join(_ERRNO) + r")\b)", re.IGNORECASE)
_STACK_LINE = re.compile(r"^\s+at\s")


def _iso(value: str) -> datetime | None:
    value = re.sub(r"^(\S+) (\d)", r"\1T\2", value.replace(",", "."))  # date and time joined by a T
    value = re.sub(r" (?=[+-]\d|Z$)", "", value)  # `12:00:00 +01:00` -> `12:00:00+01:00`
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _stream(path: str, err_logs: frozenset[str], out_logs: frozenset[str]) -> str:
    if path in err_logs:
        return "err"
    if path in out_logs:
        return "out"
    return "err" if _ERR_FILE.search(path.rsplit("/", 1)[-1]) else "out"


def parse_pm2_logs(text: str, err_logs: frozenset[str] = frozenset(),
                   out_logs: frozenset[str] = frozenset()) -> list[LogLine]:
    """Parse `pm2 logs <app> --lines N --nostream`: the lines under each log file's header, with the
    timestamp PM2 adds when `log_date_format` is set. Which file is the error log comes from `pm2
    jlist` (`err_logs`, `out_logs`), else from the file's name (`*-error.log`, `web.err.log`)."""
    lines: list[LogLine] = []
    stream: str | None = None
    seen_header = False
    for raw in text.splitlines():
        if raw.startswith("[TAILING]") or not raw.strip():
            continue
        if header := _PM2_FILE_HEADER.match(raw.strip()):
            stream, seen_header = _stream(header["path"], err_logs, out_logs), True
            continue
        entry = _PM2_LINE.match(raw)
        if entry is None or stream is None:
            continue
        rest = entry["rest"]
        stamped = _ISO_PREFIX.match(rest)
        lines.append(LogLine(stream=stream, timestamp=_iso(stamped["ts"]) if stamped else None,
                             message=stamped["msg"] if stamped else rest, line=raw.rstrip()))
    if not seen_header:
        raise _fail("pm2 logs output (no log file header)", text)
    return lines


def error_lines(lines: list[LogLine]) -> list[LogLine]:
    """Lines that report an error (not the stack frames below it), oldest first."""
    return [ln for ln in lines if not _STACK_LINE.match(ln.message) and _ERROR_WORDS.search(ln.message)]


# --- journalctl -o short-iso ---------------------------------------------------------------------

_JOURNAL_LINE = re.compile(r"^(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[+-]\d{4}|Z)) (?P<host>\S+) "
                           r"(?P<ident>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: (?P<msg>.*)$")


def parse_journalctl(text: str) -> list[LogLine]:
    """Parse `journalctl -o short-iso`; `-- No entries --` and `-- Journal begins ... --` are skipped."""
    entries: list[LogLine] = []
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("-- "):
            continue
        m = _JOURNAL_LINE.match(raw)
        if m is None:
            if entries and raw.startswith(" "):
                continue  # continuation of a multi-line message
            raise _fail("journalctl short-iso line", raw)
        stamp = m["ts"]
        stamp = stamp[:-2] + ":" + stamp[-2:] if stamp[-5] in "+-" else stamp
        entries.append(LogLine(stream=m["ident"], timestamp=_iso(stamp), message=m["msg"], line=raw))
    return entries


NO_SYSTEMD_MARKERS = ("System has not been booted with systemd", "Failed to connect to bus",
                      "No journal files were found")


def systemd_missing(output: str) -> str | None:
    """The line that says systemd/journald is not available here, or None."""
    return next((ln.strip() for ln in output.splitlines() if any(m in ln for m in NO_SYSTEMD_MARKERS)), None)


# --- systemctl status ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitStatus:
    unit: str
    loaded: str
    active: str  # active | inactive | failed | activating | reloading
    sub: str  # running | dead | exited ...
    since: str | None
    main_pid: int | None
    log_lines: tuple[str, ...]


_UNIT_HEAD = re.compile(r"^[●×○↻*\s]*(?P<unit>\S+\.service)\b")
_ACTIVE = re.compile(r"^\s*Active: (?P<active>\S+) \((?P<sub>[^)]*)\)(?: since (?P<since>[^;]+))?")
_LOADED = re.compile(r"^\s*Loaded: (?P<loaded>\S+)")
_MAIN_PID = re.compile(r"^\s*Main PID: (?P<pid>\d+)")


def parse_systemctl_status(text: str) -> UnitStatus:
    """Parse `systemctl status <unit>` (systemd ≥ 245 layout): states, main PID and the log tail."""
    lines = text.splitlines()
    head = _UNIT_HEAD.match(lines[0]) if lines else None
    active = next((m for ln in lines if (m := _ACTIVE.match(ln))), None)
    loaded = next((m for ln in lines if (m := _LOADED.match(ln))), None)
    if head is None or active is None or loaded is None:
        raise _fail("systemctl status output", text)
    pid = next((int(m["pid"]) for ln in lines if (m := _MAIN_PID.match(ln))), None)
    blank = next((i for i, ln in enumerate(lines) if not ln.strip()), len(lines))
    return UnitStatus(unit=head["unit"], loaded=loaded["loaded"], active=active["active"], sub=active["sub"],
                      since=active["since"], main_pid=pid,
                      log_lines=tuple(ln for ln in lines[blank + 1:] if ln.strip()))


# --- ss -tulpen ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listener:
    netid: str
    address: str
    port: int
    process: str | None  # first process name, when ss may show it (own processes or root)
    pid: int | None
    line: str


_SS_PROC = re.compile(r'users:\(\("(?P<name>[^"]*)",pid=(?P<pid>\d+)')


def parse_ss(text: str) -> list[Listener]:
    """Parse `ss -tulpen`: listening sockets (state LISTEN or UNCONN) with address, port and process."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("Netid"):
        raise _fail("ss header (expected `ss -tulpen`)", text)
    listeners = []
    for raw in lines[1:]:
        fields = raw.split()
        if len(fields) < 6:
            continue
        local = fields[4]
        address, _, port = local.rpartition(":")
        if not port.isdigit():
            raise _fail("ss local address", raw)
        proc = _SS_PROC.search(raw)
        listeners.append(Listener(netid=fields[0], address=address, port=int(port),
                                  process=proc["name"] if proc else None, pid=int(proc["pid"]) if proc else None,
                                  line=raw.rstrip()))
    return listeners


# --- caddy validate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaddyValidation:
    valid: bool
    error: str | None  # `Error: ...` line, e.g. "...Caddyfile:8: unrecognized directive: reverse_prxy"


def parse_caddy_validate(output: str, exit_code: int | None) -> CaddyValidation:
    """Judge `caddy validate` from its combined output and exit code."""
    if exit_code == 0 and "Valid configuration" in output:
        return CaddyValidation(True, None)
    error = next((ln.strip() for ln in output.splitlines() if ln.startswith("Error:")), None)
    if exit_code == 0 or error is None:
        raise _fail("caddy validate output", output)
    return CaddyValidation(False, error)




@dataclass(frozen=True)
class CaddyUpstream:
    """One `reverse_proxy` upstream of the adapted config, with the site and paths it serves."""

    dial: str  # "localhost:3000", "127.0.0.1:4000", "unix//run/app/app.sock"
    hosts: tuple[str, ...] = ()  # site names matched; empty: any host
    paths: tuple[str, ...] = ()  # path matchers; empty: every path
    listen: tuple[str, ...] = ()  # the server's addresses (":443", ":80")

    @property
    def socket(self) -> str | None:
        return self.dial.removeprefix("unix/") if self.dial.startswith("unix/") else None

    @property
    def port(self) -> int | None:
        """The TCP port dialled; None for a unix socket or a placeholder (`{$UPSTREAM}`)."""
        if self.socket is not None:
            return None
        _, _, port = self.dial.rpartition(":")
        return int(port) if port.isdigit() else None


def parse_caddy_adapt(text: str) -> list[CaddyUpstream]:
    """The upstreams of `caddy adapt --config <Caddyfile>` (Caddy's own JSON of the Caddyfile:
    snippets imported, `to` blocks, matchers and `handle` subroutes already resolved)."""
    try:
        config = json.loads(text)
    except json.JSONDecodeError:
        raise _fail("caddy adapt output", text) from None
    if not isinstance(config, dict):
        raise _fail("caddy adapt output", text)
    found: list[CaddyUpstream] = []

    def walk(routes: object, hosts: tuple[str, ...], paths: tuple[str, ...], listen: tuple[str, ...]) -> None:
        for route in routes if isinstance(routes, list) else []:
            if not isinstance(route, dict):
                continue
            route_hosts, route_paths = hosts, paths
            for matcher in route.get("match") or []:
                if isinstance(matcher, dict):
                    route_hosts += tuple(str(h) for h in matcher.get("host") or [])
                    route_paths += tuple(str(p) for p in matcher.get("path") or [])
            for handler in route.get("handle") or []:
                if not isinstance(handler, dict):
                    continue
                if handler.get("handler") == "reverse_proxy":
                    for upstream in handler.get("upstreams") or []:
                        if isinstance(upstream, dict) and upstream.get("dial"):
                            found.append(CaddyUpstream(str(upstream["dial"]), route_hosts, route_paths, listen))
                elif handler.get("handler") == "subroute":
                    walk(handler.get("routes"), route_hosts, route_paths, listen)

    servers = ((config.get("apps") or {}).get("http") or {}).get("servers") or {}
    for server in servers.values() if isinstance(servers, dict) else []:
        if isinstance(server, dict):
            walk(server.get("routes"), (), (), tuple(str(a) for a in server.get("listen") or []))
    return found


def file_backups(listing: str, path: str) -> list[str]:
    """The backups `<file>.bak-<time>` of `path` (the Caddyfile, an env file; our own and
    hand-made names by date, see `host_commands.BACKUP_SUFFIX_RE`) in an `ls -1` of its folder,
    newest first."""
    folder, _, name = path.rpartition("/")
    found = []
    for line in listing.splitlines():
        entry = line.strip()
        if entry.startswith(name) and (m := BACKUP_SUFFIX_RE.fullmatch(entry[len(name):])):
            found.append((backup_time_key(m["ts"]), f"{folder}/{entry}"))
    return [path for _, path in sorted(found, reverse=True)]


@dataclass(frozen=True)
class ProcessInfo:
    user: str
    args: str  # the command line as ps shows it


def parse_ps_user_args(text: str) -> ProcessInfo:
    """Parse `ps -o user:32=,args= -p <pid>` (wide user column: plain `user=` truncates long names to 7 characters and a +): one line, the user then the command line."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    user, _, args = line.partition(" ")
    if not user or not args.strip():
        raise _fail("ps -o user:32=,args= output", text)
    return ProcessInfo(user=user, args=args.strip())


# --- firewall ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirewallRules:
    tool: str  # "ufw" | "nft"
    active: bool
    rules_for_port: tuple[str, ...]  # lines that name the port
    default_incoming: str | None


def parse_ufw_status(text: str, port: int) -> FirewallRules:
    """Parse `ufw status verbose`: active or not, default incoming policy, rules naming `port`."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    if not first.startswith("Status: "):
        raise _fail("ufw status output", text)
    default = re.search(r"^Default: (\w+) \(incoming\)", text, re.MULTILINE)
    rules = tuple(ln.strip() for ln in text.splitlines() if re.match(rf"^{port}(/\w+)?\b", ln))
    return FirewallRules("ufw", first == "Status: active", rules, default[1] if default else None)


def parse_nft_ruleset(text: str, port: int) -> FirewallRules:
    """Parse `nft list ruleset`: active when a table exists; input policy; rules naming `port`."""
    if text.strip() and not re.search(r"^table \S+ \S+ \{", text, re.MULTILINE):
        raise _fail("nft ruleset", text)
    policy = re.search(r"hook input priority [^;]+; policy (\w+);", text)
    rules = tuple(ln.strip() for ln in text.splitlines()
                  if re.search(rf"dport (?:\{{[^}}]*\b{port}\b[^}}]*\}}|{port}\b)", ln))
    return FirewallRules("nft", bool(text.strip()), rules, policy[1] if policy else None)


# --- deploy --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileStat:
    modified_at: datetime
    size: int
    path: str


def parse_stat(text: str) -> FileStat:
    """Parse `stat -c '%Y %s %n'`: modification time (epoch seconds), size, path."""
    parts = text.strip().split(" ", 2)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise _fail("stat output", text)
    return FileStat(datetime.fromtimestamp(int(parts[0]), UTC), int(parts[1]), parts[2])


_BUILD_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def parse_build_id(text: str) -> str:
    """A Next.js BUILD_ID: one token of URL-safe characters."""
    value = text.strip()
    if not _BUILD_ID.fullmatch(value):
        raise _fail("BUILD_ID", text)
    return value


# --- the PM2 daemon of a user --------------------------------------------------------------------

_PM2_RPC_SOCKET = re.compile(r"^u_str\s+LISTEN\s+\d+\s+\d+\s+(?P<home>/\S+)/rpc\.sock\s+\d+\s+\*\s+\d+\s+"
                             r"users:\(\(\"(?P<name>[^\"]*)\",pid=(?P<pid>\d+)")


@dataclass(frozen=True)
class Pm2Daemon:
    pid: int
    name: str  # the process name ss shows (`PM2 v5.4.3: God`)
    home: str  # its PM2_HOME: the folder of its rpc.sock


def pm2_daemons(text: str) -> list[Pm2Daemon]:
    """The PM2 daemons in `ss -xlp`: each listens on `<PM2_HOME>/rpc.sock`. (Its process title
    `PM2 v5.4.3: God Daemon (<PM2_HOME>)` would say the same, but Linux cuts a title at the length
    of the original command line, so a long PM2_HOME is not in it.)"""
    return [Pm2Daemon(pid=int(m["pid"]), name=m["name"], home=m["home"])
            for line in text.splitlines() if (m := _PM2_RPC_SOCKET.match(line.strip()))
            and m["name"].startswith("PM2")]


# --- what an app says about its environment variables --------------------------------------------


@dataclass(frozen=True)
class EnvProblem:
    """A variable the app's own validation rejected: its name, the value it got (when it says),
    the values it accepts (when it lists them) and the env file it names (when it does)."""

    key: str
    got: str | None
    allowed: tuple[str, ...]
    path: str | None
    line: str


_ENV_KEY = r"(?P<key>[A-Z][A-Z0-9_]{1,63})"
_ENV_SHAPES = (
    # our lab app: `invalid configuration APP_MODE=crash in /path/.env.production (expected APP_MODE=production)`
    re.compile(r"invalid configuration " + _ENV_KEY + r"=(?P<got>\S*) in (?P<path>/\S+) "
               r"\(expected (?P=key)=(?P<allowed>[A-Za-z0-9_.:/-]+)\)"),
    # zod's flattened field errors as @t3-oss/env prints them:
    # `{ APP_MODE: [ "Invalid enum value. Expected 'production' | 'staging', received 'crash'" ] }`
    re.compile(_ENV_KEY + r"""['"]?:\s*\[\s*["']Invalid enum value\. Expected (?P<allowed>'[^']*'(?:\s*\|\s*'[^']*')*),"""
               r"""\s*received '(?P<got>[^']*)'"""),
    # envalid: `    APP_MODE: Value "crash" not in choices [production,staging]`
    re.compile(r"^\s*" + _ENV_KEY + r""": Value "(?P<got>[^"]*)" not in choices \[(?P<allowed>[^\]]*)\]"""),
    # zod / t3-env, envalid, plain checks: a required variable that is missing
    re.compile(_ENV_KEY + r"""['"]?:\s*\[\s*["']Required["']\s*\]"""),
    re.compile(r"^\s*" + _ENV_KEY + r""": Missing required value"""),
    re.compile(r"(?:missing|required) (?:environment )?variable:? " + _ENV_KEY + r"\b", re.IGNORECASE),
)


def _allowed(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    if "'" in raw:
        return tuple(re.findall(r"'([^']*)'", raw))
    return tuple(v.strip() for v in raw.split(",") if v.strip())


def env_problems(messages: list[str]) -> list[EnvProblem]:
    """The variables an app's start-up validation rejected, in the shapes real apps print them
    (zod through @t3-oss/env, envalid, our lab app's line, "missing variable X"); one per key,
    the last report wins."""
    found: dict[str, EnvProblem] = {}
    for message in messages:
        for shape in _ENV_SHAPES:
            for m in shape.finditer(message):
                groups = m.groupdict()
                found[m["key"]] = EnvProblem(key=m["key"], got=groups.get("got"), allowed=_allowed(groups.get("allowed")),
                                             path=groups.get("path"), line=message.strip()[:300])
    return list(found.values())


# --- env files and the variables an error names ----------------------------------------------------

_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*?)\s*$")


def parse_dotenv(text: str) -> dict[str, str]:
    """KEY=VALUE lines of a dotenv file (`export ` allowed, one pair of quotes stripped, comments
    and blank lines skipped); a key set twice keeps its last value, as dotenv loaders do."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not (m := _DOTENV_LINE.match(line)):
            continue
        value = m["value"]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        out[m["key"]] = value
    return out


_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,63}")


def named_keys(message: str, keys: Iterable[str]) -> list[str]:
    """The env keys among `keys` that an error message names: as written (`SUPABASE_URL is not
    set`), in camelCase as libraries name their options (supabase-js: `supabaseUrl is required.`),
    or as the tail of a prefixed key (`NEXT_PUBLIC_SUPABASE_URL` for either). A single word names
    a key only when written in capitals (`PORT`), so "Invalid URL" names no `*_URL`."""
    names: set[str] = set()
    for word in _NAME.findall(message):
        snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", word).upper()
        if "_" in snake or word.isupper():
            names.add(snake)
    return [k for k in keys if k in names or any("_" in n and k.endswith("_" + n) for n in names)]


# --- PM2's own log (`pm2 logs PM2 --nostream`): restarts over max_memory_restart ------------------

_MEMORY_RESTART = re.compile(r"Process (?P<id>\d+) restarted because it exceeds --max-memory-restart value "
                             r"\(current_memory=(?P<current>\d+) max_memory_limit=(?P<limit>\d+)")


@dataclass(frozen=True)
class MemoryRestarts:
    """PM2's restarts of one app over its memory limit since it was last started by hand."""

    count: int
    last_line: str | None = None
    memory: int | None = None  # bytes at the last one
    limit: int | None = None


def memory_restarts(text: str, pm_id: int, name: str) -> MemoryRestarts:
    """Count `[PM2][WORKER] Process <id> restarted because it exceeds --max-memory-restart` in
    PM2's daemon log for the app, since the last stop that was not one of them (a `pm2 restart`
    by hand ends the episode: PM2 logs "Stopping app:<name>" without the worker line before it)."""
    count, last, recent_memory_kill = 0, None, 0
    stopping = f"Stopping app:{name} id:{pm_id}"
    for line in text.splitlines():
        if (m := _MEMORY_RESTART.search(line)) and int(m["id"]) == pm_id:
            count, last, recent_memory_kill = count + 1, (line, int(m["current"]), int(m["limit"])), 3
            continue
        if stopping in line and not recent_memory_kill:
            count, last = 0, None  # stopped or restarted by hand: what came before is over
        recent_memory_kill = max(recent_memory_kill - 1, 0)
    if last is None:
        return MemoryRestarts(0)
    line, memory, limit = last
    return MemoryRestarts(count, line.split("| ", 1)[-1].strip(), memory, limit)
