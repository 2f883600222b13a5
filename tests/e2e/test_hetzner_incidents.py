"""Whole hetzner-ops incidents on both host labs (sshd + PM2 + Caddy): our lab, and the second one
laid out as others lay out deployments (labs/hetzner_alt: release folders, `current` link, shared
env file, two PM2 apps, PM2_HOME not in the login's environment, the port in the ecosystem file
only). The playbook run finds the cause over SSH and drafts the repair; after a human's approval
of its hash the app answers 200 through Caddy again. Once through the runner, once step by step
through MCP, once through the CLI. On the second lab the worker app is never restarted and no
second PM2 daemon is started by the agent."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp.client import Client

from helpers.hetzner_lab import HetznerLab, start_lab
from helpers.outcomes import cli_env
from support_mcp.bootstrap import Services, Settings, open_services
from support_mcp.domain.errors import Conflict, PolicyViolation
from support_mcp.domain.models import AuthorKind, Verdict
from support_mcp.domain.targets import Targets
from support_mcp.labs.hetzner_alt import HetznerAltLab
from support_mcp.mcp.server import build_server
from support_mcp.policy.scopes import identity

AGENT = "hetzner-ops-agent"
BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "support-mcp"


@pytest.fixture(scope="module", params=["hetzner", "hetzner_alt"])
def lab(request: pytest.FixtureRequest) -> Iterator[HetznerLab]:
    lab = start_lab(kind=HetznerAltLab if request.param == "hetzner_alt" else HetznerLab)
    yield lab
    lab.stop()


@pytest.fixture
def healthy(lab: HetznerLab) -> Iterator[HetznerLab]:
    lab.heal()
    worker = lab.worker_restarts() if isinstance(lab, HetznerAltLab) else None
    yield lab
    lab.heal()
    if isinstance(lab, HetznerAltLab):
        assert lab.worker_restarts() == worker, "the worker app was restarted"
        assert lab.pm2_daemon_homes() == [str(lab.pm2_home)], "a second PM2 daemon was started"


async def _ticket(s: Services, subject: str, body: str) -> Any:
    ticket = await s.tickets.create_ticket(subject=subject, customer="acme")
    await s.tickets.add_message(ticket.id, author_kind=AuthorKind.CUSTOMER, internal_only=False, body=body)
    return ticket


STABLE_S = 6.0  # after a repair, PM2's restart counter must not move for this long


async def _approve_apply_validate(s: Services, plan: Any, lab: HetznerLab | None = None) -> Any:
    """Approve, apply, validate; then, independently of the agent, the lab itself: 200 through
    Caddy and the app online in PM2 with a restart counter that stays put."""
    await s.repairs.approve(plan.id, plan.plan_hash, "Erika Muster", by="tier2-lead", ttl_minutes=15)
    applied = await s.repairs.apply(plan.id, plan.plan_hash)
    assert applied.status == "applied", applied.apply_output
    validated, findings = await s.repairs.validate(plan.id)
    assert validated.status == "validated", findings
    if lab is not None:
        await _stable(lab)
    return validated


async def _stable(lab: HetznerLab) -> None:
    before = lab.pm2_state()
    await asyncio.sleep(STABLE_S)
    after = lab.pm2_state()
    assert after["status"] == "online" and after["restart_time"] == before["restart_time"], (before, after)
    assert lab.http_status() == 200


async def test_crash_loop_incident_config_fix_through_the_runner(healthy: HetznerLab, fresh_dsn: str) -> None:
    healthy.inject_crash_loop()
    settings = Settings(database_url=fresh_dsn, targets=Targets(hosts=(healthy.host_target(),)))
    async with open_services(settings) as s:
        ticket = await _ticket(s, "Bot nicht erreichbar", "Seit 10 Minuten nur 502 Bad Gateway, pm2 zeigt errored?")
        report = await s.runner.run(ticket.id, AGENT)
        assert report.verdict == Verdict.CONFIRMED
        by_check = {f.check: f for f in report.findings}
        assert by_check["pm2_status"].data["restart_loop"] and by_check["http_smoke"].data["status"] == 502
        [problem] = by_check["pm2_logs"].data["env_problems"]  # the app's own words, in its own shape
        assert problem["key"] == "APP_MODE" and problem["got"] == "crash" and "production" in problem["allowed"]
        assert by_check["journal"].status == "skipped"  # no systemd here: the reason is on the ticket
        assert report.checklist["Logs auf Fehler geprüft?"] and report.checklist["CPU/RAM/Disk ok?"] is not None
        [plan] = await s.repairs.list_plans(ticket.id)
        assert plan.repair == "config_fix" and plan.dry_run_ok and plan.status == "dry_run"
        assert "+APP_MODE=production" in (plan.dry_run_output or "")
        assert healthy.http_status() == 502  # nothing ran before the approval
        await _approve_apply_validate(s, plan, healthy)
        assert healthy.http_status() == 200
        run = await s.runs.get_run(report.run_id)
        assert run.checklist["Dienste gezielt neu gestartet?"] is True
        notes = await s.tickets.messages(ticket.id, internal_only=True, limit=500)
        commands = [m for m in notes if "command" in m.tags]
        assert any(f"pm2 restart {healthy.app} --update-env" in m.body for m in commands)
        assert "APP_MODE=production" in healthy.env_file.read_text()  # the file the app reads, through its link
        assert any("cp -p" in m.body for m in commands)


async def test_stale_deploy_incident_rebuild_through_the_runner(healthy: HetznerLab, fresh_dsn: str) -> None:
    healthy.inject_stale_deploy()
    settings = Settings(database_url=fresh_dsn, targets=Targets(hosts=(healthy.host_target(),)))
    async with open_services(settings) as s:
        ticket = await _ticket(s, "Alte Version nach Deploy", "Nach dem Update sehe ich noch die alte Version.")
        await s.tickets.add_event(ticket.id, event_type="deployment", status="succeeded", agent="ci",
                                  payload={"commit": "4f2a9c1"})
        report = await s.runner.run(ticket.id, AGENT)
        assert report.verdict == Verdict.CONFIRMED
        assert next(f for f in report.findings if f.check == "deploy_age").data["stale"]
        [plan] = [p for p in await s.repairs.list_plans(ticket.id) if p.repair == "deploy"]
        assert "npm --prefix" in (plan.dry_run_output or "")
        await _approve_apply_validate(s, plan, healthy)
        assert healthy.http_status() == 200


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def test_stopped_app_step_by_step_through_mcp_tools(healthy: HetznerLab, fresh_dsn: str) -> None:
    healthy.inject_stopped()
    settings = Settings(database_url=fresh_dsn, targets=Targets(hosts=(healthy.host_target(),)))
    async with open_services(settings) as s:
        ticket = await _ticket(s, "502 auf der Website", "Die Seite zeigt 502 Bad Gateway.")

        async def approve(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
            return types.ElicitResult(action="accept", content={"approver": "Erika Muster", "approve": True})

        server = build_server(s, default_identity=identity(AGENT))
        lead = build_server(s, default_identity=identity("tier2-lead"))  # a person approves, not the agent
        async with Client(server) as client, Client(lead, elicitation_callback=approve) as lead_client:
            run = json.loads(_text(await client.call_tool("start_run", {"ticket_id": str(ticket.id)})))
            assert run["verdict"] == "confirmed" and run["conclusion"]["evidence"][0] == "pm2_status"
            assert "PM2-Prozess der App läuft nicht" in run["conclusion"]["cause"] and run["faults"] == []
            out = _text(await client.call_tool("draft_repair_plan", {
                "ticket_id": str(ticket.id), "repair": "pm2_restart", "params": {"app": healthy.app}}))
            assert f"pm2 restart {healthy.app} --update-env" in out
            plan_id = re.search(r"plan ([0-9a-f-]{36})", out).group(1)  # type: ignore[union-attr]
            plan_hash = re.search(r"plan_hash: ([0-9a-f]{64})", out).group(1)  # type: ignore[union-attr]
            refused = await client.call_tool("apply_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
            assert refused.is_error and healthy.http_status() == 502  # no approval, nothing ran
            approved = await lead_client.call_tool("approve_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
            assert not approved.is_error, _text(approved)
            applied = await client.call_tool("apply_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
            assert not applied.is_error and "status applied" in _text(applied), _text(applied)
            validated = await client.call_tool("validate_plan", {"plan_id": plan_id})
            assert '"status": "validated"' in _text(validated), _text(validated)
        await _stable(healthy)


def _cli(lab: HetznerLab, dsn: str) -> Any:
    """`support-mcp` as a new user runs it, configured for the lab through the environment (only
    what a customer's configuration holds: the second lab's port, PM2_HOME and app folder are not)."""
    env = cli_env(dsn, Targets(hosts=(lab.host_target(),))) | {"COLUMNS": "120"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=180, check=False)

    return cli


def test_cli_run_finds_the_cause_and_proposes_the_restart(healthy: HetznerLab, fresh_dsn: str) -> None:
    healthy.inject_stopped()
    cli = _cli(healthy, fresh_dsn)

    created = cli("tickets", "create", "--subject", "502 Bad Gateway", "--message", "Seite offline, 502",
                  "--customer", "acme", "--json")
    assert created.returncode == 0, created.stderr
    ticket_id = json.loads(created.stdout)["id"]
    run = cli("run", "--agent", "hetzner-ops", "--ticket", ticket_id, "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["verdict"] == "confirmed"
    statuses = {f["check"]: f["status"] for f in report["findings"]}
    assert statuses["pm2_status"] == "fail" and statuses["port_3000"] == "fail" and statuses["http_smoke"] == "fail"
    port = next(f for f in report["findings"] if f["check"] == "port_3000")
    assert port["data"]["port"] == healthy.app_port  # the lab's port, found on the host where not configured
    plans = json.loads(cli("plans", "list", "--ticket", ticket_id, "--json").stdout)
    assert [p["repair"] for p in plans] == ["pm2_restart"] and plans[0]["dry_run_ok"]


async def test_invalid_caddyfile_incident_restores_the_last_valid_backup(healthy: HetznerLab, fresh_dsn: str) -> None:
    healthy.remove_caddy_backups()
    original = healthy.inject_invalid_caddyfile()  # the lab keeps a `.bak-<ts>` of the good file first
    [good] = healthy.caddy_backups()
    settings = Settings(database_url=fresh_dsn, targets=Targets(hosts=(healthy.host_target(),)))
    try:
        async with open_services(settings) as s:
            ticket = await _ticket(s, "502 nach Caddy-Änderung", "Nach der Änderung am Proxy kommt 502 Bad Gateway.")
            report = await s.runner.run(ticket.id, AGENT)
            assert report.verdict == Verdict.CONFIRMED
            caddy = next(f for f in report.findings if f.check == "caddy_status")
            assert caddy.data["valid"] is False and caddy.data["last_valid_backup"] == str(good)
            [plan] = await s.repairs.list_plans(ticket.id)
            assert plan.repair == "caddy_restore" and plan.dry_run_ok, plan.dry_run_output
            broken = healthy.caddyfile.read_text()
            [restored] = set(original.splitlines()) - set(broken.splitlines())  # the line the edit broke
            assert f"+{restored}" in (plan.dry_run_output or "") and broken != original
            await _approve_apply_validate(s, plan, healthy)
            assert healthy.caddyfile.read_text() == original and healthy.http_status() == 200
    finally:
        healthy.caddyfile.write_text(original)
        healthy.remove_caddy_backups()


async def _escalation(s: Services, ticket_id: Any) -> tuple[Any, list[Any]]:
    ticket = await s.tickets.get_ticket(ticket_id)
    notes = await s.tickets.messages(ticket_id, internal_only=True, limit=500)
    return ticket, [m for m in notes if "manual_followup" in m.tags]


async def test_port_conflict_plan_ends_the_named_pid_and_the_app_answers_again(healthy: HetznerLab,
                                                                                fresh_dsn: str) -> None:
    healthy.inject_port_conflict()
    settings = Settings(database_url=fresh_dsn, targets=Targets(hosts=(healthy.host_target(),)))
    async with open_services(settings) as s:
        ticket = await _ticket(s, "Bot offline", "Die Seite zeigt 502 Bad Gateway.")
        report = await s.runner.run(ticket.id, AGENT)
        port = next(f for f in report.findings if f.check == "port_3000")
        pid = port.data["manual_followup"]["pid"]
        [plan] = await s.repairs.list_plans(ticket.id)
        assert plan.repair == "free_app_port" and plan.dry_run_ok and not report.escalated
        assert plan.steps[0]["display"] == f"kill -TERM {pid}" and f"PID {pid} runs:" in plan.dry_run_output
        notes = "\n".join(m.body for m in await s.tickets.messages(ticket.id, internal_only=True, limit=500))
        assert f"PID {pid}" in notes
        validated = await _approve_apply_validate(s, plan, healthy)
        assert validated.status == "validated"
        assert healthy.http_status() == 200
        run = await s.runs.get_run(report.run_id)
        assert run.checklist["Dienste gezielt neu gestartet?"] is True


async def test_port_conflict_plan_is_refused_when_another_process_took_the_pid_slot(healthy: HetznerLab,
                                                                                  fresh_dsn: str) -> None:
    healthy.inject_port_conflict()
    settings = Settings(database_url=fresh_dsn, targets=Targets(hosts=(healthy.host_target(),)))
    async with open_services(settings) as s:
        ticket = await _ticket(s, "Bot offline", "Die Seite zeigt 502 Bad Gateway.")
        await s.runner.run(ticket.id, AGENT)
        [plan] = await s.repairs.list_plans(ticket.id)
        await s.repairs.approve(plan.id, plan.plan_hash, "Erika Muster", by="tier2-lead", ttl_minutes=15)
        healthy.stop_squatter()  # the state changed after the dry-run: that PID no longer holds the port
        with pytest.raises(Conflict, match="changed since the dry-run"):
            await s.repairs.apply(plan.id, plan.plan_hash)


async def test_port_held_by_a_root_process_escalates_with_manual_followup(healthy: HetznerLab,
                                                                         fresh_dsn: str) -> None:
    healthy.inject_port_conflict(owner="root")
    settings = Settings(database_url=fresh_dsn, targets=Targets(hosts=(healthy.host_target(),)))
    async with open_services(settings) as s:
        ticket = await _ticket(s, "Bot offline", "Die Seite zeigt 502 Bad Gateway.")
        report = await s.runner.run(ticket.id, AGENT)
        assert await s.repairs.list_plans(ticket.id) == []  # the deploy user may not end it: a human decides
        ticket_now, followups = await _escalation(s, ticket.id)
        assert report.escalated and followups and "EADDRINUSE" in followups[0].body
        assert ticket_now.escalation_path[-1] == f"{AGENT}:manual_followup"


async def test_invalid_caddyfile_without_a_valid_backup_escalates(healthy: HetznerLab, fresh_dsn: str) -> None:
    healthy.remove_caddy_backups()
    original = healthy.inject_invalid_caddyfile(backup=False)
    settings = Settings(database_url=fresh_dsn, targets=Targets(hosts=(healthy.host_target(),)))
    try:
        async with open_services(settings) as s:
            ticket = await _ticket(s, "502 nach Caddy-Änderung", "Nach der Änderung am Proxy kommt 502 Bad Gateway.")
            report = await s.runner.run(ticket.id, AGENT)
            assert await s.repairs.list_plans(ticket.id) == []
            _, followups = await _escalation(s, ticket.id)
            assert report.escalated and followups
    finally:
        healthy.caddyfile.write_text(original)


async def test_caddy_down_incident_starts_caddy_again_through_the_runner(healthy: HetznerLab,
                                                                          fresh_dsn: str) -> None:
    healthy.inject_caddy_down()
    settings = Settings(database_url=fresh_dsn, targets=Targets(hosts=(healthy.host_target(),)))
    try:
        async with open_services(settings) as s:
            ticket = await _ticket(s, "Seite nicht erreichbar", "Die Seite lädt gar nicht mehr, Verbindung abgelehnt.")
            report = await s.runner.run(ticket.id, AGENT)
            smoke = next(f for f in report.findings if f.check == "http_smoke")
            assert smoke.status == "fail" and smoke.data.get("caddy_down")
            [plan] = await s.repairs.list_plans(ticket.id)
            assert plan.repair == "caddy_start" and plan.dry_run_ok
            assert plan.steps[0]["display"].startswith("caddy start --config ")
            validated = await _approve_apply_validate(s, plan, healthy)
            assert validated.status == "validated" and healthy.http_status() == 200
    finally:
        healthy.stop_daemon_caddy()


async def test_only_the_configured_app_may_be_restarted(healthy: HetznerLab, fresh_dsn: str) -> None:
    """The other PM2 apps of the host (the second lab's worker) are listed, never named by a plan."""
    settings = Settings(database_url=fresh_dsn, targets=Targets(hosts=(healthy.host_target(),)))
    async with open_services(settings) as s:
        ticket = await _ticket(s, "Worker hängt", "Bitte den Worker neu starten.")
        others = [name for name in healthy.pm2_states() if name != healthy.app]
        for app in [*others, "all", "0", f"{healthy.app} --update-env"]:
            with pytest.raises(PolicyViolation):
                await s.repairs.draft(ticket.id, AGENT, "pm2_restart", {"app": app})
        assert await s.repairs.list_plans(ticket.id) == []
        if isinstance(healthy, HetznerAltLab):
            report = await s.runner.run(ticket.id, AGENT)
            status = next(f for f in report.findings if f.check == "pm2_status")
            assert status.data["layout"]["other_apps"] == ["botbau-worker"]


async def test_stale_proxy_config_incident_reloads_caddy_through_the_runner(healthy: HetznerLab, fresh_dsn: str) -> None:
    healthy.inject_stale_proxy_config()  # Caddy runs a wrong upstream; the Caddyfile on disk is right
    settings = Settings(database_url=fresh_dsn, targets=Targets(hosts=(healthy.host_target(),)))
    try:
        async with open_services(settings) as s:
            ticket = await _ticket(s, "502 seit dem Proxy-Update", "Seit dem Update am Proxy nur 502, die App läuft.")
            report = await s.runner.run(ticket.id, AGENT)
            assert report.verdict == Verdict.CONFIRMED
            smoke = next(f for f in report.findings if f.check == "http_smoke")
            assert smoke.data.get("proxy_error") and healthy.http_status() == 502
            [plan] = await s.repairs.list_plans(ticket.id)
            assert plan.repair == "caddy_reload" and plan.dry_run_ok, plan.dry_run_output
            await _approve_apply_validate(s, plan, healthy)
    finally:
        healthy.as_user(["caddy", "reload", "--config", str(healthy.caddyfile), "--adapter", "caddyfile"], check=False)


def test_a_crash_naming_supabase_is_handed_over_to_the_analyst(healthy: HetznerLab, fresh_dsn: str) -> None:
    healthy.inject_missing_supabase_url()
    cli = _cli(healthy, fresh_dsn)
    created = cli("tickets", "create", "--subject", "Bot offline", "--message", "Die Seite zeigt 502 Bad Gateway.",
                  "--json")
    ticket_id = json.loads(created.stdout)["id"]
    run = cli("run", "--agent", "auto", "--ticket", ticket_id, "--json")
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    out = json.loads(run.stdout)
    host, analyst = out["runs"]  # each agent once: the host agent, then the one it handed over to
    assert host["agent"] == AGENT and host["handover_to"] == "supabase-analyst-agent"
    assert host["conclusion"]["evidence"][0] == "pm2_logs"
    assert any("supabaseUrl is required" in t for t in host["conclusion"]["evidence_titles"])
    assert not host["escalated"]  # handed over, not dropped on a human
    # the cause lies in the Supabase layer: no host repair (a restart cannot bring SUPABASE_URL back)
    assert json.loads(cli("plans", "list", "--ticket", ticket_id, "--json").stdout) == []
    assert analyst["agent"] == "supabase-analyst-agent"
    shown = json.loads(cli("tickets", "show", ticket_id, "--json").stdout)
    bodies = json.dumps(shown, ensure_ascii=False)
    assert "Übergabe an supabase-analyst-agent: Die App scheitert an Supabase" in bodies
    assert "agent_handover" in bodies
    # the analyst starts from the host's evidence; no Supabase target here, so it cannot confirm it
    assert "Übergabe von hetzner-ops-agent" in analyst["hypothesis"]["suspected_cause"]
    lead = out["lead"]
    assert lead["layer"] == "supabase-analyst-agent" and not lead["confirmed"]
    assert lead["unconfirmed_by"].startswith("supabase-analyst-agent: keine Befunde")
    assert lead["chain"][0]["agent"] == AGENT and lead["chain"][0]["check"] == "pm2_logs"
    assert lead["chain"][0]["notes"] and "Gesamtbefund (Lead-Run, 2 Agenten)" in bodies
    # one Tier-1 handover for the ticket (the context repeats the newest one: count the timeline)
    assert [e["who"] for e in shown["timeline"]
            if "tier1_handover" in (e.get("tags") or [])] == ["supabase-analyst-agent"], shown["timeline"][-3:]


async def test_a_healthy_lab_gives_no_warning_and_says_where_the_app_runs(healthy: HetznerLab, fresh_dsn: str) -> None:
    """On both labs: no warn/fail finding on a healthy host (load from this test run's own
    processes is said to be others', not the app's), and what was found on the host is on record."""
    settings = Settings(database_url=fresh_dsn, targets=Targets(hosts=(healthy.host_target(),)))
    async with open_services(settings) as s:
        ticket = await _ticket(s, "Kurze Frage", "Ist bei euch alles in Ordnung?")
        report = await s.runner.run(ticket.id, AGENT)
        alerts = [(f.check, f.status, f.title) for f in report.findings if f.status in ("warn", "fail", "error")]
        assert alerts == [], (alerts, [(f.data, f.evidence) for f in report.findings if f.check == "host.load"])
        assert report.verdict != Verdict.CONFIRMED  # nothing found: a human hears that no cause was found
        load = next(f for f in report.findings if f.check == "host.load")
        assert load.data.get("load_source") in (None, "others")  # judged per core; high only from others
        port = next(f for f in report.findings if f.check == "port_3000")
        assert port.data["port"] == healthy.app_port
        notes = "\n".join(m.body for m in await s.tickets.messages(ticket.id, internal_only=True, limit=500))
        assert "ss -xlp" in notes and f"PM2_HOME={healthy.pm2_home} pm2 jlist" in notes
