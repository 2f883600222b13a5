"""The hetzner-ops diagnostic tools through the MCP SDK client on the real lab host (issue 10,
item 7): scope `host:diagnose` (the agent and the Tier-2 lead, not Tier 1 or another agent),
typed parameters refused with a reason, output redacted and fenced, every command on the ticket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import mcp_types as types
import pytest
from mcp.client import Client

from helpers.hetzner_lab import HetznerLab, start_lab
from support_mcp.bootstrap import Settings, open_services
from support_mcp.domain.targets import Targets
from support_mcp.mcp.server import build_server
from support_mcp.policy.scopes import identity

TOOLS = {"host_journal", "host_caddy_log", "host_grep", "host_du", "host_port", "host_http_check", "host_resolve_path"}


@pytest.fixture(scope="module")
def lab() -> Iterator[HetznerLab]:
    lab = start_lab()
    yield lab
    lab.stop()


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def test_host_tools_diagnose_the_lab_and_refuse_smuggled_arguments(lab: HetznerLab, fresh_dsn: str) -> None:
    lab.heal()
    lab.write_env("APP_MODE=production\nSUPABASE_SERVICE_ROLE_KEY=eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJl\n")
    settings = Settings(database_url=fresh_dsn, targets=Targets(hosts=(lab.host_target(),)))
    try:
        async with open_services(settings) as s:
            ticket = await s.tickets.create_ticket(subject="Seite langsam", customer="acme")
            tid = str(ticket.id)
            for name in ("tier1", "supabase-analyst-agent"):
                async with Client(build_server(s, default_identity=identity(name))) as other:
                    assert not TOOLS & {t.name for t in (await other.list_tools()).tools}, name
            async with Client(build_server(s, default_identity=identity("hetzner-ops-agent"))) as client:
                assert TOOLS <= {t.name for t in (await client.list_tools()).tools}
                env = str(lab.frontend / ".env.production")
                grep = _text(await client.call_tool("host_grep", {"ticket_id": tid, "path": env, "pattern": "SUPABASE"}))
                assert "SUPABASE_SERVICE_ROLE_KEY=[REDACTED:" in grep and "c2lnbmF0dXJl" not in grep
                assert "untrusted-data" in grep
                health = json.loads(_text(await client.call_tool("host_http_check", {"ticket_id": tid})).split("\n<")[0])
                assert health["status"] == 200 and health["url"].endswith("/api/health")
                port = _text(await client.call_tool("host_port", {"ticket_id": tid}))
                assert f":{lab.app_port}" in port
                du = _text(await client.call_tool("host_du", {"ticket_id": tid}))
                assert str(lab.frontend) in du
                for tool, args, reason in (
                    ("host_journal", {"unit": "caddy", "since_minutes": "1_0"}, "since"),
                    ("host_journal", {"unit": "sshd"}, "not configured"),
                    ("host_grep", {"path": "/etc/passwd", "pattern": "root"}, "outside the deploy folder"),
                    ("host_grep", {"path": env, "pattern": "--include=*"}, "starts with '-'"),
                    ("host_http_check", {"path": "http://203.0.113.9/x"}, "health path"),
                    ("host_port", {"port": 70000}, "65535"),
                ):
                    refused = await client.call_tool(tool, {"ticket_id": tid, **args})
                    assert refused.is_error and reason in _text(refused), (tool, _text(refused))
            commands = await s.tickets.messages(ticket.id, tag="command", limit=100)
            bodies = "\n".join(m.body for m in commands)
            assert "grep -F -n -I" in bodies and "du -k -x" in bodies and "ss -H -tlnp" in bodies
            assert "c2lnbmF0dXJl" not in bodies
    finally:
        lab.heal()
