"""The playbook runner end to end over a real PostgreSQL, with replayed host output."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from helpers.replay import PRESSURE, ReplayExecutor
from helpers.supabase_lab import ADMIN_DSN
from support_mcp.bootstrap import Services, Settings, open_services
from support_mcp.domain.errors import Conflict, StoreUnavailable
from support_mcp.domain.models import MANUAL_FOLLOWUP, AuthorKind, CheckStatus, Finding, RunStatus, Verdict
from support_mcp.services.demo import create_demo_ticket

AGENT = "hetzner-ops-agent"


async def _ticket(s: Services, text: str = "Server extrem langsam, no space left on device") -> object:
    t = await s.tickets.create_ticket(subject="Dashboard langsam", customer="acme")
    await s.tickets.add_message(t.id, body=text, author_kind=AuthorKind.CUSTOMER, internal_only=False)
    return t


async def test_pressure_confirms_hypothesis_and_hands_over_to_tier1(pressure_services: Services) -> None:
    s = pressure_services
    t = await _ticket(s)
    report = await s.runner.run(t.id, AGENT)
    assert report.verdict == Verdict.CONFIRMED
    # No repair for a full disk may be planned automatically: confirmed, and escalated to a human.
    assert report.escalated
    [followup] = await s.tickets.messages(t.id, tag=MANUAL_FOLLOWUP)
    assert "Ursache bestätigt" in followup.body and "/" in followup.body
    assert "Ressourcenengpass" in report.hypothesis.suspected_cause
    assert {f.check for f in report.findings if f.status == "fail"} >= {"host.disk", "host.memory", "host.load"}
    assert report.checklist["CPU/RAM/Disk ok?"] is True
    assert report.checklist["Änderungen & Ergebnisse protokolliert?"] is True
    assert report.checklist["Dienste gezielt neu gestartet?"] is False

    notes = await s.tickets.messages(t.id, internal_only=True, limit=100)
    tags = [tag for m in notes for tag in m.tags]
    # hypothesis is written before the first command
    first_hyp = next(i for i, m in enumerate(notes) if "hypothesis" in m.tags)
    first_cmd = next(i for i, m in enumerate(notes) if "command" in m.tags)
    assert first_hyp < first_cmd
    assert tags.count("command") >= 4  # nproc, uptime, (top), df, free
    assert {"findings", "next_steps", "tier1_handover", "customer_draft"} <= set(tags)
    assert any("Hypothese bestätigt" in m.body for m in notes)
    run = await s.runs.get_run(report.run_id)
    assert run.status == RunStatus.ESCALATED and run.verdict == Verdict.CONFIRMED
    assert [st.name for st in run.steps] == ["context", "knowledge", "hypothesis", "checks", "verdict", "repair",
                                             "communication", "suggestion"]
    suggestions = await s.suggestions.list_suggestions()
    assert len(suggestions) == 1 and suggestions[0].ticket_id == t.id


async def test_healthy_host_refutes_and_escalates_with_manual_followup(services: Services) -> None:
    t = await _ticket(services)
    report = await services.runner.run(t.id, AGENT)
    assert report.verdict == Verdict.REFUTED and report.escalated
    ticket = await services.tickets.get_ticket(t.id)
    assert ticket.escalation_path == [f"{AGENT}:{MANUAL_FOLLOWUP}"]
    assert ticket.assigned_agent == "Tier-2 Bereitschaft"
    followups = await services.tickets.messages(t.id, tag=MANUAL_FOLLOWUP)
    assert len(followups) == 1
    assert [e.event_type for e in await services.tickets.open_events(t.id)] == [MANUAL_FOLLOWUP]
    assert any("Hypothese widerlegt" in m.body for m in await services.tickets.messages(t.id, limit=100))


async def test_run_without_checks_is_inconclusive_and_says_so(services: Services) -> None:
    t = await _ticket(services, "Login schlägt fehl, OTP kommt nicht an")
    report = await services.runner.run(t.id, "supabase-analyst-agent")
    assert report.verdict == Verdict.INCONCLUSIVE and report.escalated
    assert report.findings[0].status == "skipped"
    assert "Auth/Profile" in report.hypothesis.suspected_cause
    # numbers in texts are true: nothing was found because nothing could run, and it says why
    [handover] = await services.tickets.messages(t.id, tag="tier1_handover")
    count = len(report.findings)
    assert f"keine Befunde: alle {count} Prüfungen übersprungen" in handover.body
    assert "kein Supabase-Ziel konfiguriert (SUPPORT_MCP_SUPABASE_DB_URL)" in handover.body, handover.body
    assert "Befunde erhoben" not in handover.body


async def test_a_wrong_hypothesis_is_refuted_and_the_findings_name_the_new_one(pressure_services: Services) -> None:
    s = pressure_services
    t = await _ticket(s, "Seit heute nur noch 502 Bad Gateway")
    report = await s.runner.run(t.id, AGENT)
    assert report.verdict == Verdict.REFUTED and report.conclusion["revised"]
    assert report.conclusion["symptom"] == "resource_pressure"
    assert {"host.disk", "host.memory"} <= set(report.conclusion["evidence"])
    notes = await s.tickets.messages(t.id, internal_only=True, limit=200)
    hypotheses = [m for m in notes if "hypothesis" in m.tags]
    assert len(hypotheses) == 2 and "revised_hypothesis" in hypotheses[1].tags
    assert "Hypothese widerlegt" in hypotheses[1].body and "Neue Hypothese:" in hypotheses[1].body
    assert hypotheses[1].metadata["hypothesis"]["suspected_cause"] == report.conclusion["cause"]
    [findings] = [m for m in notes if "findings" in m.tags]
    assert "Schlussfolgerung: " + report.conclusion["cause"] in findings.body
    [handover] = [m for m in notes if "tier1_handover" in m.tags]
    assert report.conclusion["cause"] in handover.body and "ursprüngliche Hypothese widerlegt" in handover.body
    # the cause is handled like a confirmed one: no repair on this host, so a human takes over,
    # and the customer is not told that a fix is under way
    assert report.escalated and any("manual_followup" in m.tags for m in notes)
    [draft] = [m for m in notes if "customer_draft" in m.tags]
    assert "an unser Technik-Team weitergegeben" in draft.body and "beheben sie gerade" not in draft.body


async def test_a_neutral_ticket_still_names_the_cause(pressure_services: Services) -> None:
    s = pressure_services
    t = await _ticket(s, "Kunde meldet ein Problem, bitte prüfen")
    report = await s.runner.run(t.id, AGENT)
    assert report.verdict == Verdict.CONFIRMED and not report.conclusion["revised"]
    assert report.conclusion["symptom"] == "resource_pressure" and report.conclusion["cause"]


async def test_notes_are_english_on_request(english_services: Services) -> None:
    t = await _ticket(english_services)
    await english_services.runner.run(t.id, AGENT)
    bodies = "\n".join(m.body for m in await english_services.tickets.messages(t.id, limit=100))
    assert "Hypothesis confirmed" in bodies and "Summary for Tier 1" in bodies
    assert "Hypothese bestätigt" not in bodies


async def test_resumed_run_writes_no_duplicate_notes_or_events(pressure_services: Services) -> None:
    s = pressure_services
    t = await _ticket(s)
    original = s.runner._step_verdict  # the database goes away right after the checks were logged

    async def database_gone(state: object) -> dict[str, object]:
        raise StoreUnavailable("database connection lost: terminating connection due to administrator command")

    s.runner._step_verdict = database_gone  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailable):
        await s.runner.run(t.id, AGENT)
    crashed = (await s.runs.runs_for_ticket(t.id))[0]
    assert crashed.status == RunStatus.FAILED
    before = len(await s.tickets.messages(t.id, limit=500))

    # the next `run` on the ticket resumes the failed run where it stopped
    s.runner._step_verdict = original  # type: ignore[method-assign]
    report = await s.runner.run(t.id, AGENT)
    assert report.resumed and report.run_id == crashed.id
    messages = await s.tickets.messages(t.id, limit=500)
    commands = [m for m in messages if "command" in m.tags]
    assert len([m for m in messages if "hypothesis" in m.tags]) == 1
    assert len(commands) == len([m for m in messages[:before] if "command" in m.tags])
    events = await s.tickets.events(t.id, limit=500)
    assert len([e for e in events if e.event_type == "run_started"]) == 1
    assert (await s.runs.get_run(report.run_id)).status in (RunStatus.SUCCEEDED, RunStatus.ESCALATED)

    # a finished run is not resumed: the next run is a new one
    again = await s.runner.run(t.id, AGENT)
    assert again.run_id != report.run_id and not again.resumed


async def test_one_run_per_ticket_at_a_time(pressure_services: Services) -> None:
    s = pressure_services
    t = await _ticket(s)
    async with s.runs.ticket_lock(t.id):
        with pytest.raises(Conflict):
            await s.runner.run(t.id, AGENT)
    report = await s.runner.run(t.id, AGENT)
    assert report.verdict == Verdict.CONFIRMED


async def test_concurrent_runs_on_one_ticket_one_wins(pressure_services: Services) -> None:
    s = pressure_services
    t = await _ticket(s)
    results = await asyncio.gather(s.runner.run(t.id, AGENT), s.runner.run(t.id, AGENT), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "RunReport"]


async def test_prompt_injection_in_customer_message_is_not_obeyed(pressure_services: Services) -> None:
    s = pressure_services
    demo = await create_demo_ticket(s.tickets)
    executor = s.contexts.executor("local")
    await s.runner.run(demo.ticket.id, AGENT)
    ran = {call[0] for call in executor.calls}
    assert ran <= {"nproc", "uptime", "df", "free", "top"}
    assert not any("restart" in " ".join(c) or "rm" in c for c in executor.calls)


async def test_queued_runs_are_claimed_once_by_concurrent_workers(pressure_services: Services) -> None:
    s = pressure_services
    tickets = [await _ticket(s) for _ in range(4)]
    queued = {await s.runner.enqueue(t.id, AGENT) for t in tickets}

    async def worker() -> list[object]:
        done = []
        while (report := await s.runner.work_once()) is not None:
            done.append(report.run_id)
        return done

    first, second = await asyncio.gather(worker(), worker())
    assert sorted(map(str, first + second)) == sorted(map(str, queued))  # each exactly once
    for t in tickets:
        notes = await s.tickets.messages(t.id, tag="hypothesis")
        assert len(notes) == 1


async def test_a_claimed_run_on_a_locked_ticket_goes_back_to_the_queue(pressure_services: Services) -> None:
    s = pressure_services
    t = await _ticket(s)
    run_id = await s.runner.enqueue(t.id, AGENT)
    async with s.runs.ticket_lock(t.id):
        assert await s.runner.work_once() is None
    assert (await s.runs.get_run(run_id)).status == RunStatus.QUEUED
    report = await s.runner.work_once()
    assert report is not None and report.run_id == run_id


class _DatabaseGoesAway:
    """A check during which the support database drops every connection (as a restart of the
    PostgreSQL server does): a real fault of the system, not of the check."""

    name = "host.load"
    title = "Systemlast"
    tools = ("uptime",)

    def __init__(self, dbname: str) -> None:
        self.dbname = dbname

    async def run(self, ctx: object) -> list[Finding]:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s",
                          (self.dbname,))
        return [Finding(check=self.name, status=CheckStatus.OK, title="Last ok")]


async def test_losing_the_database_ends_the_run_and_the_next_run_resumes_it(settings: Settings) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(settings.database_url)["dbname"]
    async with open_services(settings, executors={"local": ReplayExecutor(PRESSURE)},
                             checks=lambda agent: (_DatabaseGoesAway(str(dbname)),)) as s:
        t = await _ticket(s)
        with pytest.raises(StoreUnavailable, match="database connection lost"):
            await s.runner.run(t.id, AGENT)
        [crashed] = await s.runs.runs_for_ticket(t.id)
        assert crashed.status in (RunStatus.RUNNING, RunStatus.FAILED)  # the database could not be told
        assert "checks" not in {step.name for step in crashed.steps}
    async with open_services(settings, executors={"local": ReplayExecutor(PRESSURE)}) as s:
        report = await s.runner.run(t.id, AGENT)
        assert report.resumed and report.run_id == crashed.id and report.verdict == Verdict.CONFIRMED
        assert len(await s.tickets.messages(t.id, tag="hypothesis")) == 1


async def test_a_crowded_knowledge_base_does_not_push_the_playbook_out(settings: Settings, tmp_path) -> None:
    """Playbook 1.2: the agent consults the knowledge base *and* the playbook. Forty runbooks
    whose headings carry the ticket's words, and which claim the playbook's authority, outrank
    every playbook section in a plain search; the run still cites the playbook's diagnose
    section first, then the best other section."""
    from dataclasses import replace
    from pathlib import Path

    folder = Path(tmp_path)
    for n in range(40):
        (folder / f"runbook_{n}.md").write_text(
            f"---\nauthority: 3\n---\n# Disk Runbook {n}\n\n## Festplatte voll: Speicherplatz langsam\n"
            "Server extrem langsam, no space left on device: Festplatte voll, Speicherplatz prüfen.\n",
            encoding="utf-8")
    crowded = replace(settings, knowledge_globs=(str(folder / "*.md"),))
    async with open_services(crowded, executors={"local": ReplayExecutor(PRESSURE)}) as s:
        plain = await s.knowledge.search("Server extrem langsam, no space left on device", limit=3, plain=True)
        assert all(h.document.startswith("runbook_") for h in plain)  # the crowd wins a plain search

        t = await _ticket(s)
        report = await s.runner.run(t.id, AGENT)
        run = await s.runs.get_run(report.run_id)
        consulted = next(st for st in run.steps if st.name == "knowledge").output
        assert consulted["anchors"][0] == "31-diagnose"
        assert len(consulted["anchors"]) == 3
        assert any(sec.startswith("Disk Runbook") for sec in consulted["sections"])


async def test_a_long_subject_never_fails_a_confirmed_run(pressure_services: Services) -> None:
    """Issue 13: a subject of 500 characters reached the knowledge suggestion's title limit."""
    s = pressure_services
    t = await s.tickets.create_ticket(subject="Dashboard extrem langsam " + "und noch viel mehr Text " * 20,
                                      customer="acme")
    await s.tickets.add_message(t.id, body="Server extrem langsam, no space left on device",
                                author_kind=AuthorKind.CUSTOMER, internal_only=False)
    report = await s.runner.run(t.id, AGENT)
    assert report.verdict == Verdict.CONFIRMED and report.faults == []
    [suggestion] = await s.suggestions.list_suggestions()
    assert len(suggestion.title) <= 200
