"""Diagnostic operations on the host beyond the checks' own (issue 10, item 7), typed so nobody
falls back to a shell: journald with a line count and a search, Caddy's log file, a fixed-string
search in a file under the deploy folder, disk usage under it, who listens on a named port, and
the HTTP health path. Every parameter is validated with a clear reason; values never become
options (`--` before files, `-e` before a pattern), and paths are checked as text here and
resolved on the target by the caller (`agents.hetzner_ops.paths`).
"""

from __future__ import annotations

import re
from typing import Any

from support_mcp.domain.errors import PolicyViolation
from support_mcp.domain.targets import HostTarget
from support_mcp.policy import host_commands as hc
from support_mcp.policy.commands import PROGRAMS, Operation, ProgramSpec, validate_absolute_path

MAX_SINCE_MINUTES = 7 * 24 * 60
MAX_LINES = hc.MAX_LOG_LINES
MAX_MATCHES = 500
MAX_PATTERN = 200
_PORT_FILTER = re.compile(r"sport|=|:(\d{1,5})")
_HEALTH_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,200}(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,200})?")


def _integer(value: Any, what: str, low: int, high: int) -> int:
    """A whole number from low to high: a Python int (not a bool), or a string of digits only.
    `True`, `1.9`, `"1_0"`, `" 5"`, `"0x10"` and `"١٢"` are refused, not coerced."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PolicyViolation(f"{what} must be a whole number from {low} to {high}, got {value!r}")
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()) or len(value) > 7:
            raise PolicyViolation(f"{what} must be a whole number from {low} to {high}, got {value!r}")
        value = int(value)
    if not low <= value <= high:
        raise PolicyViolation(f"{what} must be a whole number from {low} to {high}, got {value!r}")
    return value


def checked_minutes(value: Any) -> int:
    return _integer(value, "since (minutes)", 1, MAX_SINCE_MINUTES)


def checked_lines(value: Any) -> int:
    return _integer(value, "lines", 1, MAX_LINES)


def checked_matches(value: Any) -> int:
    return _integer(value, "max_matches", 1, MAX_MATCHES)


def checked_port(value: Any) -> int:
    return _integer(value, "port", 1, 65535)


def checked_pattern(value: Any) -> str:
    """A search text: printable ASCII, 1 to 200 characters, no line break, not starting with '-'."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_PATTERN:
        raise PolicyViolation(f"pattern must be text of 1 to {MAX_PATTERN} characters")
    if not all(c.isascii() and c.isprintable() for c in value):
        raise PolicyViolation("pattern may hold printable ASCII characters only (no control characters or line breaks)")
    if value.startswith("-"):
        raise PolicyViolation(f"pattern {value!r} starts with '-' (it would be read as an option)")
    return value


def checked_health_path(value: Any) -> str:
    """A path on the app's own origin (`/api/health`): no scheme, host, `..`, spaces or line breaks."""
    if not isinstance(value, str) or not _HEALTH_PATH.fullmatch(value) or value.startswith("//"):
        raise PolicyViolation(f"health path {value!r} must be a path such as '/api/health' (no scheme or host)")
    if ".." in value.split("?", 1)[0].split("/"):
        raise PolicyViolation(f"health path {value!r} contains '..'")
    return value


def _journal_grep(value: str) -> str:
    if not value.isascii() or not value.isprintable() or len(value) > 2 * MAX_PATTERN:
        raise PolicyViolation("journalctl --grep: printable ASCII only")
    return value


def _port_filter(value: str) -> str:
    m = _PORT_FILTER.fullmatch(value)
    if m is None or (m.group(1) is not None and not 1 <= int(m.group(1)) <= 65535):
        raise PolicyViolation(f"ss: filter token {value!r} is not part of 'sport = :PORT'")
    return value


def _lines_value(value: str) -> str:
    return str(checked_lines(value))


def _matches_value(value: str) -> str:
    return str(checked_matches(value))


def _depth(value: str) -> str:
    return str(_integer(value, "maxdepth", 1, 6))


def _link_type(value: str) -> str:
    if value != "l":
        raise PolicyViolation(f"find -type {value!r}: only symbolic links (l) are listed")
    return value


# journalctl and ss already have entries (host_commands); these widen them, tail/grep/du are new.
_PROGRAMS: dict[str, ProgramSpec] = {
    "journalctl": ProgramSpec(valued={"--lines": _lines_value, "--grep": _journal_grep}),
    "tail": ProgramSpec(valued={"-n": _lines_value}, positional=validate_absolute_path, max_positionals=1),
    "grep": ProgramSpec(flags=frozenset({"-F", "-n", "-I"}), valued={"-m": _matches_value, "-e": checked_pattern},
                        positional=validate_absolute_path, max_positionals=1),
    "du": ProgramSpec(flags=frozenset({"-k", "-x", "--max-depth=1"}), positional=validate_absolute_path,
                      max_positionals=1),
    "ss": ProgramSpec(flags=frozenset({"-H", "-tlnp"}), positional=_port_filter, max_positionals=3),
    "find": ProgramSpec(flags=frozenset({"-xdev"}), valued={"-maxdepth": _depth, "-type": _link_type},
                        positional=validate_absolute_path, max_positionals=1),
}


def _register() -> None:
    for name, spec in _PROGRAMS.items():
        other = PROGRAMS.get(name)
        if other is None:
            PROGRAMS[name] = spec
            continue
        positional = other.positional or spec.positional
        if other.positional is not None and spec.positional is not None and other.positional is not spec.positional:
            raise RuntimeError(f"{name}: two positional validators")  # not the case today; keep it explicit
        PROGRAMS[name] = ProgramSpec(flags=other.flags | spec.flags, valued={**other.valued, **spec.valued},
                                     positional=positional,
                                     max_positionals=max(other.max_positionals, spec.max_positionals))


_register()


def journal(host: HostTarget, unit: str, *, since_minutes: Any = 30, lines: Any = 200,
            grep: str | None = None) -> Operation:
    """`journalctl -u <unit> --since -Nmin --lines N [--grep TEXT] -o short-iso --no-pager`."""
    argv = ["journalctl", "--no-pager", "-o", "short-iso", "-u", hc.checked_unit(host, unit),
            "--since", f"-{checked_minutes(since_minutes)}min", "--lines", str(checked_lines(lines))]
    if grep is not None:  # journalctl's --grep is a PCRE2 regex: the text is escaped to match literally
        argv += ["--grep", re.sub(r"([^A-Za-z0-9 _])", r"\\\1", checked_pattern(grep))]
    return hc.operation(host, "journal_search", argv, 20.0)


def caddy_log_tail(host: HostTarget, path: str, *, lines: Any = 200) -> Operation:
    """`tail -n N -- <Caddy's log file>`: the configured file only (resolved by the caller)."""
    return hc.operation(host, "caddy_log", ["tail", "-n", str(checked_lines(lines)), "--", validate_absolute_path(path)],
                        15.0)


def grep_file(host: HostTarget, path: str, pattern: str, *, max_matches: Any = 100,
              resolved: hc.ResolvedRoots | None = None) -> Operation:
    """`grep -F -n -I -m N -e TEXT -- <file under the deploy folder>`: a fixed string, never a regex."""
    return hc.operation(host, "grep", ["grep", "-F", "-n", "-I", "-m", str(checked_matches(max_matches)),
                                       "-e", checked_pattern(pattern), "--", hc.checked_path(host, path, resolved)],
                        20.0)


def disk_usage(host: HostTarget, path: str, resolved: hc.ResolvedRoots | None = None) -> Operation:
    """`du -k -x --max-depth=1 -- <folder under the deploy folder>`."""
    return hc.operation(host, "du", ["du", "-k", "-x", "--max-depth=1", "--", hc.checked_path(host, path, resolved)],
                        60.0)


def port_listeners(host: HostTarget, port: Any) -> Operation:
    """`ss -H -tlnp sport = :PORT`: who listens on one TCP port."""
    return hc.operation(host, "port_listeners", ["ss", "-H", "-tlnp", "sport", "=", f":{checked_port(port)}"], 10.0)


def symlinks_under(host: HostTarget, depth: int = 4) -> Operation:
    """`find <deploy folder> -xdev -maxdepth N -type l`: the symbolic links in the deploy folder."""
    return hc.operation(host, "find_links", ["find", hc.checked_path(host, str(host.deploy_root)), "-xdev",
                                             "-maxdepth", str(_integer(depth, "maxdepth", 1, 6)), "-type", "l"], 30.0)
