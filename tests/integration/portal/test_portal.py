"""The internal portal over a real database, driven through its ASGI app with httpx."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from helpers.repairs import AGENT, DiskFull, SetConfigValue
from support_mcp.bootstrap import Services, Settings, open_services
from support_mcp.domain.models import AuthorKind
from support_mcp.portal.app import portal_app

LEAD, TIER1 = "lead-token-5e1f0a2b3c4d7e8f9a0b1c2d", "tier1-token-9a8b7c6d5e4f3a2b1c0d9e8f"


@pytest.fixture
async def services(fresh_dsn: str, tmp_path: Path) -> AsyncIterator[Services]:
    config = tmp_path / ".env"
    config.write_text("PORT=3001\n")
    settings = Settings(database_url=fresh_dsn, http_tokens={LEAD: "tier2-lead", TIER1: "tier1"})
    async with open_services(settings, checks=lambda a: [DiskFull()],
                             repairs=lambda a: [SetConfigValue(config)] if a == AGENT else []) as s:
        yield s


@asynccontextmanager
async def _client(services: Services, token: str | None) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=portal_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://intern.test") as client:
        if token:
            response = await client.post("/intern/login", data={"token": token})
            assert response.status_code == 303
        yield client


def _csrf(page: str) -> str:
    return re.search(r'name="csrf" content="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]


async def test_pages_need_sign_in_and_a_known_token(services: Services) -> None:
    async with _client(services, None) as client:
        assert (await client.get("/intern")).status_code == 303
        assert (await client.post("/intern/login", data={"token": "guess"})).status_code == 401
        client.cookies.set("support_mcp_session", "tier2-lead|9999999999|forged")
        assert (await client.get("/intern")).status_code == 303


async def test_ticket_timeline_escapes_customer_html(services: Services) -> None:
    t = await services.tickets.create_ticket(subject="<b>Hilfe</b>")
    await services.tickets.add_message(t.id, body="<script>alert(1)</script>", author_kind=AuthorKind.CUSTOMER,
                                       internal_only=False)
    async with _client(services, TIER1) as client:
        page = (await client.get(f"/intern/tickets/{t.id}")).text
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
        assert (await client.get("/intern/tickets/not-a-uuid")).status_code == 400


async def test_lead_accepts_a_suggestion_tier1_cannot(services: Services) -> None:
    s = await services.suggestions.register(title="PM2 --update-env erklären", body="In 3.2 ergänzen, warum.")
    async with _client(services, TIER1) as tier1:
        page = (await tier1.get("/intern/suggestions")).text
        assert "Annehmen" not in page
        refused = await tier1.post(f"/intern/suggestions/{s.id}/accept", data={"csrf": _csrf(page), "reviewer": "Lena"})
        assert refused.status_code == 400 and "lacks scope" in refused.text
    async with _client(services, LEAD) as lead:
        page = (await lead.get("/intern/suggestions")).text
        no_csrf = await lead.post(f"/intern/suggestions/{s.id}/accept", data={"reviewer": "Max"})
        assert no_csrf.status_code == 400
        ok = await lead.post(f"/intern/suggestions/{s.id}/accept", data={"csrf": _csrf(page), "reviewer": "Max"})
        assert ok.status_code == 303
    accepted = await services.suggestions.get(s.id)
    assert accepted.status == "accepted" and accepted.reviewer == "Max (tier2-lead)"


async def test_plan_approval_from_the_portal(services: Services) -> None:
    ticket = await services.tickets.create_ticket(subject="Server langsam, Festplatte voll")
    report = await services.runner.run(ticket.id, AGENT)
    plan = (await services.repairs.list_plans(ticket.id))[0]
    async with _client(services, LEAD) as lead:
        overview = (await lead.get("/intern")).text
        assert str(plan.id)[:8] in overview
        page = (await lead.get(f"/intern/plans/{plan.id}")).text
        assert "Genau diesen Plan freigeben" in page and plan.plan_hash in page
        wrong = await lead.post(f"/intern/plans/{plan.id}/approve",
                                data={"csrf": _csrf(page), "plan_hash": "0" * 64, "approver": "Max", "ttl": "10"})
        assert wrong.status_code == 400
        ok = await lead.post(f"/intern/plans/{plan.id}/approve",
                             data={"csrf": _csrf(page), "plan_hash": plan.plan_hash, "approver": "Max", "ttl": "10"})
        assert ok.status_code == 303
    approvals = await services.repairs._plans.approvals(plan.id)
    assert [(a.approver, a.approver_identity) for a in approvals] == [("Max", "tier2-lead")]
    assert report.run_id == plan.run_id
