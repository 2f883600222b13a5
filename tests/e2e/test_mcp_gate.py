"""Issue 15 through the SDK client over streamable HTTP: the human gate an agent cannot pass.

The server: `helpers.mcp_http.serve_http` (this process's `http_app` under uvicorn, loopback).
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from helpers.mcp_http import (
    AGENT,
    AGENT_TOKEN,
    LEAD_TOKEN,
    OTHER_AGENT_TOKEN,
    TIER1_TOKEN,
    Gate,
    person,
    session,
    text_of,
)
from support_mcp.domain.errors import PolicyViolation
from support_mcp.store.plans import PlanStore


async def _draft(served: Gate) -> tuple[str, str, str]:
    ticket = await served.services.tickets.create_ticket(subject="Port falsch")
    async with session(served, AGENT_TOKEN) as client:
        out = text_of(await client.call_tool("draft_repair_plan", {
            "ticket_id": str(ticket.id), "repair": "set_config_value", "params": {"key": "PORT", "value": "3000"}}))
    plan_id = re.search(r"plan ([0-9a-f-]{36})", out).group(1)  # type: ignore[union-attr]
    plan_hash = re.search(r"plan_hash: ([0-9a-f]{64})", out).group(1)  # type: ignore[union-attr]
    return str(ticket.id), plan_id, plan_hash


async def test_an_agent_cannot_approve_even_by_answering_its_own_elicitation(served: Gate) -> None:
    _, plan_id, plan_hash = await _draft(served)
    for token in (AGENT_TOKEN, OTHER_AGENT_TOKEN, TIER1_TOKEN):
        forger = person({"approver": "Totally A Human", "approve": True})
        async with session(served, token, forger) as client:
            assert "approve_plan" not in {t.name for t in (await client.list_tools()).tools}
            refused = await client.call_tool("approve_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
            assert refused.is_error and "lacks scope 'approver'" in text_of(refused), text_of(refused)
            assert forger.asked == []  # nobody was even asked
    async with session(served, AGENT_TOKEN) as client:
        applied = await client.call_tool("apply_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
        assert applied.is_error and "needs an approval" in text_of(applied)
    assert "PORT=3001" in served.config.read_text()
    assert await PlanStore(served.services.db).approvals(uuid.UUID(plan_id)) == []


async def test_a_person_approves_as_their_identity_and_the_agent_then_applies(served: Gate) -> None:
    ticket_id, plan_id, plan_hash = await _draft(served)
    lead = person({"approver": "Erika Muster", "approve": True})
    async with session(served, LEAD_TOKEN, lead) as client:
        approved = await client.call_tool("approve_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
    assert not approved.is_error and "identity tier2-lead" in text_of(approved), text_of(approved)
    assert plan_hash in lead.asked[0]
    [approval] = await PlanStore(served.services.db).approvals(uuid.UUID(plan_id))
    assert (approval.approver, approval.approver_identity) == ("Erika Muster", "tier2-lead")
    notes = await served.services.tickets.messages(uuid.UUID(ticket_id), tag="repair_approval")
    assert "Erika Muster (tier2-lead)" in notes[0].body
    async with session(served, AGENT_TOKEN) as client:
        applied = await client.call_tool("apply_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
    assert not applied.is_error and "status applied" in text_of(applied), text_of(applied)
    assert "PORT=3000" in served.config.read_text()


async def test_a_wrong_hash_is_refused_before_anyone_is_asked_and_the_real_one_is_not_told(served: Gate) -> None:
    _, plan_id, plan_hash = await _draft(served)
    lead = person({"approver": "Erika Muster", "approve": True})
    async with session(served, LEAD_TOKEN, lead) as client:
        wrong = await client.call_tool("approve_plan", {"plan_id": plan_id, "plan_hash": "0" * 64})
        assert wrong.is_error and "hash mismatch" in text_of(wrong)
        assert plan_hash not in text_of(wrong) and lead.asked == []
        assert not (await client.call_tool("approve_plan", {"plan_id": plan_id, "plan_hash": plan_hash})).is_error
    async with session(served, AGENT_TOKEN) as client:
        wrong_apply = await client.call_tool("apply_plan", {"plan_id": plan_id, "plan_hash": "f" * 64})
        assert wrong_apply.is_error and plan_hash not in text_of(wrong_apply)
    assert "PORT=3001" in served.config.read_text()


async def test_apply_refuses_an_approval_given_by_an_agent_identity(served: Gate) -> None:
    """An approval row that names an agent (from before the gate, or written around it) is
    never used; the service refuses to record one in the first place."""
    _, plan_id, plan_hash = await _draft(served)
    plan = uuid.UUID(plan_id)
    with pytest.raises(PolicyViolation, match="only a person"):
        await served.services.repairs.approve(plan, plan_hash, "Totally A Human", by=AGENT)
    with pytest.raises(PolicyViolation, match="only a person"):
        await served.services.repairs.approve(plan, plan_hash, "Totally A Human", by="supabase-analyst-agent")
    now = served.services.repairs._clock()  # noqa: SLF001 - the forged row needs the service's clock
    await PlanStore(served.services.db).add_approval(plan, plan_hash, "Totally A Human", now,
                                                   now + timedelta(minutes=30), approver_identity=AGENT)
    await PlanStore(served.services.db).update(plan, status="approved")
    async with session(served, AGENT_TOKEN) as client:
        refused = await client.call_tool("apply_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
    assert refused.is_error and "given by an agent identity" in text_of(refused), text_of(refused)
    assert "PORT=3001" in served.config.read_text()


async def test_a_draft_an_approval_and_a_suggestion_rerun_after_a_lost_answer_are_stored_once(served: Gate) -> None:
    """The first calls wrote, then their answers were lost (the record's answer is cleared, as a
    kill before it was stored leaves it); the retries run again and find their first rows."""
    ticket = await served.services.tickets.create_ticket(subject="Port falsch")
    draft = {"ticket_id": str(ticket.id), "repair": "set_config_value", "params": {"key": "PORT", "value": "3000"},
             "idempotency_key": "draft-1"}
    suggestion = {"title": "PM2-Neustart dokumentieren", "body": "Nach dem Neustart pm2 status prüfen.",
                  "ticket_id": str(ticket.id), "idempotency_key": "suggest-1"}
    lead = person({"approver": "Erika Muster", "approve": True})

    async def lose_answers() -> None:
        await served.services.db.execute("update mcp_tool_calls set result = null, completed_at = null")

    async with session(served, AGENT_TOKEN) as agent, session(served, LEAD_TOKEN, lead) as person_at_client:
        first = text_of(await agent.call_tool("draft_repair_plan", draft))
        plan_id = re.search(r"plan ([0-9a-f-]{36})", first).group(1)  # type: ignore[union-attr]
        plan_hash = re.search(r"plan_hash: ([0-9a-f]{64})", first).group(1)  # type: ignore[union-attr]
        approve = {"plan_id": plan_id, "plan_hash": plan_hash, "idempotency_key": "approve-1"}
        assert not (await person_at_client.call_tool("approve_plan", approve)).is_error
        assert not (await agent.call_tool("register_knowledge_suggestion", suggestion)).is_error
        await lose_answers()
        again = text_of(await agent.call_tool("draft_repair_plan", draft))
        assert f"plan {plan_id}" in again
        assert not (await person_at_client.call_tool("approve_plan", approve)).is_error
        assert not (await agent.call_tool("register_knowledge_suggestion", suggestion)).is_error
    assert [str(p.id) for p in await served.services.repairs.list_plans(ticket.id)] == [plan_id]
    assert len(await PlanStore(served.services.db).approvals(uuid.UUID(plan_id))) == 1
    assert len(await served.services.suggestions.list_suggestions(limit=50)) == 1
