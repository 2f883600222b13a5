"""The lead run (`run --agent auto`) over a real PostgreSQL.

What is under test here is the orchestration: the hand-over with its evidence as the next
agent's hypothesis, one conclusion note whose chain cites the command notes, exactly one Tier-1
handover. The two agents' checks are therefore stand-ins that run one real operation each through
a replaying executor (recorded `uptime` output, tests/helpers/replay) and report a finding in the
shape the real check reports it. The lead run on a real host is in tests/e2e/test_hetzner_incidents.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from helpers.replay import HEALTHY, ReplayExecutor
from support_mcp.agents.base import CheckContext
from support_mcp.bootstrap import Services, Settings, open_services
from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.models import AuthorKind, CheckStatus, Finding, Verdict
from support_mcp.policy.commands import uptime

HOST, ANALYST = "hetzner-ops-agent", "supabase-analyst-agent"
APP_LOG = "Error: permission denied for table profiles (SQLSTATE 42501)"


class StandIn:
    """A check of the given name: one replayed command, then the finding it was told to report."""

    tools = ("uptime",)

    def __init__(self, name: str, finding: Callable[[str], Finding]) -> None:
        self.name = self.title = name
        self._finding = finding

    async def run(self, ctx: CheckContext) -> list[Finding]:
        await ctx.execute(uptime())
        return [self._finding(self.name)]


def _ok(name: str) -> Finding:
    return Finding(check=name, status=CheckStatus.OK, title=f"{name}: ok")


def _crash_naming_the_database(name: str) -> Finding:
    return Finding(check=name, status=CheckStatus.FAIL, title=f"App-Log: {APP_LOG}", evidence=[APP_LOG])


def _no_policy(name: str) -> Finding:
    return Finding(check=name, status=CheckStatus.FAIL, title="RLS auf public.profiles ohne Policy für authenticated",
                   data={"code": "rls_no_policy_for_role"})


def _disk_full(name: str) -> Finding:
    return Finding(check=name, status=CheckStatus.FAIL, title="Festplatte / zu 100 % belegt")


CheckTable = dict[str, list[StandIn]]


@pytest.fixture
def make_services(fresh_dsn: str) -> Callable[..., Any]:
    def make(table: CheckTable, language: str = "de") -> Any:
        settings = Settings(database_url=fresh_dsn, oncall_assignee="Tier-2 Bereitschaft", language=language)
        return open_services(settings,
                             executors={"local": ReplayExecutor(HEALTHY)},
                             checks=lambda agent: table.get(agent, []), repairs=lambda agent: ())
    return make


async def _conclusion_after_one_handover(s: Services, ticket_id: Any) -> Any:
    """The lead's conclusion note, after asserting the ticket got exactly one Tier-1 handover."""
    notes = await s.tickets.messages(ticket_id, internal_only=True, limit=500)
    assert len([m for m in notes if "tier1_handover" in m.tags]) == 1
    [note] = [m for m in notes if "lead_conclusion" in m.tags]
    return note


async def _ticket(s: Services, message: str) -> Any:
    t = await s.tickets.create_ticket(subject="Bot offline", customer="acme")
    await s.tickets.add_message(t.id, body=message, author_kind=AuthorKind.CUSTOMER, internal_only=False)
    return t


@pytest.fixture
async def crossing(make_services: Callable[..., Any]) -> AsyncIterator[Services]:
    table = {HOST: [StandIn("pm2_logs", _crash_naming_the_database), StandIn("host.disk", _ok)],
             ANALYST: [StandIn("rls_policies", _no_policy), StandIn("health", _ok)]}
    async with make_services(table) as s:
        yield s


async def test_a_host_finding_naming_the_database_leads_to_the_analyst_and_one_conclusion(crossing: Services) -> None:
    s = crossing
    t = await _ticket(s, "Die Seite zeigt nur noch 502 Bad Gateway.")
    lead = await s.lead.run(t.id)
    assert [r.agent for r in lead.runs] == [HOST, ANALYST]
    host, analyst = lead.runs
    assert host.handover_to == ANALYST and host.deferred and not host.escalated
    # the host's evidence is the analyst's starting hypothesis
    assert "Übergabe von hetzner-ops-agent" in analyst.hypothesis.suspected_cause
    assert APP_LOG in analyst.hypothesis.suspected_cause
    assert analyst.verdict == Verdict.CONFIRMED
    c = lead.conclusion
    assert c.confirmed and c.layer == ANALYST and c.cause == analyst.conclusion["cause"]
    assert [(link.agent, link.check) for link in c.chain] == [(HOST, "pm2_logs"), (ANALYST, "rls_policies")]
    notes = {m.id: m for m in await s.tickets.messages(t.id, internal_only=True, limit=500)}
    for link in c.chain:  # each link cites the command notes of its own check in its own run
        assert link.notes, link
        for note_id in link.notes:
            cited = notes[note_id]
            assert "command" in cited.tags and cited.metadata["check"] == link.check
            assert cited.author_name == link.agent
    [conclusion] = [m for m in notes.values() if "lead_conclusion" in m.tags]
    assert conclusion.id == lead.note_id
    assert "Gesamtbefund (Lead-Run, 2 Agenten)" in conclusion.body and "Beweiskette" in conclusion.body
    assert "Datenbank (Supabase" in conclusion.body and str(c.chain[0].notes[0]) in conclusion.body
    assert conclusion.metadata["layer"] == ANALYST and len(conclusion.metadata["chain"]) == 2
    # one Tier-1 handover for the ticket: the analyst's (the host handed over and said nothing to Tier 1)
    handovers = [m for m in notes.values() if "tier1_handover" in m.tags]
    assert [m.author_name for m in handovers] == [ANALYST], [m.body for m in handovers]
    assert any("agent_handover" in m.tags and m.author_name == HOST for m in notes.values())


async def test_a_hand_over_the_next_layer_cannot_confirm_is_said_to_be_unconfirmed(
        make_services: Callable[..., Any]) -> None:
    table = {HOST: [StandIn("pm2_logs", _crash_naming_the_database)],
             ANALYST: [StandIn("rls_policies", _ok), StandIn("health", _ok)]}
    async with make_services(table) as s:
        t = await _ticket(s, "Die Seite zeigt nur noch 502 Bad Gateway.")
        lead = await s.lead.run(t.id)
        assert [r.agent for r in lead.runs] == [HOST, ANALYST]
        c = lead.conclusion
        assert not c.confirmed and c.layer == ANALYST and c.cause == lead.runs[0].conclusion["cause"]
        assert c.unconfirmed_by == f"{ANALYST}: 2 ok"
        assert lead.runs[1].escalated and lead.escalated  # nobody found the cause where it points: a human
        note = await _conclusion_after_one_handover(s, t.id)
        assert "nicht bestätigt – supabase-analyst-agent: 2 ok" in note.body


async def test_a_cause_in_the_first_layer_ends_the_lead_run_with_one_agent(
        make_services: Callable[..., Any]) -> None:
    table = {HOST: [StandIn("host.disk", _disk_full)], ANALYST: [StandIn("rls_policies", _no_policy)]}
    async with make_services(table) as s:
        t = await _ticket(s, "Server extrem langsam, no space left on device")
        lead = await s.lead.run(t.id)
        assert [r.agent for r in lead.runs] == [HOST]
        assert lead.conclusion.confirmed and lead.conclusion.layer == HOST
        assert [link.check for link in lead.conclusion.chain] == ["host.disk"]
        note = await _conclusion_after_one_handover(s, t.id)
        assert "Gesamtbefund (Lead-Run, ein Agent)" in note.body


async def test_a_chain_ending_at_an_agent_that_ran_already_is_escalated_once_by_the_lead(
        make_services: Callable[..., Any]) -> None:
    frontend = "frontend-diagnostics-agent"

    def digest_naming_sqlstate(name: str) -> Finding:
        return Finding(check=name, status=CheckStatus.FAIL, title="Digest 1234: SQLSTATE 42P17 im Server-Stack")

    table = {ANALYST: [StandIn("rls_policies", _ok)], frontend: [StandIn("frontend.digest", digest_naming_sqlstate)]}
    async with make_services(table) as s:
        t = await _ticket(s, "Die Seite zeigt Application error mit Digest.")
        lead = await s.lead.run(t.id, order=[ANALYST, frontend])
        assert [r.agent for r in lead.runs] == [ANALYST, frontend]
        analyst, front = lead.runs
        assert analyst.deferred and not analyst.escalated  # found nothing, but another agent followed
        assert front.handover_to == ANALYST and front.deferred  # points back to a layer that found nothing
        assert lead.escalated and not lead.conclusion.confirmed and lead.conclusion.layer == ANALYST
        notes = await s.tickets.messages(t.id, internal_only=True, limit=500)
        assert [m.author_name for m in notes if "tier1_handover" in m.tags] == ["lead"]
        assert [m.author_name for m in notes if "manual_followup" in m.tags] == ["lead"]
        assert (await s.tickets.get_ticket(t.id)).escalation_path == ["lead:manual_followup"]
        with pytest.raises(InvalidInput, match="at least one agent"):
            await s.lead.run(t.id, order=[])


async def test_the_conclusion_is_english_on_request(make_services: Callable[..., Any]) -> None:
    table = {HOST: [StandIn("pm2_logs", _crash_naming_the_database)], ANALYST: [StandIn("rls_policies", _no_policy)]}
    async with make_services(table, language="en") as s:
        t = await _ticket(s, "The site only shows 502 Bad Gateway.")
        lead = await s.lead.run(t.id)
        [note] = [m for m in await s.tickets.messages(t.id, internal_only=True, limit=500)
                  if "lead_conclusion" in m.tags]
        assert lead.conclusion.confirmed
        assert "Overall conclusion (lead run, 2 agents)" in note.body and "Chain of evidence" in note.body
        assert "Handed over by hetzner-ops-agent" in lead.runs[1].hypothesis.suspected_cause
