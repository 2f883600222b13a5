"""The internal portal in a real browser: headless Debian Chromium (Playwright) against the real
`support-mcp portal` process — sign in, read a ticket with hostile customer HTML, approve a plan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from helpers.processes import clean_env, serving
from helpers.repairs import AGENT, DiskFull, SetConfigValue
from support_mcp.bootstrap import Settings, open_services
from support_mcp.domain.models import AuthorKind
from support_mcp.executors.browser import CHROMIUM_ARGS

LEAD = "lead-browser-token-2f6e9c1a7b3d5e8f0a4c"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package, installed by scripts/labs/frontend


@pytest.fixture
def portal(fresh_dsn: str) -> Iterator[str]:
    env = clean_env(SUPPORT_MCP_DATABASE_URL=fresh_dsn, SUPPORT_MCP_HTTP_TOKENS=f"tier2-lead={LEAD}")
    with serving(["portal"], env) as port:
        yield f"http://127.0.0.1:{port}"


async def test_lead_signs_in_reads_a_ticket_and_approves_a_plan_in_chromium(
        portal: str, fresh_dsn: str, tmp_path: Path) -> None:
    config = tmp_path / ".env"
    config.write_text("PORT=3001\n")
    async with open_services(Settings(database_url=fresh_dsn), checks=lambda a: [DiskFull()],
                             repairs=lambda a: [SetConfigValue(config)] if a == AGENT else []) as s:
        ticket = await s.tickets.create_ticket(subject="Server langsam, Festplatte voll")
        await s.tickets.add_message(ticket.id, body='<img src=x onerror="alert(1)"><script>alert(2)</script>',
                                    author_kind=AuthorKind.CUSTOMER, internal_only=False)
        await s.runner.run(ticket.id, AGENT)
        [plan] = await s.repairs.list_plans(ticket.id)

        dialogs: list[str] = []
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS))
            try:
                page = await browser.new_page()
                page.on("dialog", lambda d: dialogs.append(d.message))
                await page.goto(f"{portal}/intern", timeout=20_000)
                assert page.url.endswith("/intern/login")
                await page.fill("input[name=token]", LEAD)
                await page.click("button[type=submit]")
                await page.wait_for_url(f"{portal}/intern", timeout=20_000)
                assert "Server langsam" in await page.content()

                await page.goto(f"{portal}/intern/tickets/{ticket.id}")
                body = await page.inner_text("body")
                assert "<script>alert(2)</script>" in body  # shown as text, not run
                assert "Hypothese (hetzner-ops-agent)" in body

                await page.goto(f"{portal}/intern/plans/{plan.id}")
                await page.fill("input[name=approver]", "Erika Muster")
                await page.click("text=Genau diesen Plan freigeben")
                await page.wait_for_url(f"{portal}/intern/plans/{plan.id}", timeout=20_000)
                assert "approved" in await page.inner_text("body")
                shot = tmp_path / "portal.png"
                await page.screenshot(path=str(shot), full_page=True)
                assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            finally:
                await browser.close()
        assert dialogs == []  # no injected script ran
        [approval] = await s.repairs._plans.approvals(plan.id)
        assert (approval.approver, approval.approver_identity) == ("Erika Muster", "tier2-lead")


