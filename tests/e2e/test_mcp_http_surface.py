"""Issue 15 through the SDK client over streamable HTTP: tokens, resources, a lost database,
sessions per identity, retried writes, structured results.

Server: `helpers.mcp_http.serve_http` (this process's `http_app` under uvicorn, loopback), or the
real `support-mcp serve --http` process where the test is about the process (start, kill -9).
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import mcp_types as types
import psycopg
import pytest
from mcp.shared.exceptions import MCPError

from helpers.mcp_http import LEAD_TOKEN, TIER1_TOKEN, Gate, serve_http, session
from helpers.processes import BIN, clean_env, free_port
from support_mcp.store.database import redact_dsn

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
async def served(fresh_dsn: str, tmp_path: Path) -> AsyncIterator[Gate]:
    async with serve_http(fresh_dsn, tmp_path) as gate:
        yield gate


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


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
                text = _text(result)
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
        assert not back.is_error, _text(back)  # the pool reconnects; nothing to restart
