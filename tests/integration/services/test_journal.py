"""What agents write onto tickets (playbook 1.3–1.6 and 5), against a real PostgreSQL."""

from __future__ import annotations

import pytest

from support_mcp.bootstrap import Services
from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.models import MANUAL_FOLLOWUP, Hypothesis, Source, Verdict
from support_mcp.services.journal import Blocker, HumanHandover

AGENT = "hetzner-ops-agent"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIiwiaXNzIjoic3VwYWJhc2UifQ."
       "c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU")


async def test_command_log_is_internal_timestamped_redacted_and_capped(services: Services) -> None:
    t = await services.tickets.create_ticket(subject="502")
    output = f"SUPABASE_SERVICE_ROLE_KEY={JWT}\nDATABASE_URL=postgres://app:hunter2pw@db:5432/app\n" + "x" * 100_000
    msg = await services.journal.log_command(
        t.id, agent=AGENT, target="hetzner-prod", command=["pm2", "env", "0"], exit_code=0,
        duration_ms=41.7, output=output,
    )
    assert msg.internal_only is True
    assert "command" in msg.tags
    assert JWT not in msg.body and "hunter2pw" not in msg.body
    assert "pm2 env 0" in msg.body and "Exit-Code: 0" in msg.body and "42 ms" in msg.body
    assert len(msg.body.encode()) < 20_000
    assert msg.metadata["truncated"] is True and msg.metadata["argv"] == ["pm2", "env", "0"]


async def test_hypothesis_note_and_event(services: Services) -> None:
    t = await services.tickets.create_ticket(subject="x")
    hyp = Hypothesis(symptom="Seite langsam", suspected_cause="Disk voll", tools=["ssh", "df"])
    msg = await services.journal.record_hypothesis(t.id, AGENT, hyp, references=["3.1 Diagnose"])
    assert "Fehlerbild: „Seite langsam“" in msg.body and "Mögliche Ursache: Disk voll" in msg.body
    assert "3.1 Diagnose" in msg.body
    events = await services.tickets.events(t.id, event_type="hypothesis_recorded")
    assert events and events[0].payload["suspected_cause"] == "Disk voll"


async def test_findings_state_the_verdict_in_german_and_english(services: Services) -> None:
    t = await services.tickets.create_ticket(subject="x")
    de = await services.journal.record_findings(t.id, AGENT, [], Verdict.CONFIRMED)
    en = await services.journal.record_findings(t.id, AGENT, [], Verdict.REFUTED, language="en")
    assert "Hypothese bestätigt" in de.body
    assert "Hypothesis refuted" in en.body


async def test_next_steps_are_numbered_or_a_blocker(services: Services) -> None:
    t = await services.tickets.create_ticket(subject="x")
    steps = await services.journal.next_steps(t.id, AGENT, Verdict.CONFIRMED, steps=["Disk leeren", "Neustart"])
    assert "1. Disk leeren" in steps.body and "2. Neustart" in steps.body and "Hypothese bestätigt" in steps.body
    blocked = await services.journal.next_steps(
        t.id, AGENT, Verdict.REFUTED, blocker=Blocker("Kein SSH-Zugang", "Zugang beantragen", "SSH-Key"))
    assert "Blocker: Kein SSH-Zugang" in blocked.body and "Benötigte Ressourcen: SSH-Key" in blocked.body
    with pytest.raises(InvalidInput):
        await services.journal.next_steps(t.id, AGENT, Verdict.REFUTED)


async def test_tier1_handover_writes_summary_and_customer_draft(services: Services) -> None:
    t = await services.tickets.create_ticket(subject="x")
    handover, draft = await services.journal.tier1_handover(t.id, AGENT, "Disk war voll, bereinigt.", "Seite neu laden")
    assert "tier1_handover" in handover.tags and "Kunde bitte um Seite neu laden" in handover.body
    assert draft.internal_only is True and "customer_draft" in draft.tags and "nicht versendet" in draft.body


async def test_escalation_writes_manual_followup_message_event_and_path(services: Services) -> None:
    t = await services.tickets.create_ticket(subject="x")
    msg, event, ticket = await services.journal.escalate(
        t.id, AGENT, "Benötigt manuellen Zugriff auf Meta Business Manager", {"waba": "123"})
    assert MANUAL_FOLLOWUP in msg.tags and msg.internal_only
    assert event.event_type == MANUAL_FOLLOWUP and event.status == "open"
    assert ticket.escalation_path == [f"{AGENT}:{MANUAL_FOLLOWUP}"]
    assert [e.id for e in await services.tickets.open_events(t.id)] == [event.id]
    # escalating twice in a row does not grow the path
    _, _, again = await services.journal.escalate(t.id, AGENT, "noch offen")
    assert again.escalation_path == ticket.escalation_path


async def test_human_handover_sets_assigned_agent_with_short_summary(services: Services) -> None:
    t = await services.tickets.create_ticket(subject="x")
    ticket, msg = await services.journal.hand_over_to_human(
        t.id, AGENT, "Max Mustermann",
        HumanHandover("Bots antworten nicht", "Meta-Token abgelaufen", "Logs geprüft, Token erkannt",
                      "Bots offline", "Token im Business Manager erneuern"))
    assert ticket.assigned_agent == "Max Mustermann"
    from support_mcp.services.journal import count_sentences

    summary = msg.body.split("\n", 1)[1]
    assert count_sentences(summary) < 5
    for part in ("Bots antworten nicht", "Meta-Token abgelaufen", "Token im Business Manager erneuern"):
        assert part in summary


async def test_human_handover_refuses_five_sentences_or_missing_parts(services: Services) -> None:
    t = await services.tickets.create_ticket(subject="x")
    wordy = HumanHandover("A fiel aus. B auch.", "C. D.", "E. F.", "G.", "H.")
    with pytest.raises(InvalidInput, match="fewer than 5"):
        await services.journal.hand_over_to_human(t.id, AGENT, "Max", wordy)
    with pytest.raises(InvalidInput, match="lacks: cause"):
        await services.journal.hand_over_to_human(t.id, AGENT, "Max", HumanHandover("p", " ", "s", "z", "a"))
    assert (await services.tickets.get_ticket(t.id)).assigned_agent is None


async def test_external_research_lists_sources(services: Services) -> None:
    t = await services.tickets.create_ticket(subject="x")
    msg = await services.journal.external_research(
        t.id, AGENT, [Source(url="https://supabase.com/docs/guides/auth", date="2026-11-20",
                             key_statement="OTP expiry defaults to 1h")])
    assert "https://supabase.com/docs/guides/auth (2026-11-20): OTP expiry" in msg.body
    with pytest.raises(InvalidInput):
        await services.journal.external_research(
            t.id, AGENT, [Source(url="javascript:alert(1)", date="x", key_statement="y")])


async def test_note_with_secret_is_redacted_and_metadata_too(services: Services) -> None:
    t = await services.tickets.create_ticket(subject="x")
    msg = await services.journal.note(t.id, f"Authorization: Bearer {JWT}", metadata={"password": "hunter2pw"})
    assert JWT not in msg.body and "hunter2pw" not in str(msg.metadata)
