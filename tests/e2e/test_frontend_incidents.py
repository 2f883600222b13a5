"""A whole frontend incident on the Next.js lab: a customer sees only a digest; the playbook run
names the component, a hotfix plan goes through MCP (draft, human approval by elicitation, apply,
validate) and the page renders again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import mcp_types as types
import pytest
from mcp.client import Client

from integration.frontend_diagnostics.frontend_lab import Scenario, scenario
from support_mcp.agents.frontend_diagnostics.parsers import find_digests
from support_mcp.bootstrap import Settings, open_services
from support_mcp.domain.models import AuthorKind, Verdict
from support_mcp.mcp.server import build_server
from support_mcp.policy.scopes import identity

AGENT = "frontend-diagnostics-agent"
TEMPLATE = Path(__file__).resolve().parents[2] / "labs" / "frontend" / "app"


@pytest.fixture(scope="module")
def digest_incident(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    with scenario(tmp_path_factory.mktemp("incident"), "runtime_digest", deployed=True) as sc:
        yield sc


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


def _hotfix(sc: Scenario) -> str:
    rel = "app/components/Greeting.tsx"
    old, new = (sc.source / rel).read_text().splitlines(), (TEMPLATE / rel).read_text().splitlines()
    import difflib

    return "\n".join(difflib.unified_diff(old, new, f"a/{rel}", f"b/{rel}", lineterm="")) + "\n"


async def test_digest_incident_is_diagnosed_fixed_and_verified(digest_incident: Scenario, fresh_dsn: str) -> None:
    sc = digest_incident
    # the digest the customer's browser shows (it changes with every build)
    [shown] = find_digests(httpx.get(sc.server.url + "/", timeout=10).text)  # type: ignore[union-attr]
    settings = Settings(database_url=fresh_dsn, targets=sc.targets())
    async with open_services(settings) as s:
        ticket = await s.tickets.create_ticket(subject="Weiße Seite nach Login", customer="acme")
        await s.tickets.add_message(ticket.id, author_kind=AuthorKind.CUSTOMER, internal_only=False,
                                    body=f"Die Startseite zeigt nur 'Application error', Digest: {shown}")
        report = await s.runner.run(ticket.id, AGENT)
        assert report.verdict == Verdict.CONFIRMED
        [digest] = [f for f in report.findings if f.check == "frontend.digest"]
        assert digest.data["digest"] == shown and digest.data["quoted_by_customer"] is True
        assert digest.data["source"].startswith("app/components/Greeting.tsx:")
        assert report.checklist["Fehlerursache identifiziert (Datei/Chunk)?"] is True
        assert report.checklist["Build/Lint erneut ausgeführt?"] is True
        assert report.checklist["Frontend Smoke-Test dokumentiert?"] is True
        notes = await s.tickets.messages(ticket.id, internal_only=True, limit=200)
        findings_note = next(m for m in notes if "findings" in m.tags)
        smoke = next(f for f in findings_note.metadata["findings"] if f["check"] == "frontend.smoke")
        assert smoke["data"]["attachments"][0]["sha256"]  # the screenshot is attached to the ticket

        async def approve(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
            return types.ElicitResult(action="accept", content={"approver": "Erika Muster", "approve": True})

        server = build_server(s, default_identity=identity(AGENT))
        async with Client(server, elicitation_callback=approve) as client:
            out = _text(await client.call_tool("draft_repair_plan", {
                "ticket_id": str(ticket.id), "repair": "frontend.hotfix_deploy", "params": {"patch": _hotfix(sc)}}))
            plan_id = re.search(r"plan ([0-9a-f-]{36})", out).group(1)  # type: ignore[union-attr]
            plan_hash = re.search(r"plan_hash: ([0-9a-f]{64})", out).group(1)  # type: ignore[union-attr]
            assert "rsync" in out and "Greeting.tsx" in out
            await client.call_tool("approve_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
            applied = await client.call_tool("apply_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
            assert not applied.is_error and "status applied" in _text(applied), _text(applied)
            sc.server.restart()  # type: ignore[union-attr]  # the host agent's gated PM2 restart
            validated = await client.call_tool("validate_plan", {"plan_id": plan_id})
            assert '"status": "validated"' in _text(validated), _text(validated)
