"""Advisor parity: every lint the supabase-analyst-agent names after Supabase's advisor (splinter)
flags the same objects at the same level as splinter's own SQL, on small schemas built per case.

EXPECTED holds splinter's answers. They were established by running splinter's lints
(lints/0006_multiple_permissive_policies.sql, 0007_policy_exists_rls_disabled, 0008_rls_enabled_no_policy,
0011_function_search_path_mutable, 0013_rls_disabled_in_public, 0015_rls_references_user_metadata,
0024_rls_policy_always_true) of github.com/supabase/splinter at commit
55db5b1f28e58d816f7d9136eed87eabcd95868d on the same schemas (PostgreSQL 15, `BASE` plus the case),
with `set local search_path = ''` and `set local pgrst.db_schemas = 'public'` as the dashboard runs
them. splinter's SQL itself is not part of this repository; re-establish the answers the same way
when splinter changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from helpers.supabase_lab import LAB_DIR, context_for, drop_database, dsn_for, new_database_name, run_sql_file
from support_mcp.agents.supabase_analyst import lint_queries
from support_mcp.agents.supabase_analyst.checks import FunctionsCheck
from support_mcp.agents.supabase_analyst.parsers import SPLINTER_EXCLUDED_SCHEMAS
from support_mcp.agents.supabase_analyst.rls_checks import RlsPoliciesCheck
from support_mcp.domain.targets import SupabaseTarget

# (lint id, level, schema.table or schema.function, detail): detail is `role/ACTION` for 0006,
# the policy for 0015 and 0024, empty otherwise.
Row = tuple[str, str, str, str]

# The Supabase roles (labs/supabase/00_roles.sql) and auth.jwt()/auth.uid(); then each case.
BASE = ("00_roles.sql", "01_auth.sql")

# 0006 counts a policy TO PUBLIC for every role of the cluster that does not bypass RLS, so its
# answer depends on the cluster's roles: compared for these roles only.
ROLES_COMPARED = ("anon", "authenticated", "service_role")

CASES: dict[str, str] = {
    # Public read access, as the dashboard's template writes it: never an always-true finding.
    "public_read": """
        create table public.posts (id int primary key, body text);
        alter table public.posts enable row level security;
        grant select on public.posts to anon, authenticated;
        create policy "Enable read access for all users" on public.posts for select using (true);
        create table public.prices (id int primary key, amount int);
        alter table public.prices enable row level security;
        grant select on public.prices to anon;
        create policy prices_select_anon on public.prices for select to anon using (true);
        create table public.faq (id int primary key);
        alter table public.faq enable row level security;
        create policy faq_select_authenticated on public.faq for select to authenticated using ((1 = 1));
    """,
    # Writes let through for anon/authenticated/PUBLIC: USING, WITH CHECK, or the clause missing.
    "write_true": """
        create table public.notes (id int primary key, owner uuid);
        alter table public.notes enable row level security;
        create policy notes_update_all on public.notes for update to authenticated using (true);
        create policy notes_insert_all on public.notes for insert to anon with check (true);
        create policy notes_delete_all on public.notes for delete to authenticated using (1 = 1);
        create policy notes_select_own on public.notes for select to authenticated using (owner = auth.uid());
        create table public.drafts (id int primary key, owner uuid);
        alter table public.drafts enable row level security;
        create policy drafts_all on public.drafts for all using (true);
        create table public.comments (id int primary key, owner uuid);
        alter table public.comments enable row level security;
        create policy comments_update_checked on public.comments for update to authenticated
          using (true) with check (owner = auth.uid());
        create policy comments_insert_unchecked on public.comments for insert to authenticated;
        create policy comments_delete_unrestricted on public.comments for delete to anon;
        create table public.tags (id int primary key, owner uuid);
        alter table public.tags enable row level security;
        create policy tags_update_check_only on public.tags for update to authenticated with check (true);
        create policy tags_insert_own on public.tags for insert to authenticated with check (owner = auth.uid());
    """,
    # Always true, but not what 0024 flags: other roles, restrictive, RLS off, not literally true.
    "true_not_flagged": """
        create table public.audit (id int primary key);
        alter table public.audit enable row level security;
        create policy audit_service on public.audit for update to service_role using (true);
        create policy audit_restrictive on public.audit as restrictive for delete to anon using (true);
        create policy audit_true_and_true on public.audit for update to authenticated using (true and true);
        create table public.open_notes (id int primary key);
        grant select on public.open_notes to anon;
        create policy open_notes_all on public.open_notes for all to anon using (true);
        create schema storage;
        create table storage.objects (id int primary key);
        alter table storage.objects enable row level security;
        create policy objects_update_all on storage.objects for update to authenticated using (true);
    """,
    # user_metadata: from auth.jwt() or request.jwt.claims (0015), and reached otherwise (not 0015).
    "user_metadata": """
        create table public.subscriptions (id int primary key, user_id uuid);
        alter table public.subscriptions enable row level security;
        create policy subs_admin_jwt on public.subscriptions for select to authenticated
          using ((auth.jwt() -> 'user_metadata' ->> 'role') = 'admin');
        create policy subs_admin_claims on public.subscriptions for update to authenticated
          using (((current_setting('request.jwt.claims', true))::jsonb -> 'user_metadata' ->> 'role') = 'admin');
        create policy subs_insert_plan on public.subscriptions for insert to authenticated
          with check ((auth.jwt() -> 'user_metadata' ->> 'plan') = 'pro');
        create policy subs_delete_app_metadata on public.subscriptions for delete to authenticated
          using ((auth.jwt() -> 'app_metadata' ->> 'role') = 'admin');
        create policy subs_select_raw_meta on public.subscriptions for select to authenticated
          using (exists (select 1 from auth.users u where u.id = auth.uid()
                         and (u.raw_user_meta_data ->> 'role') = 'admin'));
        create table public.invoices (id int primary key);
        create policy invoices_admin on public.invoices for select to authenticated
          using ((auth.jwt() -> 'user_metadata' ->> 'role') = 'admin');
    """,
    # RLS on, no policy (0008), in any schema splinter lints.
    "rls_without_policy": """
        create table public.vault_items (id int primary key);
        alter table public.vault_items enable row level security;
        create schema private;
        create table private.ledger (id int primary key);
        alter table private.ledger enable row level security;
        create schema storage;
        create table storage.buckets (id int primary key);
        alter table storage.buckets enable row level security;
        create table public.with_policy (id int primary key);
        alter table public.with_policy enable row level security;
        create policy with_policy_select on public.with_policy for select to authenticated using (false);
    """,
    # Policies but RLS off (0007); with a read grant in an exposed schema also 0013.
    "policies_rls_off": """
        create table public.orders (id int primary key);
        create policy orders_select on public.orders for select to authenticated using (false);
        create table public.carts (id int primary key);
        grant select on public.carts to anon;
        create policy carts_select on public.carts for select to anon using (false);
        create policy carts_select_all on public.carts for select to anon using (id > 0);
        create schema private;
        create table private.payouts (id int primary key);
        grant usage on schema private to authenticated;
        grant select on private.payouts to authenticated;
        create policy payouts_select on private.payouts for select to authenticated using (false);
    """,
    # Exposed tables without RLS (0013): only those anon or authenticated may read.
    "exposed_without_rls": """
        create table public.api_keys (id int primary key, key_hash text);
        grant select on public.api_keys to authenticated;
        create table public.internal_jobs (id int primary key);
        create table public.inbox (id int primary key);
        grant insert on public.inbox to anon;
        create schema private;
        create table private.secrets (id int primary key);
        grant usage on schema private to anon;
        grant select on private.secrets to anon;
        create table public.events (id int, at date not null) partition by range (at);
        create table public.events_2026 partition of public.events for values from ('2026-01-01') to ('2027-01-01');
        grant select on public.events, public.events_2026 to anon;
    """,
    # Several permissive policies for one role and action (0006).
    "multiple_permissive": """
        create table public.docs (id int primary key, owner uuid, team uuid);
        alter table public.docs enable row level security;
        create policy docs_own on public.docs for select to authenticated using (owner = auth.uid());
        create policy docs_team on public.docs for select to authenticated using (team is not null);
        create policy docs_all_anon on public.docs for all to anon using (false);
        create policy docs_select_anon on public.docs for select to anon using (false);
        create policy docs_update_restrictive on public.docs as restrictive for update to authenticated
          using (owner = auth.uid());
        create policy docs_update_own on public.docs for update to authenticated using (owner = auth.uid());
        create policy docs_delete_service_a on public.docs for delete to service_role using (id > 0);
        create policy docs_delete_service_b on public.docs for delete to service_role using (id < 0);
        create table public.pages (id int primary key, published boolean);
        alter table public.pages enable row level security;
        create policy pages_published on public.pages for select using (published);
        create policy pages_recent on public.pages for select using (id > 100);
        create table public.plain (id int primary key);
        create policy plain_a on public.plain for insert to authenticated with check (id > 0);
        create policy plain_b on public.plain for insert to authenticated with check (id < 100);
    """,
    # Functions without a pinned search_path (0011), definer or invoker, in any linted schema.
    "search_path": """
        create function public.f_invoker() returns int language sql as 'select 1';
        create function public.f_definer() returns int language sql security definer as 'select 1';
        create function public.f_pinned() returns int language sql security definer set search_path = '' as 'select 1';
        create function public.f_pinned_public() returns int language sql set search_path = public as 'select 1';
        create function public.f_other_setting() returns int language sql set statement_timeout = '1s' as 'select 1';
        create function public.f_overload(int) returns int language sql as 'select $1';
        create function public.f_overload(text) returns text language sql as 'select $1';
        create function public.f_trigger() returns trigger language plpgsql as 'begin return new; end';
        create procedure public.p_proc() language sql as 'select 1';
        create aggregate public.my_sum(int) (sfunc = int4pl, stype = int);
        create extension citext schema public;
        create schema private;
        create function private.helper() returns int language sql security definer as 'select 1';
        create function auth.helper() returns int language sql as 'select 1';
    """,
}

# splinter's answers (see the module docstring for how they were established); 0006 for
# ROLES_COMPARED only.
EXPECTED: dict[str, list[Row]] = {
    "public_read": [],
    "write_true": [
        ("0024", "WARN", "public.comments", "comments_delete_unrestricted"),
        ("0024", "WARN", "public.comments", "comments_insert_unchecked"),
        ("0024", "WARN", "public.comments", "comments_update_checked"),
        ("0024", "WARN", "public.drafts", "drafts_all"),
        ("0024", "WARN", "public.notes", "notes_delete_all"),
        ("0024", "WARN", "public.notes", "notes_insert_all"),
        ("0024", "WARN", "public.notes", "notes_update_all"),
        ("0024", "WARN", "public.tags", "tags_update_check_only"),
    ],
    "true_not_flagged": [
        ("0007", "ERROR", "public.open_notes", ""),
        ("0013", "ERROR", "public.open_notes", ""),
    ],
    "user_metadata": [
        ("0006", "WARN", "public.subscriptions", "authenticated/SELECT"),
        ("0007", "ERROR", "public.invoices", ""),
        ("0015", "ERROR", "public.invoices", "invoices_admin"),
        ("0015", "ERROR", "public.subscriptions", "subs_admin_claims"),
        ("0015", "ERROR", "public.subscriptions", "subs_admin_jwt"),
        ("0015", "ERROR", "public.subscriptions", "subs_insert_plan"),
    ],
    "rls_without_policy": [
        ("0008", "INFO", "private.ledger", ""),
        ("0008", "INFO", "public.vault_items", ""),
    ],
    "policies_rls_off": [
        ("0006", "WARN", "public.carts", "anon/SELECT"),
        ("0007", "ERROR", "private.payouts", ""),
        ("0007", "ERROR", "public.carts", ""),
        ("0007", "ERROR", "public.orders", ""),
        ("0013", "ERROR", "public.carts", ""),
    ],
    "exposed_without_rls": [
        ("0013", "ERROR", "public.api_keys", ""),
        ("0013", "ERROR", "public.events_2026", ""),
    ],
    "multiple_permissive": [
        ("0006", "WARN", "public.docs", "anon/SELECT"),
        ("0006", "WARN", "public.docs", "authenticated/SELECT"),
        ("0006", "WARN", "public.pages", "anon/SELECT"),
        ("0006", "WARN", "public.pages", "authenticated/SELECT"),
        ("0006", "WARN", "public.plain", "authenticated/INSERT"),
        ("0007", "ERROR", "public.plain", ""),
    ],
    "search_path": [
        ("0011", "WARN", "private.helper", ""),
        ("0011", "WARN", "public.f_definer", ""),
        ("0011", "WARN", "public.f_invoker", ""),
        ("0011", "WARN", "public.f_other_setting", ""),
        ("0011", "WARN", "public.f_overload", ""),
        ("0011", "WARN", "public.f_overload", ""),
        ("0011", "WARN", "public.f_trigger", ""),
        ("0011", "WARN", "public.my_sum", ""),
        ("0011", "WARN", "public.p_proc", ""),
    ],
}


@pytest.fixture(scope="module")
def diagnosed() -> Iterator[dict[str, tuple[str, list[Row]]]]:
    """Each case in its own database (dropped after the module): its DSN and what the agent reports."""
    base = new_database_name("parity_base")
    _admin(f'create database "{base}"')
    made = [base]
    try:
        for part in BASE:
            run_sql_file(dsn_for(base), LAB_DIR / part)
        answers: dict[str, tuple[str, list[Row]]] = {}
        for case, sql in CASES.items():
            name = new_database_name("parity")
            _admin(f'create database "{name}" template "{base}"')
            made.append(name)
            with psycopg.connect(dsn_for(name), autocommit=True) as conn:
                conn.execute(sql)  # type: ignore[arg-type]
            answers[case] = (dsn_for(name), _ours(dsn_for(name)))
        yield answers
    finally:
        for name in made:
            drop_database(name)


def _admin(statement: str) -> None:
    with psycopg.connect(dsn_for("postgres"), autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


def _target(dsn: str) -> SupabaseTarget:
    return SupabaseTarget(database_url=dsn, exposed_schemas=("public",))


def _ours(dsn: str) -> list[Row]:
    """RlsPoliciesCheck's splinter-named findings plus lint_queries.MUTABLE_SEARCH_PATH (0011)."""
    ctx, _ = context_for(_target(dsn))
    findings = asyncio.run(RlsPoliciesCheck(_target(dsn)).run(ctx))
    assert not [f for f in findings if f.status == "error"], findings
    rows = [_row(f.data) for f in findings if f.data.get("lint_id")]
    with psycopg.connect(dsn) as conn:
        functions = conn.execute(lint_queries.MUTABLE_SEARCH_PATH,  # type: ignore[arg-type]
                                 {"excluded": list(SPLINTER_EXCLUDED_SCHEMAS)}).fetchall()
    rows += [("0011", "WARN", f"{fn[0]}.{fn[1]}", "") for fn in functions]
    return sorted(rows)


def _row(data: dict[str, Any]) -> Row:
    detail = {"0006": f"{data.get('role')}/{data.get('cmd')}", "0015": data.get("policy"),
              "0024": data.get("policy")}.get(data["lint_id"]) or ""
    return (data["lint_id"], data["level"], data["table"], detail)


def _only(rows: list[Row], lint_id: str) -> list[Row]:
    return [r for r in rows if r[0] == lint_id and (lint_id != "0006" or r[3].split("/")[0] in ROLES_COMPARED)]


def _parity(diagnosed: dict[str, tuple[str, list[Row]]], lint_id: str) -> None:
    ours = {case: _only(rows, lint_id) for case, (_, rows) in diagnosed.items()}
    assert ours == {case: _only(rows, lint_id) for case, rows in EXPECTED.items()}


def test_supabase_roles_are_as_the_cases_assume() -> None:
    # 0006 and 0024 depend on these attributes (labs/supabase/00_roles.sql creates them so).
    with psycopg.connect(dsn_for("postgres")) as conn:
        roles = dict(conn.execute("select rolname, rolbypassrls from pg_roles where rolname = any(%s)",
                                  (list(ROLES_COMPARED),)).fetchall())
    assert roles == {"anon": False, "authenticated": False, "service_role": True}


def test_0006_multiple_permissive_policies_as_splinter(diagnosed) -> None:  # type: ignore[no-untyped-def]
    """Two or more permissive policies for one role and action on a plain table (RLS on or off);
    FOR ALL counts for each action, TO PUBLIC for every role; roles bypassing RLS are left out."""
    _parity(diagnosed, "0006")


def test_0007_policy_exists_rls_disabled_as_splinter(diagnosed) -> None:  # type: ignore[no-untyped-def]
    """Policies on a plain table with RLS off, in any schema splinter lints."""
    _parity(diagnosed, "0007")


def test_0008_rls_enabled_no_policy_as_splinter(diagnosed) -> None:  # type: ignore[no-untyped-def]
    """RLS on and no policy at all, in any schema splinter lints (storage is not one)."""
    _parity(diagnosed, "0008")


def test_0011_function_search_path_mutable_as_splinter(diagnosed) -> None:  # type: ignore[no-untyped-def]
    """Every routine without `search_path` in its settings, SECURITY DEFINER or INVOKER, in any
    linted schema; extension members (citext) and auth are left out."""
    _parity(diagnosed, "0011")


def test_0013_rls_disabled_in_public_as_splinter(diagnosed) -> None:  # type: ignore[no-untyped-def]
    """A plain table with RLS off in an exposed schema that anon or authenticated may SELECT from:
    a partition counts, its partitioned parent does not; policies or not."""
    _parity(diagnosed, "0013")


def test_0015_rls_references_user_metadata_as_splinter(diagnosed) -> None:  # type: ignore[no-untyped-def]
    """user_metadata read from auth.jwt() or request.jwt.claims in USING or WITH CHECK, RLS on or
    off; raw_user_meta_data through auth.users is not splinter's (ours: rls_trusts_user_metadata)."""
    _parity(diagnosed, "0015")
    _, rows = diagnosed["user_metadata"]
    assert ("0015", "ERROR", "public.subscriptions", "subs_admin_jwt") in rows


def test_0024_rls_policy_always_true_as_splinter(diagnosed) -> None:  # type: ignore[no-untyped-def]
    """Always-true UPDATE/DELETE/ALL USING or WITH CHECK (or the clause missing) for anon,
    authenticated or PUBLIC with RLS on; public read access (FOR SELECT USING (true)) is not one."""
    _parity(diagnosed, "0024")
    _, public_read = diagnosed["public_read"]
    assert public_read == []
    _, write_true = diagnosed["write_true"]
    assert {r[3] for r in write_true if r[0] == "0024"} >= {"notes_update_all", "notes_insert_all",
                                                           "notes_delete_all", "drafts_all"}


def test_rls_check_adds_nothing_splinter_named_beyond_these_lints(diagnosed) -> None:  # type: ignore[no-untyped-def]
    ids = {r[0] for _, rows in diagnosed.values() for r in rows}
    assert ids <= {"0006", "0007", "0008", "0011", "0013", "0015", "0024"}


async def test_functions_check_reports_0011_as_splinter(diagnosed) -> None:  # type: ignore[no-untyped-def]
    dsn, _ = diagnosed["search_path"]
    ctx, _ = context_for(_target(dsn))
    findings = await FunctionsCheck(_target(dsn)).run(ctx)
    reported = sorted(("0011", str(f.data.get("level")), str(f.data["function"]).split("(")[0], "")
                      for f in findings if f.data.get("code") == "function_search_path_mutable")
    assert reported == _only(EXPECTED["search_path"], "0011")
