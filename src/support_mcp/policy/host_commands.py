"""Typed operations of the hetzner-ops-agent: PM2, journald, systemd, Caddy, ss, firewall, the
deploy folder and npm, each bound to one configured HostTarget.

A builder takes the host and the names a caller asked for, refuses anything that is not the
configured app, unit or path, and renders an argv that `validate_argv` checks once more against
the entries registered into `commands.PROGRAMS` below. There is no way to name `all`, another
app, a path outside the deploy folder, a redirection or `sudo`: none of them is a token here.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import PurePath

from support_mcp.domain.errors import PolicyViolation
from support_mcp.domain.targets import HostTarget
from support_mcp.policy.commands import (
    PROGRAMS,
    Operation,
    ProgramSpec,
    validate_absolute_path,
    validate_argv,
    validate_target,
    validate_unit_name,
)

PM2_SUBCOMMANDS = ("jlist", "logs", "restart")
# PM2 words that act on many or other processes; refused even where a name would be accepted.
_PM2_FORBIDDEN = frozenset({"all", "delete", "kill", "stop", "start", "reload", "flush", "save", "update",
                            "startup", "unstartup", "deploy", "link", "plus", "install", "set", "reset"})
_SINCE_RE = re.compile(r"-(\d{1,5})min")
# Backups named by their time: the ones config_fix and caddy_restore make (`<file>.bak-20250101T120000Z`)
# and the ones people make by hand (`.bak-2025-01-01`, `.bak.20250101`, `.backup-2025-01-01_1200`).
BACKUP_SUFFIX_RE = re.compile(r"\.(?:bak|backup)[-.](?P<ts>\d{8}T\d{6}Z|\d{4}-?\d{2}-?\d{2}"
                              r"(?:[T_-]?\d{2}:?\d{2}(?::?\d{2})?Z?)?)")


def backup_time_key(ts: str) -> str:
    """A sort key of a backup suffix's time (`2025-01-01` and `20250101T120000Z` compare as times)."""
    return re.sub(r"\D", "", ts).ljust(14, "0")
MAX_LOG_LINES = 2000


def _pm2_word(value: str) -> str:
    if value in PM2_SUBCOMMANDS:
        return value
    validate_unit_name(value)
    if value in _PM2_FORBIDDEN or value.isdigit():
        raise PolicyViolation(f"pm2: {value!r} would address other or all processes; name the configured app")
    return value


def _lines(value: str) -> str:
    if not value.isdigit() or not 1 <= int(value) <= MAX_LOG_LINES:
        raise PolicyViolation(f"line count {value!r} must be a number from 1 to {MAX_LOG_LINES}")
    return value


def _since(value: str) -> str:
    if not _SINCE_RE.fullmatch(value):
        raise PolicyViolation(f"--since {value!r}: expected a relative time such as '-30min'")
    return value


def _pid(value: str) -> str:
    if not value.isdigit() or not 0 < int(value) < 2**22 or value.startswith("0"):
        raise PolicyViolation(f"pid {value!r} must be a positive process id")
    return value


def _words(*allowed: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value in allowed:
            return value
        raise PolicyViolation(f"{value!r} is not one of {', '.join(allowed)}")

    return check


# systemctl verbs other than status/reload: never accepted where a unit name may stand.
_SYSTEMCTL_VERBS = frozenset({"start", "stop", "restart", "kill", "enable", "disable", "mask", "unmask", "edit",
                              "isolate", "poweroff", "reboot", "halt", "daemon-reload", "set-property",
                              "reset-failed", "try-restart", "reload-or-restart", "link", "revert", "suspend"})


def _unit_or(*words: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value in words:
            return value
        if value in _SYSTEMCTL_VERBS:
            raise PolicyViolation(f"systemctl {value!r} is not in the operation set")
        return validate_unit_name(value)

    return check


HOST_PROGRAMS: dict[str, ProgramSpec] = {
    "pm2": ProgramSpec(flags=frozenset({"--nostream", "--update-env"}), valued={"--lines": _lines},
                       positional=_pm2_word, max_positionals=2),
    "journalctl": ProgramSpec(flags=frozenset({"--no-pager"}),
                              valued={"-u": validate_unit_name, "--since": _since, "-o": _words("short-iso")}),
    "systemctl": ProgramSpec(flags=frozenset({"--no-pager", "--lines=20"}),
                             positional=_unit_or("status", "reload", "start"), max_positionals=2),
    "ss": ProgramSpec(flags=frozenset({"-tulpen", "-xlp"})),
    "ufw": ProgramSpec(positional=_words("status", "verbose"), max_positionals=2),
    "nft": ProgramSpec(positional=_words("list", "ruleset"), max_positionals=2),
    "caddy": ProgramSpec(valued={"--config": validate_absolute_path, "--adapter": _words("caddyfile")},
                         positional=_words("validate", "reload", "start", "adapt"), max_positionals=1),
    "stat": ProgramSpec(valued={"-c": _words("%Y %s %n")}, positional=validate_absolute_path, max_positionals=1),
    "cat": ProgramSpec(positional=validate_absolute_path, max_positionals=1),
    "npm": ProgramSpec(flags=frozenset({"--omit=dev", "--legacy-peer-deps", "--no-audit", "--no-fund"}),
                       valued={"--prefix": validate_absolute_path},
                       positional=_words("install", "run", "build", "prune"), max_positionals=2),
    "git": ProgramSpec(flags=frozenset({"--porcelain=v1", "--branch"}), valued={"-C": validate_absolute_path},
                       positional=_words("status"), max_positionals=1),
    "cp": ProgramSpec(flags=frozenset({"-p", "--remove-destination"}), positional=validate_absolute_path,
                      max_positionals=2),
    "diff": ProgramSpec(flags=frozenset({"-u"}), positional=validate_absolute_path, max_positionals=2),
    "ps": ProgramSpec(valued={"-o": _words("user:32=,args="), "-p": _pid}),
    "kill": ProgramSpec(flags=frozenset({"-TERM"}), positional=_pid, max_positionals=1),
    "ls": ProgramSpec(flags=frozenset({"-1", "-A"}), positional=validate_absolute_path, max_positionals=1),
    "ln": ProgramSpec(flags=frozenset({"-sfn"}), positional=validate_absolute_path, max_positionals=2),
}


def _register() -> None:
    """Add the host programs to the shared table; an entry another agent registered is widened,
    never narrowed (its flags, options and positionals stay valid)."""
    for name, spec in HOST_PROGRAMS.items():
        other = PROGRAMS.get(name)
        if other is None or other == spec:
            PROGRAMS[name] = spec
            continue
        PROGRAMS[name] = ProgramSpec(
            flags=other.flags | spec.flags, valued={**spec.valued, **other.valued},
            positional=_either(other.positional, spec.positional),
            max_positionals=max(other.max_positionals, spec.max_positionals),
        )


def _either(a: Callable[[str], str] | None, b: Callable[[str], str] | None) -> Callable[[str], str] | None:
    if a is None or b is None:
        return a or b

    def check(value: str) -> str:
        try:
            return a(value)
        except PolicyViolation:
            return b(value)

    return check


_register()


# --- what may be named on a host -----------------------------------------------------------------


def checked_app(host: HostTarget, app: str | None = None) -> str:
    """The configured PM2 app; any other name (`all`, an id, another app) is refused."""
    name = host.app if app is None else app
    if name != host.app:
        raise PolicyViolation(f"app {name!r} is not configured for {host.name!r}; only {host.app!r} may be named")
    return _pm2_word(validate_unit_name(name))


def checked_unit(host: HostTarget, unit: str) -> str:
    if unit not in host.units:
        raise PolicyViolation(f"unit {unit!r} is not configured for {host.name!r}; allowed: {', '.join(host.units)}")
    return validate_unit_name(unit)


def checked_path(host: HostTarget, path: str | PurePath, resolved: ResolvedRoots | None = None) -> str:
    """An absolute path inside the deploy folder, the configured Caddyfile or one of its timestamped
    backups (`<Caddyfile>.bak-<ts>`); nothing else. With `resolved`, the same places as the target
    resolves them (a deploy root that is itself a link) count too.

    This judges text only: a path must also be resolved on the target and judged again
    (`ResolvedRoots.holds`), because a link inside the deploy folder may point anywhere."""
    text = validate_absolute_path(str(path))
    root = str(host.deploy_root)
    if text == str(host.caddyfile) or _under(text, root) or is_caddy_backup(host, text):
        return text
    if resolved is not None and resolved.holds(text):
        return text
    raise PolicyViolation(f"path {text!r} is outside the deploy folder {root!r} of {host.name!r}")


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


@dataclass(frozen=True)
class ResolvedRoots:
    """The deploy folder and the Caddyfile as the target resolves them (links followed)."""

    deploy_root: str
    caddyfile: str

    def holds(self, resolved_path: str) -> bool:
        """Whether a path, already resolved on the target, lies where files may be read and written."""
        if _under(resolved_path, self.deploy_root) or resolved_path == self.caddyfile:
            return True
        suffix = resolved_path[len(self.caddyfile):] if resolved_path.startswith(self.caddyfile) else ""
        return bool(suffix) and BACKUP_SUFFIX_RE.fullmatch(suffix) is not None


def escaped_path(host: HostTarget, path: str, resolved: str, link: str | None, link_target: str | None) -> str:
    """The refusal for a path that a symbolic link leads out of the deploy folder, naming the link."""
    via = f" through the symbolic link {link} → {link_target}" if link else ""
    return (f"path {path!r} resolves to {resolved!r}{via}, outside the deploy folder {str(host.deploy_root)!r} "
            f"and the Caddyfile of {host.name!r}; nothing there is read or written")


def is_caddy_backup(host: HostTarget, path: str) -> bool:
    """`path` is a timestamped backup of the configured Caddyfile (same folder, `.bak-<ts>`)."""
    return is_backup_of(path, str(host.caddyfile))


def caddy_dir(host: HostTarget) -> str:
    """The folder of the configured Caddyfile (where its backups live)."""
    return validate_absolute_path(posixpath.dirname(str(host.caddyfile)))


def frontend_dir(host: HostTarget) -> str:
    """Where the app runs: `app_dir` as configured or discovered (PM2's cwd), else the deploy folder."""
    return checked_path(host, str(host.app_dir) if host.app_dir is not None else str(host.deploy_root))


def build_id_path(host: HostTarget) -> str:
    return checked_path(host, posixpath.join(frontend_dir(host), ".next", "BUILD_ID"))


def _op(host: HostTarget, name: str, argv: list[str], timeout_s: float, writes: bool = False) -> Operation:
    # PM2 commands reach the daemon in the host's PM2_HOME (configured or discovered), not a new one
    env = (("PM2_HOME", validate_absolute_path(str(host.pm2_home))),) if argv[0] == "pm2" and host.pm2_home else ()
    return Operation(name=name, argv=validate_argv(argv), target=validate_target(host.name),
                     timeout_s=timeout_s, writes=writes, env=env)


operation = _op  # for the other host operation modules (host_diagnostics)


# --- read-only probes ----------------------------------------------------------------------------


def pm2_jlist(host: HostTarget) -> Operation:
    """`pm2 jlist`: the process list as JSON (status, restarts, pid, uptime)."""
    return _op(host, "pm2_jlist", ["pm2", "jlist"], 20.0)


def pm2_logs(host: HostTarget, app: str | None = None, lines: int = 200) -> Operation:
    """`pm2 logs <app> --lines N --nostream`: the last N lines of the app's out and error logs."""
    return _op(host, "pm2_logs", ["pm2", "logs", checked_app(host, app), "--lines", _lines(str(lines)),
                                  "--nostream"], 20.0)


def pm2_daemon_log(host: HostTarget, lines: int = 200) -> Operation:
    """`pm2 logs PM2 --lines N --nostream`: the last N lines of PM2's own log (pm2.log in its
    PM2_HOME), where it records restarts over `max_memory_restart`; no app's output."""
    return _op(host, "pm2_daemon_log", ["pm2", "logs", "PM2", "--lines", _lines(str(lines)), "--nostream"], 20.0)


def journalctl(host: HostTarget, unit: str, since_minutes: int = 30) -> Operation:
    """`journalctl -u <unit> --since -Nmin -o short-iso --no-pager`."""
    if isinstance(since_minutes, bool) or not isinstance(since_minutes, int):  # True, 1.9, "1_0": refused
        raise PolicyViolation(f"since (minutes) must be a whole number, got {since_minutes!r}")
    return _op(host, "journalctl", ["journalctl", "--no-pager", "-o", "short-iso", "-u", checked_unit(host, unit),
                                    "--since", _since(f"-{since_minutes}min")], 20.0)


def systemctl_status(host: HostTarget, unit: str) -> Operation:
    """`systemctl status <unit> --no-pager --lines=20` (exit 3 = inactive, 4 = unknown unit)."""
    return _op(host, "systemctl_status", ["systemctl", "status", "--no-pager", "--lines=20",
                                          checked_unit(host, unit)], 15.0)


def ss_listening(host: HostTarget) -> Operation:
    """`ss -tulpen`: listening TCP/UDP sockets with their processes."""
    return _op(host, "ss", ["ss", "-tulpen"], 10.0)


def ufw_status(host: HostTarget) -> Operation:
    return _op(host, "ufw_status", ["ufw", "status", "verbose"], 10.0)


def nft_ruleset(host: HostTarget) -> Operation:
    return _op(host, "nft_ruleset", ["nft", "list", "ruleset"], 10.0)


def caddy_validate(host: HostTarget, path: str | None = None) -> Operation:
    """`caddy validate --config <Caddyfile> --adapter caddyfile`; `path` may name one of the
    Caddyfile's timestamped backups (a restore candidate), nothing else."""
    config = str(host.caddyfile) if path is None else path
    if config != str(host.caddyfile) and not is_caddy_backup(host, validate_absolute_path(config)):
        raise PolicyViolation(f"caddy validate: {config!r} is neither the configured Caddyfile nor a backup of it")
    return _op(host, "caddy_validate", ["caddy", "validate", "--config", checked_path(host, config),
                                        "--adapter", "caddyfile"], 30.0)


def caddy_adapt(host: HostTarget) -> Operation:
    """`caddy adapt --config <Caddyfile> --adapter caddyfile`: Caddy's own JSON of the file on disk
    (snippets imported, `to` blocks resolved); read-only, it starts and loads nothing."""
    return _op(host, "caddy_adapt", ["caddy", "adapt", "--config", checked_path(host, str(host.caddyfile)),
                                     "--adapter", "caddyfile"], 30.0)


def caddy_dir_listing(host: HostTarget) -> Operation:
    """`ls -1 <folder of the Caddyfile>`: to find the Caddyfile's timestamped backups."""
    return _op(host, "caddy_dir_listing", ["ls", "-1", caddy_dir(host)], 10.0)


def backup_listing(host: HostTarget, file: str, resolved: ResolvedRoots | None = None) -> Operation:
    """`ls -1 -A <folder of file>` (env files are dot files), a file in the deploy folder: to find its backups."""
    return folder_listing(host, posixpath.dirname(file), resolved, name="backup_listing")


def folder_listing(host: HostTarget, folder: str, resolved: ResolvedRoots | None = None,
                   name: str = "folder_listing") -> Operation:
    """`ls -1 -A <folder>`, a folder in the deploy folder (the releases beside the current one)."""
    return _op(host, name, ["ls", "-1", "-A", checked_path(host, folder, resolved)], 10.0)


def is_backup_of(path: str, file: str) -> bool:
    """`path` is a timestamped backup of `file` (same folder, `<name>.bak-<ts>` and the like)."""
    return path.startswith(file) and BACKUP_SUFFIX_RE.fullmatch(path[len(file):]) is not None


def unix_listeners(host: HostTarget) -> Operation:
    """`ss -xlp`: listening unix sockets with their processes (a PM2 daemon listens on
    `<PM2_HOME>/rpc.sock`, which is how a PM2_HOME other than ~/.pm2 is found)."""
    return _op(host, "ss_unix", ["ss", "-xlp"], 10.0)


def process_owner_and_args(host: HostTarget, pid: int) -> Operation:
    """`ps -o user:32=,args= -p <pid>`: who runs the process that holds a port, and its command line."""
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid < 2**22:
        raise PolicyViolation(f"pid {pid!r} must be a positive process id")
    return _op(host, "ps_pid", ["ps", "-o", "user:32=,args=", "-p", _pid(str(pid))], 10.0)


def kill_pid(host: HostTarget, pid: int) -> Operation:
    """`kill -TERM <pid>`: one process by id (a port squatter a human approved ending); never a
    signal other than TERM, never a group, never a name."""
    if isinstance(pid, bool) or not isinstance(pid, int) or not 1 < pid < 2**22:
        raise PolicyViolation(f"pid {pid!r} must be a process id above 1")
    return _op(host, "kill", ["kill", "-TERM", _pid(str(pid))], 10.0, True)


def build_id_stat(host: HostTarget) -> Operation:
    """`stat -c '%Y %s %n' <app folder>/.next/BUILD_ID`: the build's modification time."""
    return _op(host, "build_id_stat", ["stat", "-c", "%Y %s %n", build_id_path(host)], 10.0)


def file_stat(host: HostTarget, path: str, resolved: ResolvedRoots | None = None) -> Operation:
    """`stat -c '%Y %s %n' <path>` of a file in the deploy folder (another release's BUILD_ID)."""
    return _op(host, "file_stat", ["stat", "-c", "%Y %s %n", checked_path(host, path, resolved)], 10.0)


def switch_release(host: HostTarget, release: str, resolved: ResolvedRoots | None = None) -> Operation:
    """`ln -sfn <release> <app folder>`: point the link the app runs from (PM2's cwd, e.g.
    `…/current`) at another release folder beside the one it points at now; nothing else is
    linked, and only a configured or discovered app folder."""
    if host.app_dir is None:
        raise PolicyViolation("switch_release: the app folder (PM2's cwd) is not known")
    link = checked_path(host, str(host.app_dir), resolved)
    return _op(host, "switch_release", ["ln", "-sfn", checked_path(host, release, resolved), link], 10.0, True)


def build_id_read(host: HostTarget) -> Operation:
    return _op(host, "build_id_read", ["cat", build_id_path(host)], 10.0)


def git_status(host: HostTarget, directory: str) -> Operation:
    return _op(host, "git_status", ["git", "-C", checked_path(host, directory), "status", "--porcelain=v1",
                                    "--branch"], 20.0)


def diff_files(host: HostTarget, before: str, after: str) -> Operation:
    return _op(host, "diff", ["diff", "-u", checked_path(host, before), checked_path(host, after)], 15.0)


# --- writes: only ever steps of an approved plan -------------------------------------------------


def pm2_restart(host: HostTarget, app: str | None = None) -> Operation:
    """`pm2 restart <app> --update-env` for the configured app only."""
    return _op(host, "pm2_restart", ["pm2", "restart", checked_app(host, app), "--update-env"], 60.0, True)


def caddy_reload(host: HostTarget) -> Operation:
    """`caddy reload` through the admin API named in the Caddyfile (hosts without systemd)."""
    return _op(host, "caddy_reload", ["caddy", "reload", "--config", checked_path(host, host.caddyfile),
                                      "--adapter", "caddyfile"], 30.0, True)


def systemctl_reload(host: HostTarget, unit: str = "caddy") -> Operation:
    return _op(host, "systemctl_reload", ["systemctl", "reload", checked_unit(host, unit)], 30.0, True)


def systemctl_start(host: HostTarget, unit: str = "caddy") -> Operation:
    """`systemctl start caddy`: only the Caddy unit, and only when it is configured for the host."""
    if unit != "caddy":
        raise PolicyViolation(f"systemctl start: only the caddy unit may be started, not {unit!r}")
    return _op(host, "systemctl_start", ["systemctl", "start", checked_unit(host, unit)], 60.0, True)


def caddy_start(host: HostTarget) -> Operation:
    """`caddy start --config <Caddyfile> --adapter caddyfile` (hosts without systemd): Caddy as a
    background daemon with the configured Caddyfile; no other config can be named."""
    op = _op(host, "caddy_start", ["caddy", "start", "--config", checked_path(host, host.caddyfile),
                                   "--adapter", "caddyfile"], 60.0, True)
    # Caddy's daemon would keep the SSH channel open through inherited stdio.
    return replace(op, detach=True)


def copy_file(host: HostTarget, source: str, dest: str, resolved: ResolvedRoots | None = None) -> Operation:
    """`cp -p <source> <dest>` inside the deploy folder (backups and restores); callers pass paths
    resolved on the target, and `--remove-destination` keeps cp from writing through a link that
    stands at `dest`."""
    return _op(host, "cp", ["cp", "-p", "--remove-destination", checked_path(host, source, resolved),
                            checked_path(host, dest, resolved)], 30.0, True)


def npm_install(host: HostTarget) -> Operation:
    """`npm install` with the devDependencies: `next build` needs them (TypeScript, its types; a
    TypeScript project built after `--omit=dev` makes Next.js install them itself, from the
    registry, into package.json — or fail offline). `npm_prune` drops them after the build."""
    return _op(host, "npm_install", ["npm", "--prefix", frontend_dir(host), "install", "--legacy-peer-deps",
                                     "--no-audit", "--no-fund"], 900.0, True)


def npm_prune(host: HostTarget) -> Operation:
    """`npm prune --omit=dev` after the build: the server keeps the production dependencies only
    (what the playbook's `--omit=dev` is for), which is all `next start` needs."""
    return _op(host, "npm_prune", ["npm", "--prefix", frontend_dir(host), "prune", "--omit=dev", "--no-audit",
                                   "--no-fund"], 300.0, True)


def npm_build(host: HostTarget) -> Operation:
    return _op(host, "npm_build", ["npm", "--prefix", frontend_dir(host), "run", "build"], 1800.0, True)
