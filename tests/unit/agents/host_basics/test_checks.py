"""Host-basics checks judged over replayed recordings: healthy, disk full, memory pressure,
high load, and commands that fail, time out or cannot start."""

from __future__ import annotations

import uuid

from helpers.replay import FIXTURES, HEALTHY, RECORDED_AT, Replay, ReplayExecutor  # noqa: F401
from support_mcp.agents.base import Check, CheckContext
from support_mcp.agents.host_basics.checks import (
    HOST_BASICS_CHECKS,
    DiskCheck,
    MemoryCheck,
    SystemLoadCheck,
)
from support_mcp.domain.models import CheckStatus, Finding, Language
from support_mcp.executors.base import CommandResult
from support_mcp.policy.commands import Operation


async def run_check(check: Check, language: Language = "de", **faults: Replay) -> tuple[list[Finding], list[str]]:
    recorded: list[str] = []

    async def record(agent: str, op: Operation, result: CommandResult) -> None:
        recorded.append(op.display())

    ctx = CheckContext(
        ticket_id=uuid.uuid4(), agent="hetzner-ops-agent",
        executors={"local": ReplayExecutor({**HEALTHY, **faults})}, record=record, language=language,
    )
    return await check.run(ctx), recorded


async def test_healthy_machine_gives_one_ok_finding_per_check() -> None:
    for check in HOST_BASICS_CHECKS:
        findings, _ = await run_check(check)
        assert [f.status for f in findings] == [CheckStatus.OK]
        assert findings[0].check == check.name and findings[0].evidence and findings[0].data


async def test_full_root_filesystem_fails_and_ignores_docker_overlay() -> None:
    findings, recorded = await run_check(DiskCheck(), df=Replay("hetzner_pressure_df.txt"))
    assert len(findings) == 1
    (full,) = findings
    assert full.status is CheckStatus.FAIL
    assert full.title == "Dateisystem / zu 96 % belegt"
    assert "1,5 GiB frei von 37,7 GiB" in full.detail
    assert full.evidence[0].startswith("Filesystem") and full.evidence[1].startswith("/dev/sda1")
    assert full.data["use_percent"] == 96 and full.data["available_bytes"] == 1_579_147_264
    assert recorded == ["df -P -B1 -l -x tmpfs -x devtmpfs -x squashfs -x efivarfs"]


async def test_disk_at_84_percent_warns() -> None:
    (finding,), _ = await run_check(DiskCheck(), "en", df=Replay("hetzner_busy_df.txt"))
    assert finding.status is CheckStatus.WARN
    assert finding.title == "Filesystem / is 84% full"


async def test_memory_pressure_fails_and_mentions_swap() -> None:
    (finding,), _ = await run_check(MemoryCheck(), free=Replay("hetzner_pressure_free.txt"))
    assert finding.status is CheckStatus.FAIL
    assert finding.title == "4,9 % des Arbeitsspeichers verfügbar (187 von 3820 MiB)"
    assert "Swap belegt: 1630 von 2047 MiB" in finding.detail
    assert finding.evidence[1].startswith("Mem:") and finding.evidence[2].startswith("Swap:")
    assert finding.data["available_mib"] == 187 and finding.data["swap_used_mib"] == 1630


async def test_memory_at_15_percent_available_warns() -> None:
    (finding,), _ = await run_check(MemoryCheck(), free=Replay("hetzner_busy_free.txt"))
    assert finding.status is CheckStatus.WARN
    assert finding.data["available_percent"] == 15.0


async def test_high_load_fails_and_names_the_busiest_processes() -> None:
    (finding,), recorded = await run_check(
        SystemLoadCheck(), nproc=Replay("hetzner_pressure_nproc.txt"),
        uptime=Replay("hetzner_pressure_uptime.txt"), top=Replay("hetzner_pressure_top.txt"),
    )
    assert finding.status is CheckStatus.FAIL
    assert finding.title == "Systemlast 3,95 pro CPU-Kern (Last 7,90 auf 2 Kernen)"
    assert "Warten auf I/O 22,6 %" in finding.detail
    assert finding.data["load1_per_core"] == 3.95 and finding.data["cores"] == 2
    assert finding.data["top_processes"][0] == {
        "pid": 412873, "user": "app", "cpu_percent": 98.7, "mem_percent": 37.5, "command": "node",
        "cpu_time_s": 412 * 60 + 7.33}
    assert any(line.strip().startswith("412873 app") for line in finding.evidence)
    assert recorded == ["nproc", "uptime", "top -b -n1"]


async def test_high_load_of_the_apps_own_processes_stays_a_fault_and_says_so() -> None:
    (finding,), _ = await run_check(
        SystemLoadCheck(app_user="app"), uptime=Replay("hetzner_pressure_uptime.txt"),
        top=Replay("hetzner_pressure_top.txt"))
    assert finding.status is CheckStatus.FAIL and finding.data["load_source"] == "app"
    assert "Die Last kommt von Prozessen der App (Benutzer app): node (app, 99 %)" in finding.detail


async def test_high_load_of_other_users_processes_is_no_fault_of_the_app() -> None:
    # the same recorded host, but the app runs as `deploy`: node of user `app` is someone else's
    (finding,), _ = await run_check(
        SystemLoadCheck(app_user="deploy"), uptime=Replay("hetzner_pressure_uptime.txt"),
        top=Replay("hetzner_pressure_top.txt"))
    assert finding.status is CheckStatus.OK and finding.data["load_source"] == "others"
    assert finding.title.startswith("Systemlast 3,95 pro CPU-Kern, verursacht von anderen Prozessen als denen "
                                    "der App (Benutzer deploy): node (app, 99 %)")
    assert finding.data["other_cpu_percent"] > 0 and finding.data["app_cpu_percent"] == 0
    # the app's processes idle while the minute's load average is still high: not the app's load
    idle_app = "\n".join(line.replace(" app       ", " smcp-he+  ").replace("98.7", " 4.0").replace("41.2", " 2.0")
                         if " app " in line else line
                         for line in (FIXTURES / "hetzner_pressure_top.txt").read_text().splitlines())
    (idle,), _ = await run_check(SystemLoadCheck(app_user="smcp-hetzner"), uptime=Replay("hetzner_pressure_uptime.txt"),
                                 top=Replay(stdout=idle_app))
    assert idle.status is CheckStatus.OK and idle.data["load_source"] == "others" and idle.data["app_cpu_percent"] < 50
    # the agent's own probes (`pm2 jlist` is node, 0.13 s of CPU in all) are no load of the app
    probes = "\n".join(line.replace(" app       ", " smcp-he+  ").replace("412:07.33", "  0:00.13")
                        .replace("96:41.02", " 0:00.14") if " app " in line else line
                        for line in (FIXTURES / "hetzner_pressure_top.txt").read_text().splitlines())
    (probed,), _ = await run_check(SystemLoadCheck(app_user="smcp-hetzner"),
                                   uptime=Replay("hetzner_pressure_uptime.txt"), top=Replay(stdout=probes))
    assert probed.status is CheckStatus.OK and probed.data["load_source"] == "others", probed.data
    # top cuts long user names: `smcp-he+` is the lab user smcp-hetzner
    check = SystemLoadCheck(app_user="smcp-hetzner")
    assert check._is_app_user("smcp-he+") and not check._is_app_user("smcp-fr+") and check._is_app_user("smcp-hetzner")


async def test_load_above_one_per_core_warns_in_english() -> None:
    (finding,), _ = await run_check(SystemLoadCheck(), "en", uptime=Replay("hetzner_busy_uptime.txt"))
    assert finding.status is CheckStatus.WARN
    assert finding.title == "System load 1.21 per CPU core (load 2.41 on 2 cores)"


async def test_high_load_without_top_still_fails() -> None:
    (finding,), _ = await run_check(
        SystemLoadCheck(), uptime=Replay("hetzner_pressure_uptime.txt"),
        top=Replay(exit_code=1, stderr="top: failed tty get\n"),
    )
    assert finding.status is CheckStatus.FAIL
    assert "Prozessliste (top) nicht verfügbar." in finding.detail


async def test_failed_command_is_an_error_finding_with_stderr() -> None:
    stderr = "df: cannot read table of mounted file systems: No such file or directory\n"
    (finding,), _ = await run_check(DiskCheck(), df=Replay(exit_code=1, stderr=stderr))
    assert finding.status is CheckStatus.ERROR
    assert finding.title == "Festplattenbelegung: Befehl fehlgeschlagen (Exit-Code 1)"
    assert finding.evidence == [stderr.strip()]
    assert finding.data["exit_code"] == 1 and finding.data["command"][0] == "df"


async def test_df_with_one_unreadable_mount_is_still_judged() -> None:
    stderr = "df: /run/user/1000/doc: Operation not permitted\n"
    (finding,), _ = await run_check(DiskCheck(), df=Replay("hetzner_pressure_df.txt", exit_code=1, stderr=stderr))
    assert finding.status is CheckStatus.FAIL
    assert finding.evidence[-1] == "stderr: df: /run/user/1000/doc: Operation not permitted"


async def test_timeout_is_an_error_finding() -> None:
    (finding,), _ = await run_check(MemoryCheck(), "en", free=Replay(exit_code=None, timed_out=True))
    assert finding.status is CheckStatus.ERROR
    assert finding.title == "Memory: timed out after 10 s"
    assert finding.data["timed_out"] is True


async def test_missing_program_is_an_error_finding_not_an_exception() -> None:
    (finding,), recorded = await run_check(SystemLoadCheck(), nproc=Replay(missing=True))
    assert finding.status is CheckStatus.ERROR
    assert finding.title == "Systemlast: Befehl nicht ausführbar"
    assert "not found" in finding.evidence[0]
    assert recorded == []


async def test_unparseable_output_is_an_error_finding() -> None:
    (finding,), _ = await run_check(DiskCheck(), df=Replay("local_df_human_readable.txt"))
    assert finding.status is CheckStatus.ERROR
    assert finding.title == "Festplattenbelegung: Ausgabe nicht auswertbar"
    assert "unparseable df header" in finding.evidence[0]


def test_checks_carry_names_tools_and_titles_in_both_languages() -> None:
    names = [check.name for check in HOST_BASICS_CHECKS]
    assert names == ["host.load", "host.disk", "host.memory"]
    titles = {(c.title_for("de"), c.title_for("en")) for c in (SystemLoadCheck(), DiskCheck(), MemoryCheck())}
    assert titles == {("Systemlast", "System load"), ("Festplattenbelegung", "Disk usage"),
                      ("Arbeitsspeicher", "Memory")}
    assert all(check.tools and check.title for check in HOST_BASICS_CHECKS)
