"""Repair plans through MCP: the model drafts and applies, a human approves by elicitation."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp.client import Client

from helpers.repairs import AGENT, DiskFull, SetConfigValue
from support_mcp.bootstrap import Services, Settings, open_services
from support_mcp.mcp.server import build_server
from support_mcp.policy.scopes import identity


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / ".env.production"
    path.write_text("NODE_ENV=production\nPORT=3001\n")
    return path


@pytest.fixture
async def services(fresh_dsn: str, config: Path) -> AsyncIterator[Services]:
    async with open_services(Settings(database_url=fresh_dsn), checks=lambda agent: [DiskFull()],
                             repairs=lambda agent: [SetConfigValue(config)] if agent == AGENT else []) as s:
        yield s


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


def human(answer: dict[str, Any] | None) -> Any:
    """An elicitation callback standing for the person at the client."""
    asked: list[str] = []

    async def callback(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        if answer is None:
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content=answer)

    callback.asked = asked  # type: ignore[attr-defined]
    return callback


async def _draft(client: Client, ticket_id: str) -> tuple[str, str]:
    out = _text(await client.call_tool("draft_repair_plan", {
        "ticket_id": ticket_id, "repair": "set_config_value", "params": {"key": "PORT", "value": "3000"}}))
    plan_id = re.search(r"plan ([0-9a-f-]{36})", out).group(1)  # type: ignore[union-attr]
    plan_hash = re.search(r"plan_hash: ([0-9a-f]{64})", out).group(1)  # type: ignore[union-attr]
    assert "+PORT=3000" in out
    return plan_id, plan_hash


async def test_human_approves_by_elicitation_then_apply_and_validate(services: Services, config: Path) -> None:
    ticket = await services.tickets.create_ticket(subject="Port falsch")
    person = human({"approver": "Max Mustermann", "approve": True})
    server = build_server(services, default_identity=identity(AGENT))
    lead = build_server(services, default_identity=identity("tier2-lead"))  # the person's session
    async with Client(server) as client, Client(lead, elicitation_callback=person) as lead_client:
        plan_id, plan_hash = await _draft(client, str(ticket.id))
        refused = await client.call_tool("apply_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
        assert refused.is_error and "needs an approval" in _text(refused)
        approved = await lead_client.call_tool("approve_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
        assert "approved by Max Mustermann (identity tier2-lead)" in _text(approved)
        assert plan_hash in person.asked[0] and "PORT=3000" in person.asked[0]
        applied = await client.call_tool("apply_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
        assert not applied.is_error and "status applied" in _text(applied)
        validated = await client.call_tool("validate_plan", {"plan_id": plan_id})
        assert '"status": "validated"' in _text(validated)
    assert "PORT=3000" in config.read_text()


async def test_declined_elicitation_approves_nothing(services: Services, config: Path) -> None:
    ticket = await services.tickets.create_ticket(subject="Port falsch")
    server = build_server(services, default_identity=identity(AGENT))
    lead = build_server(services, default_identity=identity("tier2-lead"))
    async with Client(server) as client, Client(lead, elicitation_callback=human(None)) as lead_client:
        plan_id, plan_hash = await _draft(client, str(ticket.id))
        answer = await lead_client.call_tool("approve_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
        assert "not approved" in _text(answer)
        refused = await client.call_tool("apply_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
        assert refused.is_error
    assert "PORT=3001" in config.read_text()


async def test_tier1_cannot_draft_or_apply(services: Services) -> None:
    server = build_server(services, default_identity=identity("tier1"))
    async with Client(server) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert not {"draft_repair_plan", "approve_plan", "apply_plan"} & names
    assert "show_plan" in names
