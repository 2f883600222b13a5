"""The reproduction runs as the user the ticket is about: its customer, else an id or e-mail in
a customer message; the oldest confirmed user only when the ticket names none, and it says so."""

from __future__ import annotations

import dataclasses

import pytest

from helpers.supabase_lab import context_for
from support_mcp.agents.supabase_analyst.rls_checks import ReproduceCheck


@pytest.mark.parametrize(("customer", "text", "user", "source"), [
    ("ben@example.com", "", "ben@example.com", "der Kunde des Tickets"),
    ("acme", "Mein Konto 33333333-3333-4333-8333-333333333333 sieht das Dashboard leer.", "carla@example.com",
     "in der Kundennachricht genannt"),
    ("acme", "Bitte prüfen: Dana (DANA@example.com) kann nichts sehen.", "dana@example.com",
     "in der Kundennachricht genannt"),
    ("acme", "Unbekannt: nobody@example.org", "anna@example.com", "kein Nutzer im Ticket genannt"),
    ("", "Dashboard leer", "anna@example.com", "kein Nutzer im Ticket genannt"),
])
async def test_reproduction_runs_as_the_affected_user(lab, customer: str, text: str, user: str,  # type: ignore[no-untyped-def]
                                                      source: str) -> None:
    target = lab("rls_no_policy")
    ctx, recorder = context_for(target)
    ctx = dataclasses.replace(ctx, ticket_customer=customer, ticket_text=text)
    findings = await ReproduceCheck(target).run(ctx)
    assert findings and all(f"JWT-Claims von {user} " in f.detail for f in findings), \
        [(f.status, f.title, f.detail) for f in findings]
    assert all(source in f.detail for f in findings)
    empty = [f for f in findings if f.data.get("code") == "table_read_empty"]
    # the dropped SELECT policy shows for whoever owns rows: the finding names that user for the repair
    assert all(f.data["user"] for f in empty)
