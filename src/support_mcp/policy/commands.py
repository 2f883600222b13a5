"""Typed operations: a command is built from validated arguments into an argv list, never a
shell string. Each builder checks its arguments and the rendered argv against the allowlist.

Every program an operation may run is listed in `PROGRAMS` with the exact option tokens it may
carry and a validator for its positional values; `validate_argv` enforces that table.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from support_mcp.domain.errors import PolicyViolation


@dataclass(frozen=True)
class Operation:
    """One validated command: its name, rendered argv, the target it runs on, and its limits."""

    name: str
    argv: tuple[str, ...]
    target: str = "local"
    timeout_s: float = 20.0
    writes: bool = False
    # Extra environment for this command only (names from ALLOWED_ENV, values checked).
    env: tuple[tuple[str, str], ...] = ()
    # A launcher that leaves a daemon behind (`caddy start`): its output is not captured, so the
    # daemon does not hold the executor's pipes (or the SSH channel) open.
    detach: bool = False

    def __post_init__(self) -> None:
        for name, value in self.env:
            validate_env(name, value)

    def display(self) -> str:
        prefix = " ".join(f"{k}={v}" for k, v in self.env)
        return (prefix + " " if prefix else "") + " ".join(self.argv)


# Only these may be set per operation; PATH, LD_*, BASH_ENV and friends never.
ALLOWED_ENV = frozenset({"PM2_HOME", "HOME", "NODE_ENV", "NEXT_TELEMETRY_DISABLED", "CI"})
_ENV_VALUE_RE = re.compile(r"[A-Za-z0-9_./:@+-]{1,256}")


def validate_env(name: str, value: str) -> tuple[str, str]:
    """An allowed variable with a plain value (paths absolute and normalised)."""
    if name not in ALLOWED_ENV:
        raise PolicyViolation(f"environment variable {name!r} may not be set (allowed: {sorted(ALLOWED_ENV)})")
    if not _ENV_VALUE_RE.fullmatch(value):
        raise PolicyViolation(f"value of {name} must be plain ASCII without spaces or shell characters")
    if name in ("PM2_HOME", "HOME"):
        validate_absolute_path(value)
    return name, value


# --- value validators: each returns the value unchanged or raises PolicyViolation -------------

_PROGRAM_RE = re.compile(r"[a-z][a-z0-9._-]*")
_TARGET_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_UNIT_RE = re.compile(r"[A-Za-z0-9@._-]+")
_PATH_RE = re.compile(r"/[A-Za-z0-9._/@+-]*")
_MAX_ARG_LEN = 4096


def validate_target(target: str) -> str:
    """A target is a configured name such as `local` or `web-1`, never a host string with options."""
    if not _TARGET_RE.fullmatch(target):
        raise PolicyViolation(f"invalid target name {target!r}: expected letters, digits, '.', '_', '-'")
    return target


def validate_unit_name(unit: str) -> str:
    """A systemd/pm2 unit name: `[A-Za-z0-9@._-]+` and not starting with `-` (option injection)."""
    if not _UNIT_RE.fullmatch(unit):
        raise PolicyViolation(f"invalid unit name {unit!r}: allowed are letters, digits and @ . _ -")
    if unit.startswith("-"):
        raise PolicyViolation(f"unit name {unit!r} starts with '-' and would be read as an option")
    return unit


def validate_absolute_path(path: str) -> str:
    """An absolute, normalised path of plain characters: no `..`, no `//`, no trailing `/`."""
    if not path.startswith("/"):
        raise PolicyViolation(f"path {path!r} must be absolute (start with '/')")
    if not _PATH_RE.fullmatch(path):
        raise PolicyViolation(f"path {path!r} contains characters outside [A-Za-z0-9._/@+-]")
    if ".." in path.split("/"):
        raise PolicyViolation(f"path {path!r} contains '..' (path traversal)")
    # normpath keeps a leading '//' (POSIX allows it to mean something else), so check it apart.
    if posixpath.normpath(path) != path or "//" in path:
        raise PolicyViolation(f"path {path!r} is not normalised; use {posixpath.normpath(path)!r}")
    return path


def _choice(*allowed: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise PolicyViolation(f"value {value!r} not allowed here; expected one of {', '.join(allowed)}")
        return value

    return check


@dataclass(frozen=True)
class ProgramSpec:
    """What one allowlisted program may receive: flag tokens, options with a validated value
    (`-x tmpfs`), and how many validated positional values."""

    flags: frozenset[str] = frozenset()
    valued: Mapping[str, Callable[[str], str]] = field(default_factory=dict)
    positional: Callable[[str], str] | None = None
    max_positionals: int = 0


# Pseudo and snapshot filesystems whose fill level says nothing about the host's disks.
PSEUDO_FILESYSTEMS: tuple[str, ...] = ("tmpfs", "devtmpfs", "squashfs", "efivarfs")

PROGRAMS: dict[str, ProgramSpec] = {
    "uptime": ProgramSpec(),
    "nproc": ProgramSpec(),
    "df": ProgramSpec(
        flags=frozenset({"-P", "-B1", "-l"}),
        valued={"-x": _choice(*PSEUDO_FILESYSTEMS)},
        positional=validate_absolute_path,
        max_positionals=8,
    ),
    "free": ProgramSpec(flags=frozenset({"-m"})),
    "top": ProgramSpec(flags=frozenset({"-b", "-n1"})),
}

# Characters a shell would interpret; none of them belongs in a program name.
SHELL_METACHARACTERS = frozenset(";&|<>()$`\\\"' \t\n*?[]{}~!#=%^,")


def _check_token(index: int, token: object) -> str:
    if not isinstance(token, str):
        raise PolicyViolation(f"argv[{index}] must be a string, got {type(token).__name__}")
    if not token:
        raise PolicyViolation(f"argv[{index}] is empty")
    if len(token) > _MAX_ARG_LEN:
        raise PolicyViolation(f"argv[{index}] is longer than {_MAX_ARG_LEN} characters")
    for char in token:
        if not (char.isascii() and char.isprintable()):
            # Control characters (NUL, newline, ESC) and any non-ASCII character: fullwidth
            # punctuation and Cyrillic/Greek letters look like ASCII to a human reviewer.
            name = unicodedata.name(char, "control character")
            raise PolicyViolation(
                f"argv[{index}] {token!r} contains U+{ord(char):04X} ({name}); "
                "only printable ASCII is allowed"
            )
    return token


def validate_argv(argv: Sequence[str]) -> tuple[str, ...]:
    """Check a rendered argv against `PROGRAMS`; return it as a tuple or raise PolicyViolation.

    Refuses: empty argv, control or non-ASCII characters, unknown programs or program paths,
    option tokens the program's spec does not list, and positionals that fail their validator."""
    if isinstance(argv, str | bytes):
        raise PolicyViolation("argv must be a sequence of arguments, not one string (no shell strings)")
    args = tuple(_check_token(i, token) for i, token in enumerate(argv))
    if not args:
        raise PolicyViolation("argv is empty")
    program = args[0]
    if SHELL_METACHARACTERS.intersection(program) or "/" in program:
        raise PolicyViolation(f"program {program!r} must be a bare name without shell metacharacters or '/'")
    if not _PROGRAM_RE.fullmatch(program) or program not in PROGRAMS:
        raise PolicyViolation(f"program {program!r} is not allowlisted; allowed: {', '.join(sorted(PROGRAMS))}")
    _check_arguments(program, PROGRAMS[program], args[1:])
    return args


def _check_arguments(program: str, spec: ProgramSpec, rest: tuple[str, ...]) -> None:
    positionals: list[str] = []
    options_done = False
    i = 0
    while i < len(rest):
        token = rest[i]
        if not options_done and token == "--":
            options_done = True
        elif not options_done and token.startswith("-"):
            if token in spec.flags:
                pass
            elif token in spec.valued:
                if i + 1 >= len(rest):
                    raise PolicyViolation(f"{program}: option {token} needs a value")
                i += 1
                spec.valued[token](rest[i])
            else:
                raise PolicyViolation(f"{program}: option {token!r} is not allowed")
        else:
            # Even after `--` a value starting with '-' is refused: no builder produces one.
            if token.startswith("-"):
                raise PolicyViolation(f"{program}: value {token!r} starts with '-' (option injection)")
            if spec.positional is None:
                raise PolicyViolation(f"{program}: takes no positional arguments, got {token!r}")
            spec.positional(token)
            positionals.append(token)
        i += 1
    if len(positionals) > spec.max_positionals:
        raise PolicyViolation(f"{program}: at most {spec.max_positionals} positional arguments")


def _build(name: str, argv: Sequence[str], target: str, timeout_s: float) -> Operation:
    return Operation(name=name, argv=validate_argv(argv), target=validate_target(target), timeout_s=timeout_s)


# --- host basics: read-only probes every agent may run ---------------------------------------


def uptime(target: str = "local") -> Operation:
    """`uptime`: load averages 1/5/15, time since boot, logged-in users."""
    return _build("uptime", ["uptime"], target, 10.0)


def nproc(target: str = "local") -> Operation:
    """`nproc`: number of usable CPU cores, to judge the load average per core."""
    return _build("nproc", ["nproc"], target, 10.0)


def df(*paths: str, target: str = "local") -> Operation:
    """`df -P -B1 -l` without pseudo filesystems: one POSIX line per local filesystem, in bytes.

    `-l` keeps df away from network mounts, where a dead server makes it hang."""
    excludes = [token for fs in PSEUDO_FILESYSTEMS for token in ("-x", fs)]
    argv = ["df", "-P", "-B1", "-l", *excludes]
    if paths:
        argv += ["--", *(validate_absolute_path(p) for p in paths)]
    return _build("df", argv, target, 20.0)


def free(target: str = "local") -> Operation:
    """`free -m`: memory and swap in MiB, including the kernel's `available` estimate."""
    return _build("free", ["free", "-m"], target, 10.0)


def top_snapshot(target: str = "local") -> Operation:
    """`top -b -n1`: one batch frame with tasks, CPU states and processes sorted by %CPU."""
    return _build("top", ["top", "-b", "-n1"], target, 15.0)
