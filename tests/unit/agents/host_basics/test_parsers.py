"""Host-basics parsers over recorded output (tests/fixtures/host_basics, see its README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support_mcp.agents.host_basics.parsers import (
    parse_df,
    parse_free,
    parse_nproc,
    parse_top,
    parse_uptime,
)
from support_mcp.domain.errors import InvalidInput

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "host_basics"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


# Fixtures that are recorded on purpose in a form the parsers must refuse.
REFUSED = {"local_df_human_readable.txt": parse_df}


def _parser_for(name: str):  # type: ignore[no-untyped-def]
    for key, parser in (("uptime", parse_uptime), ("_df", parse_df), ("free", parse_free),
                        ("top", parse_top), ("nproc", parse_nproc)):
        if key in name:
            return parser
    raise AssertionError(f"no parser for fixture {name}")


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.txt")))
def test_every_fixture_parses_or_is_refused_on_purpose(name: str) -> None:
    if name in REFUSED:
        with pytest.raises(InvalidInput):
            REFUSED[name](fixture(name))
    else:
        assert _parser_for(name)(fixture(name)) is not None


@pytest.mark.parametrize(
    ("name", "loads", "seconds", "users"),
    [
        ("local_uptime.txt", (0.01, 0.09, 0.07), 8 * 60, 0),
        ("hetzner_pressure_uptime.txt", (7.90, 6.42, 4.18), 3 * 86_400 + 4 * 3_600 + 5 * 60, 2),
        ("hetzner_busy_uptime.txt", (2.41, 2.18, 1.97), 47 * 86_400 + 21 * 3_600 + 48 * 60, 1),
        ("uptime_up_12_min.txt", (0.52, 0.31, 0.12), 12 * 60, 1),
        ("uptime_up_1_day_2_users.txt", (0.08, 0.03, 0.01), 86_400, 2),
        ("uptime_up_hours_minutes.txt", (0.00, 0.01, 0.00), 2 * 3_600 + 5 * 60, 1),
    ],
)
def test_parse_uptime(name: str, loads: tuple[float, float, float], seconds: int, users: int) -> None:
    up = parse_uptime(fixture(name))
    assert (up.load1, up.load5, up.load15) == loads
    assert up.uptime_seconds == seconds
    assert up.users == users
    assert "load average" in up.line


def test_parse_uptime_without_users_and_bsd_style_load() -> None:
    up = parse_uptime("10:00  up 2 days, 3 hrs, load averages: 1.20 1.30 1.40")
    assert (up.load1, up.uptime_seconds, up.users) == (1.20, 2 * 86_400 + 3 * 3_600, None)


def test_parse_df_local_recording() -> None:
    (root,) = parse_df(fixture("local_df.txt"))
    assert root.mount == "/" and root.filesystem == "/dev/vda"
    assert root.size_bytes == 270_553_174_016 and root.use_percent == 23
    assert root.used_bytes + root.available_bytes <= root.size_bytes


def test_parse_df_full_root_on_hetzner() -> None:
    disks = {d.mount: d for d in parse_df(fixture("hetzner_pressure_df.txt"))}
    assert disks["/"].use_percent == 96
    assert disks["/"].available_bytes == 1_579_147_264
    assert disks["/boot/efi"].use_percent == 6
    assert disks["/mnt/HC_Volume_100234567"].filesystem == "/dev/sdb"
    assert any(m.startswith("/var/lib/docker/overlay2/") for m in disks)


def test_parse_df_converts_kibibyte_blocks_and_dash_percent() -> None:
    text = (
        "Filesystem     1024-blocks    Used Available Capacity Mounted on\n"
        "/dev/sda1        39521216 36349016   1542136      96% /\n"
        "none                    0        0         0       -  /proc/fake\n"
    )
    root, empty = parse_df(text)
    assert root.size_bytes == 39_521_216 * 1024 and root.use_percent == 96
    assert empty.use_percent is None


def test_parse_free_memory_pressure_with_swap() -> None:
    mem = parse_free(fixture("hetzner_pressure_free.txt"))
    assert (mem.total_mib, mem.used_mib, mem.free_mib, mem.available_mib) == (3820, 3512, 104, 187)
    assert (mem.swap_total_mib, mem.swap_used_mib, mem.swap_free_mib) == (2047, 1630, 417)
    assert mem.available_percent == pytest.approx(4.895, abs=0.01)
    assert mem.lines[1].startswith("Mem:")


def test_parse_free_local_recording() -> None:
    mem = parse_free(fixture("local_free.txt"))
    assert mem.total_mib == 24105 and mem.swap_total_mib == 0
    assert mem.available_mib <= mem.total_mib


def test_parse_free_wide_output_sums_buffers_and_cache() -> None:
    text = (
        "               total        used        free      shared     buffers       cache   available\n"
        "Mem:            3820        3512         104          41          20         183         187\n"
        "Swap:           2047        1630         417\n"
    )
    assert parse_free(text).buff_cache_mib == 203


def test_parse_nproc() -> None:
    assert parse_nproc(fixture("local_nproc.txt")) == 2


def test_parse_top_under_pressure() -> None:
    top = parse_top(fixture("hetzner_pressure_top.txt"), limit=3)
    assert top.uptime.load1 == 7.90
    assert (top.tasks_total, top.tasks_running, top.tasks_zombie) == (187, 9, 0)
    assert (top.cpu_idle, top.cpu_iowait, top.cpu_steal) == (0.0, 22.6, 1.6)
    assert [p.pid for p in top.processes] == [412873, 412901, 1187]
    assert top.processes[0].command == "node" and top.processes[0].cpu_percent == 98.7
    assert top.header_lines[0].startswith("top - ")


def test_parse_top_local_recording_sorts_by_cpu() -> None:
    top = parse_top(fixture("local_top.txt"))
    cpu = [p.cpu_percent for p in top.processes]
    assert cpu == sorted(cpu, reverse=True) and len(cpu) == 10
    assert top.cpu_idle == 100.0 and top.tasks_total == 87


def test_parse_top_reads_procps_3_2_cpu_line() -> None:
    lines = fixture("hetzner_pressure_top.txt").splitlines()
    lines[2] = "Cpu(s): 61.3%us, 12.9%sy,  0.0%ni,  0.0%id, 22.6%wa,  0.0%hi,  1.6%si,  1.6%st"
    top = parse_top("\n".join(lines))
    assert (top.cpu_idle, top.cpu_iowait) == (0.0, 22.6)


MALFORMED = [
    (parse_uptime, ""),
    (parse_uptime, "command not found"),
    (parse_uptime, " 10:00:00 up 3 days,  4:05,  1 user\n"),  # no load average
    (parse_uptime, " 10:00:00 up 3 fortnights,  1 user,  load average: 0.1, 0.2, 0.3"),
    (parse_uptime, " 10:00:00 up 5 min,  1 user,  Last durchschnittlich: 0,10, 0,20, 0,30"),
    (parse_uptime, fixture("local_uptime.txt") * 2),
    (parse_df, ""),
    (parse_df, fixture("local_df_human_readable.txt")),
    (parse_df, "Filesystem 1-blocks Used Available Capacity Mounted on\n"),
    (parse_df, "Filesystem 1-blocks Used Available Capacity Mounted on\n/dev/sda1 12G 10G 2G 83% /\n"),
    (parse_df, "Filesystem 1-blocks Used Available Capacity Mounted on\n/dev/sda1 100 90 10 90%\n"),
    (parse_free, ""),
    (parse_free, "             total       used       free     shared    buffers     cached\n"
                 "Mem:          3820       3512        104         41         20        183\n"
                 "-/+ buffers/cache:       3309        511\nSwap:         2047       1630        417\n"),
    (parse_free, fixture("local_free.txt").replace("24105", "23Gi")),
    (parse_free, fixture("local_free.txt").splitlines()[0] + "\nMem: 1 2\nSwap: 0 0 0\n"),
    (parse_free, fixture("local_free.txt").replace("Swap:", "Zwap:")),
    (parse_nproc, ""),
    (parse_nproc, "0\n"),
    (parse_nproc, "two\n"),
    (parse_top, ""),
    (parse_top, "\n".join(fixture("local_top.txt").splitlines()[:5])),  # no process table
    (parse_top, fixture("local_top.txt").replace("%Cpu(s)", "%Cxx(s)")),
    (parse_top, fixture("local_top.txt").replace(" 6.7 ", " n/a ", 1)),
]


@pytest.mark.parametrize(("parser", "text"), MALFORMED)
def test_malformed_input_raises_invalid_input(parser, text: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match="unparseable"):
        parser(text)
