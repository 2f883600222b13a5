"""The internal portal `/intern`: tickets and their timelines, knowledge suggestions to review
(playbook 7), repair plans to approve. Sign-in with one of the configured access tokens; the
session cookie is signed, HttpOnly and SameSite=Strict, and every form carries a CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from support_mcp.bootstrap import Services
from support_mcp.bootstrap.settings import check_http_tokens
from support_mcp.domain.errors import InvalidInput, NotFound, SupportMCPError
from support_mcp.domain.models import parse_uuid
from support_mcp.policy import scopes
from support_mcp.policy.scopes import Identity, identity
from support_mcp.portal import html
from support_mcp.services.context import timeline

COOKIE = "support_mcp_session"
SESSION_SECONDS = 8 * 3600


class Sessions:
    """Signed session values `identity|expiry|mac`; the key lives only in this process."""

    def __init__(self, tokens: dict[str, str], key: bytes | None = None) -> None:
        self._tokens = tokens
        self._key = key or secrets.token_bytes(32)

    def _mac(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()

    def login(self, token: str) -> str | None:
        found = None
        for known, name in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = name
        if found is None:
            return None
        value = f"{found}|{int(time.time()) + SESSION_SECONDS}"
        return f"{value}|{self._mac(value)}"

    def identity(self, cookie: str | None) -> Identity | None:
        if not cookie or cookie.count("|") != 2:
            return None
        name, expiry, mac = cookie.split("|")
        if not hmac.compare_digest(mac, self._mac(f"{name}|{expiry}")) or not expiry.isdigit():
            return None
        if int(expiry) < time.time():
            return None
        return identity(name)

    def csrf(self, cookie: str) -> str:
        return self._mac(f"csrf|{cookie}")


def portal_app(services: Services) -> Starlette:
    """The Starlette app of the portal over opened services."""
    check_http_tokens(services.settings.http_tokens)
    sessions = Sessions(dict(services.settings.http_tokens))

    def current(request: Request) -> tuple[Identity, str] | None:
        cookie = request.cookies.get(COOKIE)
        who = sessions.identity(cookie)
        return (who, sessions.csrf(cookie or "")) if who else None

    async def checked_form(request: Request, who: tuple[Identity, str], scope: str) -> dict[str, Any]:
        form = dict(await request.form())
        if not hmac.compare_digest(str(form.get("csrf", "")), who[1]):
            raise InvalidInput("CSRF token missing or wrong; reload the page")
        who[0].require(scope)
        return form

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            who = current(request)
            if who is None:
                return RedirectResponse("/intern/login", status_code=303)
            try:
                return await handler(request, who)
            except NotFound as exc:
                return HTMLResponse(html.page("Nicht gefunden", f"<p>{html.escape(str(exc))}</p>"), 404)
            except SupportMCPError as exc:
                return HTMLResponse(html.page("Abgelehnt", f"<p>{html.escape(str(exc))}</p>"), 400)
        return endpoint

    async def login(request: Request) -> Response:
        if request.method == "GET":
            return HTMLResponse(html.login_form())
        form = await request.form()
        cookie = sessions.login(str(form.get("token", "")))
        if cookie is None:
            return HTMLResponse(html.login_form("Token unbekannt."), status_code=401)
        response = RedirectResponse("/intern", status_code=303)
        response.set_cookie(COOKIE, cookie, max_age=SESSION_SECONDS, httponly=True, samesite="strict",
                            path="/intern")
        return response

    async def overview(request: Request, who: tuple[Identity, str]) -> Response:
        tickets = await services.tickets.list_tickets(limit=50)
        proposed = await services.suggestions.list_suggestions("proposed")
        waiting = [p for p in await services.repairs.list_plans() if p.status == "dry_run" and p.dry_run_ok]
        body = (f"<h2>Tickets</h2>{html.tickets_table(tickets)}"
                f"<h2>Offene Wissens-Vorschläge ({len(proposed)})</h2>"
                f"{html.suggestions_table(proposed, who[1], can_review=who[0].allows(scopes.KB_REVIEW))}"
                f"<h2>Pläne, die auf Freigabe warten ({len(waiting)})</h2>{html.plans_table(waiting)}")
        return HTMLResponse(html.page("Support MCP intern", body, identity=who[0].name, csrf=who[1]))

    async def ticket(request: Request, who: tuple[Identity, str]) -> Response:
        who[0].require(scopes.TICKETS_READ)
        ticket_id = parse_uuid(request.path_params["ticket_id"])
        t = await services.tickets.get_ticket(ticket_id)
        body = (f"<p>{html.escape(t.status)} · {html.escape(t.priority)} · assigned_agent "
                f"{html.escape(t.assigned_agent or '—')} · escalation_path "
                f"{html.escape(' → '.join(t.escalation_path) or '—')}</p>"
                + html.timeline(await timeline(services.tickets, ticket_id)))
        return HTMLResponse(html.page(t.subject, body, identity=who[0].name, csrf=who[1]))

    async def suggestions(request: Request, who: tuple[Identity, str]) -> Response:
        items = await services.suggestions.list_suggestions(limit=200)
        body = html.suggestions_table(items, who[1], can_review=who[0].allows(scopes.KB_REVIEW))
        return HTMLResponse(html.page("Wissens-Vorschläge", body, identity=who[0].name, csrf=who[1]))

    async def review(request: Request, who: tuple[Identity, str]) -> Response:
        if request.path_params["verb"] not in ("accept", "reject"):
            raise NotFound("unknown review action")
        form = await checked_form(request, who, scopes.KB_REVIEW)
        reviewer = str(form.get("reviewer", "")).strip()
        if not reviewer:
            raise InvalidInput("Bitte Ihren Namen angeben")
        suggestion_id = parse_uuid(request.path_params["suggestion_id"], "suggestion id")
        if request.path_params["verb"] not in ("accept", "reject"):
            raise NotFound("unknown review action")
        if request.path_params["verb"] == "accept":
            await services.suggestions.accept(suggestion_id, reviewer=f"{reviewer} ({who[0].name})")
        else:
            await services.suggestions.reject(suggestion_id, reviewer=f"{reviewer} ({who[0].name})")
        return RedirectResponse("/intern/suggestions", status_code=303)

    async def plans(request: Request, who: tuple[Identity, str]) -> Response:
        body = html.plans_table(await services.repairs.list_plans())
        return HTMLResponse(html.page("Reparaturpläne", body, identity=who[0].name, csrf=who[1]))

    async def plan(request: Request, who: tuple[Identity, str]) -> Response:
        p = await services.repairs.get(parse_uuid(request.path_params["plan_id"], "plan id"))
        body = html.plan_detail(p, who[1], can_approve=who[0].allows(scopes.APPROVER))
        return HTMLResponse(html.page(p.title, body, identity=who[0].name, csrf=who[1]))

    async def approve(request: Request, who: tuple[Identity, str]) -> Response:
        form = await checked_form(request, who, scopes.APPROVER)
        plan_id = parse_uuid(request.path_params["plan_id"], "plan id")
        try:
            ttl = int(str(form.get("ttl", "30")))
        except ValueError:
            raise InvalidInput("Gültigkeit in Minuten angeben") from None
        approver = str(form.get("approver", "")).strip()
        await services.repairs.approve(plan_id, str(form.get("plan_hash", "")), approver,
                                       by=who[0].name, ttl_minutes=ttl)
        return RedirectResponse(f"/intern/plans/{plan_id}", status_code=303)

    return Starlette(routes=[
        Route("/intern/login", login, methods=["GET", "POST"]),
        Route("/intern", guarded(overview)),
        Route("/intern/tickets/{ticket_id}", guarded(ticket)),
        Route("/intern/suggestions", guarded(suggestions)),
        Route("/intern/suggestions/{suggestion_id}/{verb:str}", guarded(review), methods=["POST"]),
        Route("/intern/plans", guarded(plans)),
        Route("/intern/plans/{plan_id}", guarded(plan)),
        Route("/intern/plans/{plan_id}/approve", guarded(approve), methods=["POST"]),
    ])
