"""The command model: builders render fixed argv lists; validate_argv refuses every injection."""

from __future__ import annotations

import pytest

from support_mcp.domain.errors import PolicyViolation
from support_mcp.policy import commands
from support_mcp.policy.commands import (
    Operation,
    validate_absolute_path,
    validate_argv,
    validate_target,
    validate_unit_name,
)

DF_BASE = ("df", "-P", "-B1", "-l", "-x", "tmpfs", "-x", "devtmpfs", "-x", "squashfs", "-x", "efivarfs")


def test_builders_render_read_only_argv_lists() -> None:
    assert commands.uptime().argv == ("uptime",)
    assert commands.nproc().argv == ("nproc",)
    assert commands.df().argv == DF_BASE
    assert commands.free().argv == ("free", "-m")
    assert commands.top_snapshot().argv == ("top", "-b", "-n1")
    for op in (commands.uptime(), commands.nproc(), commands.df(), commands.free(), commands.top_snapshot()):
        assert isinstance(op, Operation)
        assert op.target == "local" and not op.writes and 0 < op.timeout_s <= 20
        assert validate_argv(op.argv) == op.argv


def test_df_puts_validated_paths_after_the_end_of_options() -> None:
    op = commands.df("/var/lib/postgresql", "/", target="web-1")
    assert op.argv == (*DF_BASE, "--", "/var/lib/postgresql", "/")
    assert op.target == "web-1"
    assert op.display().endswith("-- /var/lib/postgresql /")


INJECTION_CORPUS: list[tuple[str, list[str]]] = [
    ("empty argv", []),
    ("semicolon in program", ["df;rm", "-rf", "/"]),
    ("space in program", ["df -h"]),
    ("pipe in program", ["uptime|sh"]),
    ("command substitution as program", ["$(id)"]),
    ("program given as a path", ["/bin/df"]),
    ("relative program path", ["../../bin/sh"]),
    ("program not allowlisted", ["rm", "-rf", "/"]),
    ("shell as program", ["bash", "-c", "df"]),
    ("sudo prefix", ["sudo", "df"]),
    ("semicolon argument", ["uptime", "; rm -rf /"]),
    ("and-and argument", ["uptime", "&&", "id"]),
    ("pipe argument", ["df", "-P", "|", "sh"]),
    ("redirection argument", ["free", "-m", ">", "/etc/passwd"]),
    ("command substitution argument", ["df", "$(id)"]),
    ("backticks in a path", ["df", "/`id`"]),
    ("variable in a path", ["df", "/tmp/$HOME"]),
    ("glob in a path", ["df", "/var/*"]),
    ("tilde path", ["df", "~root"]),
    ("newline in argument", ["df", "/var\nrm -rf /"]),
    ("newline after program", ["uptime\n"]),
    ("carriage return", ["df", "/var\r"]),
    ("NUL byte", ["free", "-m\x00"]),
    ("tab in argument", ["df", "-P\t-h"]),
    ("ANSI escape", ["uptime", "\x1b[2J"]),
    ("empty argument", ["uptime", ""]),
    ("long option with file", ["df", "--output=/etc/passwd"]),
    ("unknown short option", ["free", "-s", "1"]),
    ("top writes its config", ["top", "-b", "-n1", "-W"]),
    ("top unknown option with value", ["top", "-b", "-o", "%MEM"]),
    ("option injection after end of options", ["df", "-P", "--", "-rf"]),
    ("option injection as valued option value", ["df", "-x", "--output=/etc/passwd"]),
    ("valued option without value", ["df", "-x"]),
    ("valued option value outside choices", ["df", "-x", "ext4"]),
    ("positional where none is taken", ["free", "-m", "/etc/passwd"]),
    ("option-looking positional after --", ["df", "--", "--output=/etc/passwd"]),
    ("path traversal", ["df", "/var/../etc/shadow"]),
    ("relative traversal", ["df", "../../etc"]),
    ("relative path", ["df", "var/log"]),
    ("double slash", ["df", "//etc"]),
    ("not normalised dot", ["df", "/var/./log"]),
    ("trailing slash", ["df", "/var/log/"]),
    ("too many positionals", ["df", *[f"/p{i}" for i in range(9)]]),
    ("fullwidth letters in program", ["ｄｆ"]),
    ("fullwidth semicolon", ["uptime", "；", "id"]),
    ("Cyrillic er in program", ["uрtime"]),
    ("Cyrillic a in path", ["df", "/vаr"]),
    ("Greek omicron in option", ["top", "-b", "-n1", "-\u03bf"]),
    ("zero-width space", ["free", "-m\u200b"]),
    ("right-to-left override", ["df", "/var\u202e"]),
    ("non-breaking space", ["df", "-P\u00a0-h"]),
    ("fullwidth hyphen option", ["free", "\uff0dm"]),
]


def test_the_injection_corpus_is_large_enough() -> None:
    assert len(INJECTION_CORPUS) >= 25


@pytest.mark.parametrize(("case", "argv"), INJECTION_CORPUS, ids=[case for case, _ in INJECTION_CORPUS])
def test_injection_corpus_is_refused(case: str, argv: list[str]) -> None:
    with pytest.raises(PolicyViolation) as refused:
        validate_argv(argv)
    assert str(refused.value)  # a reason the caller can read


def test_a_single_shell_string_is_refused() -> None:
    with pytest.raises(PolicyViolation, match="not one string"):
        validate_argv("df -h; rm -rf /")  # type: ignore[arg-type]


def test_refusals_name_the_reason() -> None:
    with pytest.raises(PolicyViolation, match="not allowlisted"):
        validate_argv(["rm"])
    with pytest.raises(PolicyViolation, match="option injection"):
        validate_argv(["df", "--", "-rf"])
    with pytest.raises(PolicyViolation, match="not allowed"):
        validate_argv(["df", "--output=/etc/passwd"])
    with pytest.raises(PolicyViolation, match="U\\+FF1B"):
        validate_argv(["uptime", "；"])
    with pytest.raises(PolicyViolation, match="path traversal"):
        validate_argv(["df", "/var/../etc"])


@pytest.mark.parametrize(
    "path", ["../etc", "/var/../etc", "-rf", "--output=/etc/passwd", "/var/log/", "/a//b", "/var;id", "/vаr", ""]
)
def test_df_builder_refuses_unsafe_paths(path: str) -> None:
    with pytest.raises(PolicyViolation):
        commands.df(path)


@pytest.mark.parametrize("target", ["", "-oProxyCommand=sh", "local;id", "web 1", "wеb-1", "a" * 64, "host\n"])
def test_builders_refuse_unsafe_target_names(target: str) -> None:
    with pytest.raises(PolicyViolation):
        commands.uptime(target=target)
    with pytest.raises(PolicyViolation):
        validate_target(target)


@pytest.mark.parametrize("unit", ["-nginx", "--help", "nginx;id", "nginx service", "ngіnx", "nginx\n", "", "a/b"])
def test_unit_names_are_refused_when_unsafe(unit: str) -> None:
    with pytest.raises(PolicyViolation):
        validate_unit_name(unit)


@pytest.mark.parametrize("unit", ["nginx", "nginx.service", "getty@tty1.service", "pm2-app_1"])
def test_plain_unit_names_are_accepted(unit: str) -> None:
    assert validate_unit_name(unit) == unit


@pytest.mark.parametrize("path", ["/", "/var", "/var/lib/postgresql/16/main", "/srv/app-1/.next", "/mnt/HC_Volume_1"])
def test_normalised_absolute_paths_are_accepted(path: str) -> None:
    assert validate_absolute_path(path) == path
