"""Issue 15 through the SDK client over streamable HTTP: tokens, resources, a lost database,
sessions per identity, retried writes, structured results.

Server: `helpers.mcp_http.serve_http` (this process's `http_app` under uvicorn, loopback), or the
real `support-mcp serve --http` process where the test is about the process (start, kill -9).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import psycopg
import pytest
from mcp.shared.exceptions import MCPError

from helpers.mcp_http import AGENT_TOKEN, LEAD_TOKEN, TIER1_TOKEN, Gate, serve_http, session, text_of
from helpers.processes import BIN, clean_env, free_port, serving
from support_mcp.bootstrap import Settings
from support_mcp.domain.models import AuthorKind
from support_mcp.store.database import redact_dsn

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


# -- tokens ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("tokens", "why"), [
    (f"tier1={LEAD_TOKEN},tier2-lead={LEAD_TOKEN}", "both 'tier1' and 'tier2-lead'"),
    ("tier1=short-token-1234", "at least 32"),
])
def test_serve_http_refuses_to_start_with_a_shared_or_short_token(fresh_dsn: str, tokens: str, why: str) -> None:
    env = clean_env(SUPPORT_MCP_DATABASE_URL=fresh_dsn, SUPPORT_MCP_HTTP_TOKENS=tokens)
    done = subprocess.run([str(BIN), "serve", "--http", "--port", str(free_port())], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and why in done.stderr + done.stdout, (done.returncode, done.stderr)
    assert LEAD_TOKEN not in done.stderr + done.stdout and "short-token-1234" not in done.stderr + done.stdout


# -- resources ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("mode", "code"), [("legacy", -32002), ("auto", -32602)])
async def test_a_missing_resource_is_resource_not_found_not_an_internal_error(served: Gate, mode: str,
                                                                              code: int) -> None:
    """-32002 in the handshake protocol versions (up to 2025-11-25: the TypeScript SDK, the
    Inspector); 2026-07-28 retired it for -32602 (SEP-2164). Before: -32603 in both."""
    async with session(served, TIER1_TOKEN, mode=mode) as client:
        assert client.protocol_version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
        for uri in ("kb://tier2_incident_playbook/no-such-anchor", "kb://no-such-document/31-diagnose",
                    "ticket://00000000-0000-0000-0000-000000000000", "ticket://not-a-uuid"):
            with pytest.raises(MCPError) as caught:
                await client.read_resource(uri)
            assert caught.value.code == code, (uri, caught.value.code, caught.value.message)
            assert caught.value.data == {"uri": uri}
        assert (await client.read_resource("kb://tier2_incident_playbook/31-diagnose")).contents


# -- a lost database ---------------------------------------------------------------------------

async def test_a_lost_database_is_store_unavailable_with_a_reason_and_no_dsn(served: Gate, fresh_dsn: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(fresh_dsn)["dbname"]
    ticket = await served.services.tickets.create_ticket(subject="Server langsam")
    async with session(served, LEAD_TOKEN) as client:
        assert not (await client.call_tool("ticket_context", {"ticket_id": str(ticket.id)})).is_error
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'alter database "{name}" allow_connections false')
            admin.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (name,))
        try:
            # Each pooled connection was ended (AdminShutdown, 57P01) and says so when next used;
            # then the pool must connect anew, and the database refuses (55000).
            lost = "StoreUnavailable: database connection lost: the database server "
            refused = "StoreUnavailable: no database connection within 10 s: the database refuses connections;"
            seen = []
            for _ in range(10):
                result = await client.call_tool("ticket_context", {"ticket_id": str(ticket.id)})
                text = text_of(result)
                assert result.is_error and "StoreUnavailable: " in text and (lost in text or refused in text), text
                for secret in (fresh_dsn, name, redact_dsn(fresh_dsn), "postgresql://", "127.0.0.1"):
                    assert secret not in text, text
                seen.append(refused in text)
                if seen[-1]:
                    break
            assert seen[0] is False and seen[-1] is True, seen
        finally:
            with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
                admin.execute(f'alter database "{name}" allow_connections true')
        back = await client.call_tool("ticket_context", {"ticket_id": str(ticket.id)})
        assert not back.is_error, text_of(back)  # the pool reconnects; nothing to restart


# -- sessions per identity ---------------------------------------------------------------------

_INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}


async def _open_raw(gate: Gate, token: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(gate.url, json=_INITIALIZE, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"})


async def test_one_identity_at_its_session_limit_does_not_lock_out_another(fresh_dsn: str, tmp_path: Path) -> None:
    """Two sessions per identity, three idle seconds (SUPPORT_MCP_HTTP_SESSIONS_PER_IDENTITY,
    SUPPORT_MCP_HTTP_SESSION_IDLE_SECONDS). Before: one global limit of 10,000, 30 idle minutes."""
    def tune(settings: Settings) -> Settings:
        return replace(settings, http_sessions_per_identity=2, http_session_idle_seconds=3)

    async with serve_http(fresh_dsn, tmp_path, tune) as gate:
        async with session(gate, TIER1_TOKEN, mode="legacy") as first, \
                session(gate, TIER1_TOKEN, mode="legacy") as second:
            refused = await _open_raw(gate, TIER1_TOKEN)
            assert refused.status_code == 429, refused.text
            assert "'tier1' has 2 open sessions" in refused.json()["error"]["message"]
            async with session(gate, LEAD_TOKEN, mode="legacy") as lead:  # another identity: not affected
                assert (await lead.list_tools()).tools
            assert (await first.list_tools()).tools and (await second.list_tools()).tools
        async with session(gate, TIER1_TOKEN, mode="legacy") as again:  # both ended (DELETE): room again
            assert (await again.list_tools()).tools
            idle = await _open_raw(gate, TIER1_TOKEN)  # a second one that is then left alone
            assert idle.status_code == 200, idle.text
            assert (await _open_raw(gate, TIER1_TOKEN)).status_code == 429
            await asyncio.sleep(4)  # idle past 3 s: the SDK ended it, and the count forgot it
            async with httpx.AsyncClient(timeout=10) as http:
                gone = await http.post(gate.url, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers={
                    "Authorization": f"Bearer {TIER1_TOKEN}", "Accept": "application/json, text/event-stream",
                    "mcp-session-id": idle.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"})
            assert gone.status_code == 404, gone.text
            fresh = await _open_raw(gate, TIER1_TOKEN)
            assert fresh.status_code == 200, fresh.text
            assert (await again.list_tools()).tools  # its event stream is open: not idle, not ended


# -- retried writes ----------------------------------------------------------------------------

_WRITES: dict[str, Any] = {
    "add_internal_note": lambda t: {"ticket_id": t, "body": "Neustart geprüft", "tags": ["analysis"]},
    "log_command": lambda t: {"ticket_id": t, "target": "hetzner-prod", "command": "pm2 jlist", "exit_code": 0,
                              "duration_ms": 12.0, "output": "[]"},
    "record_hypothesis": lambda t: {"ticket_id": t, "symptom": "502 nach Deploy", "suspected_cause": "PM2 gestoppt",
                                    "tools": ["ssh", "pm2"]},
    "write_automation_event": lambda t: {"ticket_id": t, "event_type": "restart_planned", "status": "open"},
    "escalate": lambda t: {"ticket_id": t, "blocker": "Benötigt Zugriff auf den Meta Business Manager"},
}


async def _call_http(url: str, tool: str, arguments: dict[str, Any]) -> tuple[bool, str]:
    async with session(Gate(url, None, Path()), AGENT_TOKEN) as client:  # type: ignore[arg-type]
        result = await client.call_tool(tool, arguments)
        return result.is_error, text_of(result)


@pytest.mark.parametrize("point", ["after_commit", "before_reply"])
async def test_a_write_retried_after_a_kill_between_commit_and_reply_is_stored_once(
    fresh_dsn: str, point: str
) -> None:
    """The real `support-mcp serve --http` ends itself (os._exit, as kill -9) after the tool's
    writes were committed: `after_commit` before its answer was recorded, `before_reply` after.
    The client retries with the same idempotency key against a restarted server."""
    from support_mcp.bootstrap import open_services

    async with open_services(Settings(database_url=fresh_dsn)) as s:
        ticket = await s.tickets.create_ticket(subject="502 nach Deployment")
    tokens = f"hetzner-ops-agent={AGENT_TOKEN},tier2-lead={LEAD_TOKEN}"
    for tool, arguments in _WRITES.items():
        call = {**arguments(str(ticket.id)), "idempotency_key": f"retry-{tool}-{point}"}
        dying = clean_env(SUPPORT_MCP_DATABASE_URL=fresh_dsn, SUPPORT_MCP_HTTP_TOKENS=tokens,
                          SUPPORT_MCP_FAILPOINT=f"{point}:{tool}")
        with serving(["serve", "--http"], dying) as port:
            with pytest.raises(Exception):  # noqa: B017 - the connection dies with the server, however the SDK says it
                await _call_http(f"http://127.0.0.1:{port}/mcp", tool, call)
        healthy = clean_env(SUPPORT_MCP_DATABASE_URL=fresh_dsn, SUPPORT_MCP_HTTP_TOKENS=tokens)
        with serving(["serve", "--http"], healthy) as port:
            failed, first = await _call_http(f"http://127.0.0.1:{port}/mcp", tool, call)
            assert not failed, first
            again = await _call_http(f"http://127.0.0.1:{port}/mcp", tool, call)
            assert again == (False, first)  # a third try: the recorded answer, word for word
            reused = await _call_http(f"http://127.0.0.1:{port}/mcp", tool, {**call, "ticket_id": str(uuid4())})
            assert reused[0] and "was used for another call" in reused[1]
    async with open_services(Settings(database_url=fresh_dsn)) as s:
        notes = await s.tickets.messages(ticket.id, limit=500)
        events = await s.tickets.events(ticket.id, limit=500)
        after = await s.tickets.get_ticket(ticket.id)
    assert len([m for m in notes if "analysis" in m.tags]) == 1
    assert len([m for m in notes if m.metadata.get("kind") == "command"]) == 1
    assert len([m for m in notes if "hypothesis" in m.tags]) == 1
    assert len([e for e in events if e.event_type == "restart_planned"]) == 1
    assert len([m for m in notes if "manual_followup" in m.tags]) == 1
    assert len([e for e in events if e.event_type == "manual_followup"]) == 1
    assert after.escalation_path.count("hetzner-ops-agent") <= 1, after.escalation_path


# -- structured results ------------------------------------------------------------------------

async def test_json_tools_publish_an_output_schema_and_answer_with_structured_content(served: Gate) -> None:
    ticket = await served.services.tickets.create_ticket(subject="Server langsam, Festplatte voll")
    await served.services.tickets.add_message(ticket.id, body="Die Seite ist sehr langsam, df zeigt 100%.",
                                             author_kind=AuthorKind.CUSTOMER, internal_only=False)
    async with session(served, AGENT_TOKEN) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        for name in ("triage_ticket", "start_run", "list_repairs", "validate_plan"):
            schema = tools[name].output_schema
            assert schema is not None and schema["type"] == "object", (name, schema)
        assert set(tools["triage_ticket"].output_schema["properties"]) == {"primary", "ranking", "scores", "reason"}
        assert tools["add_internal_note"].output_schema is None  # a sentence, not JSON

        triage = await client.call_tool("triage_ticket", {"ticket_id": str(ticket.id)})
        assert triage.structured_content == json.loads(text_of(triage))
        assert triage.structured_content["primary"] == "hetzner-ops-agent"
        run = await client.call_tool("start_run", {"ticket_id": str(ticket.id)})
        assert not run.is_error, text_of(run)
        assert run.structured_content == {"result": json.loads(text_of(run))}
        assert run.structured_content["result"]["agent"] == "hetzner-ops-agent"
        repairs = await client.call_tool("list_repairs", {})
        assert repairs.structured_content == {"result": json.loads(text_of(repairs))}
