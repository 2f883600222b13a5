"""Issue 15 through the SDK client over streamable HTTP: the human gate an agent cannot pass.

The server: `helpers.mcp_http.serve_http` (this process's `http_app` under uvicorn, loopback).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest

from helpers.mcp_http import (
    AGENT,
    AGENT_TOKEN,
    LEAD_TOKEN,
    OTHER_AGENT_TOKEN,
    TIER1_TOKEN,
    Gate,
    person,
    serve_http,
    session,
)
from support_mcp.domain.errors import PolicyViolation
from support_mcp.store.plans import PlanStore


@pytest.fixture
async def gate(fresh_dsn: str, tmp_path: Path) -> AsyncIterator[Gate]:
    async with serve_http(fresh_dsn, tmp_path) as served:
        yield served


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def _draft(gate: Gate) -> tuple[str, str, str]:
    ticket = await gate.services.tickets.create_ticket(subject="Port falsch")
    async with session(gate, AGENT_TOKEN) as client:
        out = _text(await client.call_tool("draft_repair_plan", {
            "ticket_id": str(ticket.id), "repair": "set_config_value", "params": {"key": "PORT", "value": "3000"}}))
    plan_id = re.search(r"plan ([0-9a-f-]{36})", out).group(1)  # type: ignore[union-attr]
    plan_hash = re.search(r"plan_hash: ([0-9a-f]{64})", out).group(1)  # type: ignore[union-attr]
    return str(ticket.id), plan_id, plan_hash


async def test_an_agent_cannot_approve_even_by_answering_its_own_elicitation(gate: Gate) -> None:
    _, plan_id, plan_hash = await _draft(gate)
    for token in (AGENT_TOKEN, OTHER_AGENT_TOKEN, TIER1_TOKEN):
        forger = person({"approver": "Totally A Human", "approve": True})
        async with session(gate, token, forger) as client:
            assert "approve_plan" not in {t.name for t in (await client.list_tools()).tools}
            refused = await client.call_tool("approve_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
            assert refused.is_error and "lacks scope 'approver'" in _text(refused), _text(refused)
            assert forger.asked == []  # nobody was even asked
    async with session(gate, AGENT_TOKEN) as client:
        applied = await client.call_tool("apply_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
        assert applied.is_error and "needs an approval" in _text(applied)
    assert "PORT=3001" in gate.config.read_text()
    assert await PlanStore(gate.services.db).approvals(uuid.UUID(plan_id)) == []


async def test_a_person_approves_as_their_identity_and_the_agent_then_applies(gate: Gate) -> None:
    ticket_id, plan_id, plan_hash = await _draft(gate)
    lead = person({"approver": "Erika Muster", "approve": True})
    async with session(gate, LEAD_TOKEN, lead) as client:
        approved = await client.call_tool("approve_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
    assert not approved.is_error and "identity tier2-lead" in _text(approved), _text(approved)
    assert plan_hash in lead.asked[0]
    [approval] = await PlanStore(gate.services.db).approvals(uuid.UUID(plan_id))
    assert (approval.approver, approval.approver_identity) == ("Erika Muster", "tier2-lead")
    notes = await gate.services.tickets.messages(uuid.UUID(ticket_id), tag="repair_approval")
    assert "Erika Muster (tier2-lead)" in notes[0].body
    async with session(gate, AGENT_TOKEN) as client:
        applied = await client.call_tool("apply_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
    assert not applied.is_error and "status applied" in _text(applied), _text(applied)
    assert "PORT=3000" in gate.config.read_text()


async def test_a_wrong_hash_is_refused_before_anyone_is_asked_and_the_real_one_is_not_told(gate: Gate) -> None:
    _, plan_id, plan_hash = await _draft(gate)
    lead = person({"approver": "Erika Muster", "approve": True})
    async with session(gate, LEAD_TOKEN, lead) as client:
        wrong = await client.call_tool("approve_plan", {"plan_id": plan_id, "plan_hash": "0" * 64})
        assert wrong.is_error and "hash mismatch" in _text(wrong)
        assert plan_hash not in _text(wrong) and lead.asked == []
        assert not (await client.call_tool("approve_plan", {"plan_id": plan_id, "plan_hash": plan_hash})).is_error
    async with session(gate, AGENT_TOKEN) as client:
        wrong_apply = await client.call_tool("apply_plan", {"plan_id": plan_id, "plan_hash": "f" * 64})
        assert wrong_apply.is_error and plan_hash not in _text(wrong_apply)
    assert "PORT=3001" in gate.config.read_text()


async def test_apply_refuses_an_approval_given_by_an_agent_identity(gate: Gate) -> None:
    """An approval row that names an agent (from before the gate, or written around it) is
    never used; the service refuses to record one in the first place."""
    _, plan_id, plan_hash = await _draft(gate)
    plan = uuid.UUID(plan_id)
    with pytest.raises(PolicyViolation, match="only a person"):
        await gate.services.repairs.approve(plan, plan_hash, "Totally A Human", by=AGENT)
    with pytest.raises(PolicyViolation, match="only a person"):
        await gate.services.repairs.approve(plan, plan_hash, "Totally A Human", by="supabase-analyst-agent")
    now = gate.services.repairs._clock()  # noqa: SLF001 - the forged row needs the service's clock
    await PlanStore(gate.services.db).add_approval(plan, plan_hash, "Totally A Human", now,
                                                   now + timedelta(minutes=30), approver_identity=AGENT)
    await PlanStore(gate.services.db).update(plan, status="approved")
    async with session(gate, AGENT_TOKEN) as client:
        refused = await client.call_tool("apply_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
    assert refused.is_error and "given by an agent identity" in _text(refused), _text(refused)
    assert "PORT=3001" in gate.config.read_text()
