"""Whole Supabase incidents on the lab: a ticket, the supabase-analyst-agent's run (hypothesis,
checks, verdict, drafted + dry-run repair plans, notes), then a human's approval, apply and
validate through the plan service; and the same from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from helpers.supabase_lab import clone_lab, create_lab_template, drop_database, lab_target
from support_mcp.bootstrap import Services, Settings, open_services
from support_mcp.domain.models import AuthorKind, Verdict
from support_mcp.domain.targets import SupabaseTarget, Targets

AGENT = "supabase-analyst-agent"
CHECKLIST = ("Auth/Profiles konsistent?", "Policies + Funktionen geprüft?",
             "SQL-Script vorbereitet, getestet, ausgeführt?", "Erfolg + Datenvalidierung dokumentiert?")

# scenario -> (customer message, finding code that names the cause, repair that fixes it)
INCIDENTS: dict[str, tuple[str, str, str]] = {
    "trigger_disabled": ("Neue Nutzer haben nach der Registrierung kein Profil.", "signup_trigger_disabled",
                         "restore_signup_trigger"),
    "trigger_dropped": ("Seit dem Update: neues Konto, aber kein Profil und kein Abo.", "signup_trigger_missing",
                        "restore_signup_trigger"),
    "subscription_fails": ("Sign-up geht nicht: Database error saving new user", "signup_fails",
                           "restore_function"),
    "rls_no_policy": ("Dashboard zeigt keine Daten mehr, leere Tabelle, no rows.", "rls_no_policy_for_role",
                      "restore_dropped_policy"),
    "recursive_policy": ("Teamseite: infinite recursion detected in policy (42P17)", "rls_policy_recursion",
                         "restore_policy"),
    "metadata_policy": ("Security Advisor: Policy nutzt user_metadata, Nutzer sehen fremde Daten.",
                        "rls_references_user_metadata", "policy_use_app_metadata"),
    "definer_search_path": ("Security Advisor meldet search_path bei einer security definer Funktion.",
                            "function_search_path_mutable", "pin_search_path"),
    "table_without_rls": ("Tabelle api_keys ohne RLS, Datenleck über den anon key?", "rls_disabled_in_public",
                          "enable_rls"),
    "always_true_policy": ("Alle Profile sichtbar über den anon key, Datenleck!", "rls_policy_always_true",
                           "drop_always_true_policy"),
    "orphaned_profiles": ("Gelöschte Nutzer haben noch ein Profil.", "orphaned_profiles",
                          "delete_orphaned_profiles"),
    "banned_sessions": ("Gesperrter Nutzer hat weiterhin eine aktive Session.", "banned_user_sessions",
                        "revoke_banned_sessions"),
    "rpc_authenticated_only": ("supabase.rpc('get_dashboard_stats') liefert permission denied (42501).",
                               "rpc_fails_for_role", "grant_table_privilege"),
}


@pytest.fixture(scope="module")
def lab_template() -> Iterator[str]:
    name = create_lab_template()
    yield name
    drop_database(name)


@pytest.fixture
def make_target(lab_template: str, tmp_path: Path) -> Iterator[object]:
    made: list[str] = []

    def make(scenario: str) -> SupabaseTarget:
        name, dsn = clone_lab(lab_template, scenario)
        made.append(name)
        return lab_target(dsn, tmp_path / "supabase" / "migrations", tmp_path / "tmp" / "sql")

    yield make
    for name in made:
        drop_database(name)


@pytest.fixture
async def incident(fresh_dsn: str, make_target: object) -> AsyncIterator[object]:
    """`async with incident(scenario) as (services, target)`"""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def open_incident(scenario: str) -> AsyncIterator[tuple[Services, SupabaseTarget]]:
        target = make_target(scenario)  # type: ignore[operator]
        settings = Settings(database_url=fresh_dsn, targets=Targets(supabase=target))
        async with open_services(settings) as services:
            yield services, target

    yield open_incident


@pytest.mark.parametrize("scenario", sorted(INCIDENTS))
async def test_incident_is_diagnosed_repaired_and_validated(incident, scenario: str) -> None:  # type: ignore[no-untyped-def]
    message, code, repair_name = INCIDENTS[scenario]
    async with incident(scenario) as (s, target):
        ticket = await s.tickets.create_ticket(subject=message[:60], customer="acme")
        await s.tickets.add_message(ticket.id, body=message, author_kind=AuthorKind.CUSTOMER, internal_only=False)
        report = await s.runner.run(ticket.id, AGENT)

        assert report.verdict == Verdict.CONFIRMED, [(f.check, f.status, f.title) for f in report.findings]
        named = [f for f in report.findings if f.data.get("code") == code]
        assert named and named[0].status in ("warn", "fail")
        assert report.checklist["Auth/Profiles konsistent?"] and report.checklist["Policies + Funktionen geprüft?"]
        notes = await s.tickets.messages(ticket.id, internal_only=True, limit=500)
        tags = [t for m in notes for t in m.tags]
        assert {"hypothesis", "command", "findings", "repair_plan", "repair_dry_run"} <= set(tags)
        first_hyp = next(i for i, m in enumerate(notes) if "hypothesis" in m.tags)
        first_cmd = next(i for i, m in enumerate(notes) if "command" in m.tags)
        assert first_hyp < first_cmd

        plans = {p.repair: p for p in await s.repairs.list_plans(ticket.id)}
        plan = plans[repair_name]
        assert plan.status == "dry_run" and plan.dry_run_ok and plan.plan_hash
        await s.repairs.approve(plan.id, plan.plan_hash, "Erika Muster", by="tier2-lead", ttl_minutes=15)
        applied = await s.repairs.apply(plan.id, plan.plan_hash)
        assert applied.status == "applied", applied.apply_output
        validated, findings = await s.repairs.validate(plan.id)
        assert validated.status == "validated", [(f.title, f.evidence) for f in findings]

        run = await s.runs.get_run(report.run_id)
        assert all(run.checklist[line] for line in CHECKLIST), run.checklist
        events = {e.event_type for e in await s.tickets.events(ticket.id, limit=200)}
        assert {"run_started", "checks_completed", "repair_dry_run", "repair_applied", "repair_validated"} <= events
        with psycopg.connect(target.database_url) as conn:
            recorded = conn.execute("select name from supabase_migrations.schema_migrations").fetchall()
        assert recorded == [(repair_name,)]


async def test_apply_is_refused_when_the_schema_changed_since_the_dry_run(incident) -> None:  # type: ignore[no-untyped-def]
    from support_mcp.domain.errors import Conflict

    async with incident("trigger_disabled") as (s, target):
        ticket = await s.tickets.create_ticket(subject="Kein Profil", customer="acme")
        await s.tickets.add_message(ticket.id, body="Neue Nutzer ohne Profil nach Registrierung",
                                    author_kind=AuthorKind.CUSTOMER, internal_only=False)
        await s.runner.run(ticket.id, AGENT)
        plan = next(p for p in await s.repairs.list_plans(ticket.id) if p.repair == "restore_signup_trigger")
        await s.repairs.approve(plan.id, plan.plan_hash, "Erika Muster", by="tier2-lead")
        with psycopg.connect(target.database_url, autocommit=True) as conn:
            conn.execute("alter table auth.users enable trigger on_auth_user_created")
        with pytest.raises(Conflict, match="changed since the dry-run"):
            await s.repairs.apply(plan.id, plan.plan_hash)


def test_cli_run_names_the_cause(fresh_dsn: str, make_target) -> None:  # type: ignore[no-untyped-def]
    target = make_target("subscription_fails")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPPORT_MCP_")}
    env.update(SUPPORT_MCP_DATABASE_URL=fresh_dsn, SUPPORT_MCP_SUPABASE_DB_URL=target.database_url,
               SUPPORT_MCP_SUPABASE_MIGRATIONS_DIR=str(target.migrations_dir),
               SUPPORT_MCP_SUPABASE_DRAFTS_DIR=str(target.drafts_dir))
    cli = [str(Path(sys.executable).parent / "support-mcp")]
    created = subprocess.run([*cli, "tickets", "create", "--subject", "Registrierung kaputt", "--message",
                              "Database error saving new user beim Sign-up", "--json"],
                             env=env, capture_output=True, text=True, timeout=120, check=False)
    assert created.returncode == 0, created.stderr
    ticket_id = json.loads(created.stdout)["id"]
    run = subprocess.run([*cli, "run", "--ticket", ticket_id, "--agent", "supabase-analyst", "--json"],
                         env=env, capture_output=True, text=True, timeout=180, check=False)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["verdict"] == "confirmed"
    assert any(f["data"].get("code") == "signup_fails" for f in report["findings"])
    assert list((target.drafts_dir).glob(f"{ticket_id}_restore_function.sql"))  # type: ignore[union-attr]


async def test_step_by_step_through_mcp_tools(incident) -> None:  # type: ignore[no-untyped-def]
    from mcp.client import Client
    from mcp.types import TextContent

    from support_mcp.mcp.server import build_server
    from support_mcp.policy.scopes import identity

    def text_of(result: object) -> str:
        return "\n".join(c.text for c in result.content if isinstance(c, TextContent))  # type: ignore[attr-defined]

    async with incident("rpc_authenticated_only") as (s, target):
        ticket = await s.tickets.create_ticket(subject="Dashboard leer", customer="acme")
        tid = str(ticket.id)
        async with Client(build_server(s, default_identity=identity("supabase-analyst-agent"))) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert {"supabase_query", "supabase_diagnose", "supabase_reproduce"} <= tools
            rows = text_of(await client.call_tool("supabase_query", {
                "ticket_id": tid, "sql": "select email from auth.users order by email", "max_rows": 2}))
            assert '"truncated": true' in rows and "anna@example.com" in rows and "untrusted-data" in rows
            refused = await client.call_tool("supabase_query", {
                "ticket_id": tid, "sql": "with d as (delete from public.profiles returning *) select * from d"})
            assert refused.is_error and "DELETE inside a WITH clause" in text_of(refused)
            as_user = text_of(await client.call_tool("supabase_query", {
                "ticket_id": tid, "sql": "select count(*) from public.profiles", "user": "ben@example.com"}))
            assert "1\n" in as_user  # RLS: Ben sees his own profile only
            repro = text_of(await client.call_tool("supabase_reproduce", {
                "ticket_id": tid, "rpc": "get_dashboard_stats", "user": "anna@example.com"}))
            assert "rpc_fails_for_role" in repro and "42501" in repro
            injected = await client.call_tool("supabase_reproduce", {
                "ticket_id": tid, "rpc": "get_dashboard_stats); drop table public.profiles; --"})
            assert injected.is_error and "plain SQL name" in text_of(injected)
            diag = text_of(await client.call_tool("supabase_diagnose", {"ticket_id": tid, "checks": ["functions"]}))
            assert '"status": "ok"' in diag
        async with Client(build_server(s, default_identity=identity("hetzner-ops-agent"))) as other:
            assert "supabase_query" not in {t.name for t in (await other.list_tools()).tools}
        commands = await s.tickets.messages(ticket.id, tag="command", limit=200)
        assert any("select email from auth.users" in m.body for m in commands)


async def test_plan_whose_dry_run_reproduction_fails_cannot_be_approved(incident) -> None:  # type: ignore[no-untyped-def]
    from support_mcp.domain.errors import Conflict

    async with incident("definer_search_path") as (s, target):
        # The function body relies on the search_path: pinning it to '' would break every sign-up.
        with psycopg.connect(target.database_url, autocommit=True) as conn:
            conn.execute("""
                CREATE OR REPLACE FUNCTION public.handle_new_user()
                RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
                BEGIN
                  INSERT INTO profiles (id, email, full_name) VALUES (new.id, new.email, new.raw_user_meta_data ->> 'full_name');
                  PERFORM create_free_subscription(new.id);
                  RETURN new;
                END
                $$""")
        ticket = await s.tickets.create_ticket(subject="Security Advisor: search_path", customer="acme")
        plan = await s.repairs.draft(ticket.id, AGENT, "pin_search_path", {"function": "public.handle_new_user()"})
        plan = await s.repairs.dry_run(plan.id)
        assert not plan.dry_run_ok and plan.plan_hash
        assert "Reproduktion im Trockentest: fehlgeschlagen" in (plan.dry_run_output or "")
        with pytest.raises(Conflict, match="dry-run of plan .* failed"):
            await s.repairs.approve(plan.id, plan.plan_hash, "Erika Muster", by="tier2-lead")
        with psycopg.connect(target.database_url) as conn:  # nothing of the dry-run stayed
            config = conn.execute("select proconfig from pg_proc where proname = 'handle_new_user'").fetchone()
        assert config == (None,)


async def test_services_share_one_bounded_sql_pool_and_close_it(incident) -> None:  # type: ignore[no-untyped-def]
    from helpers.supabase_lab import backend_count

    async with incident("rls_no_policy") as (s, target):
        ticket = await s.tickets.create_ticket(subject="Dashboard leer", customer="acme")
        await s.tickets.add_message(ticket.id, body="Dashboard zeigt keine Daten mehr", author_kind=AuthorKind.CUSTOMER,
                                    internal_only=False)
        await s.runner.run(ticket.id, AGENT)  # eight checks concurrently, plans drafted and dry-run
        # one pool for every check and repair of the run, bounded, kept for the next run
        assert 1 <= backend_count(target.database_url) <= 4
        await s.runner.run(ticket.id, AGENT)
        assert 1 <= backend_count(target.database_url) <= 4
    # the bootstrap closed it on shutdown; a backend leaves pg_stat_activity a moment after its
    # client hung up, so the count is read until it is 0 (bounded: a pool left open stays at >= 1)
    deadline = time.monotonic() + 10
    while backend_count(target.database_url) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert backend_count(target.database_url) == 0
