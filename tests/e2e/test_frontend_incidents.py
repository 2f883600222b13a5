"""A whole frontend incident on the Next.js lab: a customer sees only a digest; the playbook run
names the component and says who supplies the patch; one hotfix plan (patch, build, lint, test,
rsync, PM2 restart) goes through MCP (draft, human approval by elicitation, apply, validate) and
the page renders again."""

from __future__ import annotations

import re
import uuid
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
        # the runner drafts no hotfix itself; its next steps say who supplies the patch and how to plan it
        next_steps = next(m for m in notes if "next_steps" in m.tags)
        assert "Hotfix-Patch für app/components/Greeting.tsx bereitstellen" in next_steps.body
        assert "--repair frontend.hotfix_deploy --param patch=@datei.diff" in next_steps.body
        findings_note = next(m for m in notes if "findings" in m.tags)
        smoke = next(f for f in findings_note.metadata["findings"] if f["check"] == "frontend.smoke")
        assert smoke["data"]["attachments"][0]["sha256"]  # the screenshot is attached to the ticket

        async def approve(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
            return types.ElicitResult(action="accept", content={"approver": "Erika Muster", "approve": True})

        server = build_server(s, default_identity=identity(AGENT))
        lead = build_server(s, default_identity=identity("tier2-lead"))  # a person approves, not the agent
        async with Client(server) as client, Client(lead, elicitation_callback=approve) as lead_client:
            out = _text(await client.call_tool("draft_repair_plan", {
                "ticket_id": str(ticket.id), "repair": "frontend.hotfix_deploy", "params": {"patch": _hotfix(sc)}}))
            plan_id = re.search(r"plan ([0-9a-f-]{36})", out).group(1)  # type: ignore[union-attr]
            plan_hash = re.search(r"plan_hash: ([0-9a-f]{64})", out).group(1)  # type: ignore[union-attr]
            assert "rsync" in out and "Greeting.tsx" in out
            pm2 = sc.server
            assert pm2 is not None
            restart_argv = [f"PM2_HOME={pm2.home}", "pm2", "restart", pm2.name, "--update-env"]
            plan = await s.repairs.get(uuid.UUID(plan_id))
            assert plan.steps[-1]["display"] == " ".join(restart_argv) and plan.steps[-1]["target"] == "local"
            assert [st["kind"] for st in plan.steps] == ["file", "command", "command", "command", "command", "rsync",
                                                         "command"]
            approved = await lead_client.call_tool("approve_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
            assert not approved.is_error, _text(approved)
            restarts = pm2.restarts()
            applied = await client.call_tool("apply_plan", {"plan_id": plan_id, "plan_hash": plan_hash})
            assert not applied.is_error and "status applied" in _text(applied), _text(applied)
            assert pm2.restarts() == restarts + 1  # the plan's own last step: PM2 restarted the app
            validated = await client.call_tool("validate_plan", {"plan_id": plan_id})
            assert '"status": "validated"' in _text(validated), _text(validated)
        # every command of the one plan is on the ticket, in order, the PM2 restart last
        notes = await s.tickets.messages(ticket.id, internal_only=True, limit=500)
        commands = sorted((m for m in notes if m.metadata.get("kind") == "command"), key=lambda m: m.created_at)
        argvs = [m.metadata["argv"] for m in commands]
        ran = [a for a in argvs if a[0] in ("patch", "npm", "rsync") or a[0].startswith("PM2_HOME=")]
        assert restart_argv in argvs and ran[-1] == restart_argv
        assert [a[-1] for a in ran if a[0] == "npm"][-3:] == ["build", "lint", "test"]
        assert any(a[0] == "rsync" and "--itemize-changes" in a and "--dry-run" not in a for a in ran)
        [restart_note] = [m for m in commands if m.metadata["argv"] == restart_argv]
        assert restart_note.metadata["exit_code"] == 0 and "pm2 restart shop-frontend --update-env" in restart_note.body
        validation = next(m for m in notes if "repair_validation" in m.tags and m.metadata.get("plan_id") == plan_id)
        assert validation.metadata["ok"] is True


async def test_hotfix_restart_step_cannot_name_another_app(digest_incident: Scenario, fresh_dsn: str) -> None:
    sc = digest_incident
    async with open_services(Settings(database_url=fresh_dsn, targets=sc.targets())) as s:
        ticket = await s.tickets.create_ticket(subject="Hotfix", customer="acme")
        server = build_server(s, default_identity=identity(AGENT))
        async with Client(server) as client:
            for app in ("all", "0", "other-app", "shop-frontend --update-env", "-s"):
                out = await client.call_tool("draft_repair_plan", {
                    "ticket_id": str(ticket.id), "repair": "frontend.hotfix_deploy",
                    "params": {"patch": _hotfix(sc), "app": app}})
                assert out.is_error, (app, _text(out))
                assert "pm2" in _text(out) or "app" in _text(out), _text(out)
        assert await s.repairs.list_plans(ticket.id) == []
