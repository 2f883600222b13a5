"""The `support-mcp` command as a user runs it: real processes, real database, exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

BIN = Path(sys.executable).parent / "support-mcp"


def cli(*args: str, dsn: str | None, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SUPPORT_MCP_")}
    if dsn is not None:
        base["SUPPORT_MCP_DATABASE_URL"] = dsn
    return subprocess.run([str(BIN), *args], env={**base, **env, "COLUMNS": "120"}, capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_create_run_and_show_a_ticket(fresh_dsn: str) -> None:
    created = cli("tickets", "create", "--subject", "Server langsam", "--message",
                  "Seit heute extrem langsam, Festplatte voll?", "--customer", "acme", "--json", dsn=fresh_dsn)
    assert created.returncode == 0, created.stderr
    ticket_id = json.loads(created.stdout)["id"]

    triaged = cli("triage", ticket_id, "--json", dsn=fresh_dsn)
    choice = json.loads(triaged.stdout)
    assert choice["agents"][0] == choice["primary"] == "hetzner-ops-agent"
    # the matched symptoms with the words that matched, not the pattern table
    assert choice["matches"][0]["symptom"] == "resource_pressure" and "langsam" in choice["matches"][0]["matched"]
    assert "patterns" not in triaged.stdout and len(triaged.stdout) < 3000

    run = cli("run", "--ticket", ticket_id, "--agent", "hetzner-ops", "--json", dsn=fresh_dsn)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["verdict"] in ("confirmed", "refuted")  # real checks on this machine
    assert {f["check"] for f in report["findings"]} == {"host.load", "host.disk", "host.memory"}
    assert report["checklist"]["CPU/RAM/Disk ok?"] is True

    shown = cli("tickets", "show", ticket_id, "--json", dsn=fresh_dsn)
    timeline = json.loads(shown.stdout)["timeline"]
    assert any("hypothesis" in e["tags"] for e in timeline)
    assert sum("command" in e["tags"] for e in timeline) >= 4

    human = cli("tickets", "show", ticket_id, dsn=fresh_dsn)
    assert "Hypothese (hetzner-ops-agent)" in human.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("tickets", "show", "not-a-uuid"), 2, "malformed ticket id"),
        (("tickets", "show", "00000000-0000-0000-0000-000000000000"), 4, "does not exist"),
        (("run", "--ticket", "x'; drop table support_tickets; --", "--agent", "hetzner-ops"), 2, "malformed ticket id"),
        (("run", "--ticket", "00000000-0000-0000-0000-000000000000", "--agent", "root"), 2, "unknown agent"),
        (("tickets", "note", "00000000-0000-0000-0000-000000000000", "--file", "/nonexistent/n.md"), 2, "cannot read"),
        (("plans", "draft", "--ticket", "00000000-0000-0000-0000-000000000000", "--agent", "frontend",
          "--repair", "frontend.hotfix_deploy", "--param", "patch=@/nonexistent/fix.diff"), 2, "cannot read"),
        (("plans", "approve", "not-a-plan", "--hash", "x", "--approver", "Max"), 2, "malformed plan id"),
    ],
)
def test_bad_input_gets_a_clear_error_and_exit_code(fresh_dsn: str, args: tuple[str, ...], code: int,
                                                    message: str) -> None:
    result = cli(*args, dsn=fresh_dsn)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_database_down_is_exit_6_without_password() -> None:
    result = cli("tickets", "list", dsn="postgresql://app:s3cretpw@127.0.0.1:1/app?connect_timeout=2")
    assert result.returncode == 6
    assert "database unreachable" in result.stderr and "s3cretpw" not in result.stderr


def test_kb_search_finds_the_playbook_section(fresh_dsn: str) -> None:
    result = cli("kb", "search", "Deploy Pipeline prüfen", "--json", dsn=fresh_dsn)
    hits = json.loads(result.stdout)
    assert any("3.1 Diagnose" in h["breadcrumb"] for h in hits[:3])


def test_kb_search_reads_the_index_and_kb_sync_updates_it(fresh_dsn: str, tmp_path: Path) -> None:
    """A search does not re-read every configured file (that is `kb sync` and every server start);
    an index with nothing in it is synced first."""
    (tmp_path / "zebra.md").write_text("## Zebrastreifen\nNur hier steht Zebrastreifen.\n", encoding="utf-8")
    env = {"SUPPORT_MCP_KNOWLEDGE_GLOBS": str(tmp_path / "*.md")}
    first = cli("kb", "search", "Zebrastreifen", "--json", dsn=fresh_dsn, **env)  # empty index: synced
    assert [h["document"] for h in json.loads(first.stdout)] == ["zebra"]
    (tmp_path / "ampel.md").write_text("## Ampelphase\nNur hier steht Ampelphase.\n", encoding="utf-8")
    assert json.loads(cli("kb", "search", "Ampelphase", "--json", dsn=fresh_dsn, **env).stdout) == []
    assert cli("kb", "sync", dsn=fresh_dsn, **env).returncode == 0
    found = json.loads(cli("kb", "search", "Ampelphase", "--json", dsn=fresh_dsn, **env).stdout)
    assert [h["document"] for h in found] == ["ampel"]


def test_db_migrate_says_what_it_applied_then_that_nothing_is_pending(empty_dsn: str) -> None:
    first = cli("db", "migrate", "--json", dsn=empty_dsn)
    assert first.returncode == 0, first.stderr
    applied = json.loads(first.stdout)
    assert applied["applied"] and applied["total"] == len(applied["applied"])  # a fresh database: all of them
    again = cli("db", "migrate", dsn=empty_dsn)
    assert again.returncode == 0 and again.stdout.startswith(f"Nichts ausstehend: {applied['total']} Migrationen")
    assert applied["last_applied_at"][:10] in again.stdout


def test_kb_sync_prints_a_summary_not_a_repr(fresh_dsn: str) -> None:
    result = cli("kb", "sync", dsn=fresh_dsn)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"Wissensbasis: \d+ neu, \d+ geändert, \d+ unverändert, \d+ entfernt\n", result.stdout)
    report = json.loads(cli("kb", "sync", "--json", dsn=fresh_dsn).stdout)
    assert report["created"] == 0 and report["updated"] == 0 and report["unchanged"] >= 1  # nothing changed since


def test_triage_is_recorded_with_its_reason(fresh_dsn: str) -> None:
    created = cli("tickets", "create", "--subject", "502 Bad Gateway", "--message", "Seit dem Deploy 502",
                  "--json", dsn=fresh_dsn)
    ticket_id = json.loads(created.stdout)["id"]
    assert cli("triage", ticket_id, dsn=fresh_dsn).returncode == 0
    timeline = json.loads(cli("tickets", "show", ticket_id, "--json", dsn=fresh_dsn).stdout)["timeline"]
    triage_events = [e for e in timeline if e["kind"] == "event" and e["title"].startswith("triage")]
    assert len(triage_events) == 1


def test_worker_prints_json_lines_per_run_and_the_count(fresh_dsn: str) -> None:
    created = cli("tickets", "create", "--subject", "Server langsam", "--message", "Festplatte voll?", "--json",
                  dsn=fresh_dsn)
    ticket_id = json.loads(created.stdout)["id"]
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:  # what MCP start_run(queue=True) stores
        conn.execute("insert into agent_runs (ticket_id, agent, status) values (%s, 'hetzner-ops-agent', 'queued')",
                     (ticket_id,))

    worked = cli("worker", "--once", "--json", dsn=fresh_dsn)
    assert worked.returncode == 0, worked.stderr
    lines = [json.loads(line) for line in worked.stdout.splitlines()]
    assert lines[-1] == {"runs_done": 1}
    assert lines[0]["ticket_id"] == ticket_id and lines[0]["agent"] == "hetzner-ops-agent"
    assert lines[0]["verdict"] in ("confirmed", "refuted") and isinstance(lines[0]["escalated"], bool)

    idle = cli("worker", "--once", dsn=fresh_dsn)
    assert idle.returncode == 0 and idle.stdout.strip() == "0 runs done"


def test_empty_lists_say_so_and_why(fresh_dsn: str) -> None:
    plans = cli("plans", "list", dsn=fresh_dsn)
    assert plans.returncode == 0 and plans.stdout.strip() == "no repair plans"
    assert json.loads(cli("plans", "list", "--json", dsn=fresh_dsn).stdout) == []
    repairs = cli("plans", "repairs", "--agent", "hetzner-ops", dsn=fresh_dsn)  # no host configured
    assert repairs.returncode == 0 and "no configured target" in repairs.stdout


def test_ci_records_a_deployment_without_a_ticket(fresh_dsn: str, tmp_path: Path) -> None:
    payload = tmp_path / "deploy.json"
    payload.write_text('{"commit": "4f2a9c1", "pipeline": "gh-123"}', encoding="utf-8")
    args = ("events", "add", "--type", "deployment", "--at", "2026-12-04T07:00:00+01:00",
            "--payload", f"@{payload}", "--idempotency-key", "gh-123")
    human = cli(*args, dsn=fresh_dsn)
    assert human.returncode == 0, human.stderr
    assert re.fullmatch(r"recorded deployment [0-9a-f-]{36}: succeeded at 2026-12-04 06:00:00 UTC\n", human.stdout)
    again = json.loads(cli(*args, "--json", dsn=fresh_dsn).stdout)  # the pipeline retried
    assert again["deployed_at"] == "2026-12-04T06:00:00Z" and again["payload"]["commit"] == "4f2a9c1"
    listed = json.loads(cli("events", "deployments", "--json", dsn=fresh_dsn).stdout)
    assert [d["id"] for d in listed] == [again["id"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--type", "deployment", "--at", "2026-12-04 07:00"), "needs a zone"),
        (("--type", "deployment", "--at", "gestern"), "ISO 8601"),
        (("--type", "note"), "only `deployment`"),
        (("--type", "deployment", "--status", "ok"), "status is one of"),
        (("--type", "deployment", "--payload", "[1, 2]"), "JSON object"),
        (("--type", "deployment", "--payload", "{not json"), "not JSON"),
        (("--type", "deployment", "--payload", "@/nonexistent/p.json"), "cannot read"),
    ],
)
def test_a_bad_deployment_report_is_a_clear_error(fresh_dsn: str, args: tuple[str, ...], message: str) -> None:
    result = cli("events", "add", *args, dsn=fresh_dsn)
    assert result.returncode == 2 and message in result.stderr.replace("\n", " "), result.stderr
    assert json.loads(cli("events", "deployments", "--json", dsn=fresh_dsn).stdout) == []
