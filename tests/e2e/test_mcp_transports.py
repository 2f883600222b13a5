"""Real transports: the `support-mcp serve` process over stdio, and over streamable HTTP with
and without a valid bearer token and with a foreign Host header."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import httpx2
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from helpers.processes import BIN, clean_env, serving
from support_mcp.bootstrap import Settings, open_services
from support_mcp.domain.models import AuthorKind

TOKEN = "test-token-3f9a1c7e5b2d4f60a8e1c7b9"
TIER1_TOKEN = "tier1-token-0b8c2e4f6a1d3c5e7f90"
LEAD_TOKEN = "lead-token-7c1e9a3f5b2d8e4a6c0f5d"


def _env(dsn: str, **extra: str) -> dict[str, str]:
    return clean_env(SUPPORT_MCP_DATABASE_URL=dsn, **extra)


@pytest.fixture
def http_server(fresh_dsn: str) -> Iterator[str]:
    env = _env(fresh_dsn, SUPPORT_MCP_HTTP_TOKENS=f"hetzner-ops-agent={TOKEN},tier1={TIER1_TOKEN},"
                                                  f"tier2-lead={LEAD_TOKEN}")
    with serving(["serve", "--http"], env) as port:
        yield f"http://127.0.0.1:{port}/mcp"


def test_http_refuses_missing_and_wrong_tokens(http_server: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    assert httpx.post(http_server, json=body, headers=headers, timeout=10).status_code == 401
    wrong = httpx.post(http_server, json=body, headers={**headers, "Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code == 401


def test_http_refuses_unknown_host_header(http_server: str) -> None:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
               "Authorization": f"Bearer {TOKEN}", "Host": "evil.example.com"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    response = httpx.post(http_server, json=body, headers=headers, timeout=10)
    assert response.status_code in (400, 421)


async def test_http_with_valid_token_lists_tools_of_that_identity(http_server: str) -> None:
    async def names(token: str) -> set[str]:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=20)
        async with http, Client(streamable_http_client(http_server, http_client=http)) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            result = await client.call_tool("knowledge_search", {"query": "RLS policy blocks profile"})
            assert not result.is_error
            return tools

    agent_tools = await names(TOKEN)
    tier1_tools = await names(TIER1_TOKEN)
    assert "start_run" in agent_tools and "start_run" not in tier1_tools


async def test_a_lead_run_over_http_is_for_a_lead_not_for_an_agent(http_server: str, fresh_dsn: str) -> None:
    """`start_run` with agent "auto" through the real server process: no host is configured, so
    hetzner-ops checks this machine; whatever it finds, the lead writes one conclusion note and
    the ticket gets exactly one Tier-1 handover."""
    async with open_services(Settings(database_url=fresh_dsn)) as s:
        ticket = await s.tickets.create_ticket(subject="Server langsam", customer="acme")
        await s.tickets.add_message(ticket.id, body="Der Server ist langsam.", author_kind=AuthorKind.CUSTOMER,
                                    internal_only=False)

    async def call(token: str) -> tuple[bool, str]:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120)
        async with http, Client(streamable_http_client(http_server, http_client=http)) as client:
            result = await client.call_tool("start_run", {"ticket_id": str(ticket.id), "agent": "auto"})
            return result.is_error, result.content[0].text  # type: ignore[union-attr]

    refused, why = await call(TOKEN)
    assert refused and "crosses agents" in why
    failed, text = await call(LEAD_TOKEN)
    assert not failed, text
    out = json.loads(text)
    assert [r["agent"] for r in out["runs"]] == ["hetzner-ops-agent"] and out["lead"]["note_id"]
    async with open_services(Settings(database_url=fresh_dsn)) as s:
        notes = await s.tickets.messages(ticket.id, internal_only=True, limit=500)
    assert [str(m.id) for m in notes if "lead_conclusion" in m.tags] == [out["lead"]["note_id"]]
    assert len([m for m in notes if "tier1_handover" in m.tags]) == 1


async def test_stdio_session_with_the_real_command(fresh_dsn: str) -> None:
    params = StdioServerParameters(command=str(BIN), args=["serve"],
                                   env=_env(fresh_dsn, SUPPORT_MCP_IDENTITY="tier1"))
    async with Client(params, read_timeout_seconds=60) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert "ticket_context" in tools and "escalate" not in tools
        result = await client.call_tool("knowledge_search", {"query": "OTP login fails"})
        assert not result.is_error and "Supabase" in result.content[0].text  # type: ignore[union-attr]
