"""The second Supabase lab, labs/supabase_cli/: the auth schema as the Supabase auth server
leaves it and a customer's dashboard-made app schema (profiles without email, plans in
public.user_plans, bots, policies with dashboard names, no supabase_migrations schema).

Same life cycle as helpers.supabase_lab: build a template database once, clone it per test or
module, inject one fault scenario (labs/supabase_cli/faults/<name>.sql, the same scenario names
as labs/supabase/faults/). `LabSpec` describes either lab so a test can run on both:

    @pytest.mark.parametrize("spec", LABS, ids=lambda s: s.name)
    def test_x(spec): template = spec.create_template(); name, dsn = spec.clone(template, "trigger_dropped")

Only databases named `support_mcp_test_*` are created or dropped; roles are created
idempotently by the lab's 00_roles.sql and never dropped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from helpers.supabase_lab import ADMIN_DSN, LAB_DIR, drop_database, dsn_for, new_database_name, run_sql_file
from support_mcp.domain.targets import SupabaseTarget

CLI_LAB_DIR = Path(__file__).resolve().parents[2] / "labs" / "supabase_cli"
CLI_SCENARIOS: tuple[str, ...] = tuple(sorted(p.stem for p in (CLI_LAB_DIR / "faults").glob("*.sql")))

# The app tables the analyst must be told about (SUPPORT_MCP_SUPABASE_*_TABLE).
CLI_PROFILES_TABLE = "public.profiles"
CLI_SUBSCRIPTIONS_TABLE = "public.user_plans"
# The customer's file a `supabase/migrations` folder would hold (the whole app schema).
CLI_INITIAL_MIGRATION = CLI_LAB_DIR / "03_public.sql"

# Seed users (labs/supabase_cli/04_seed.sql): e-mail -> id. All but nina are confirmed, with an
# identity, one live session and one refresh token; mara is the oldest (the default sample user).
CLI_USERS: dict[str, str] = {
    "mara@example.de": "6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a51",
    "jonas@example.de": "6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a52",
    "lea@example.de": "6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a53",
    "tobias@example.de": "6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a54",
    "nina@example.de": "6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a55",
}
CLI_CONFIRMED_USERS = ("mara@example.de", "jonas@example.de", "lea@example.de", "tobias@example.de")
# The user trigger_disabled / trigger_dropped sign up after breaking the trigger.
CLI_LATE_SIGNUP = ("paul@example.de", "6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a56")
# Bots: mara owns 1 and 2 (jonas is an editor of 1), jonas owns 3, lea owns 4.
CLI_BOTS = {
    "Salon Terminbot": "b07b0700-0000-4000-8000-000000000001",
    "Salon Bewertungen": "b07b0700-0000-4000-8000-000000000002",
    "Fahrradladen Support": "b07b0700-0000-4000-8000-000000000003",
    "Yoga Kursbuchung": "b07b0700-0000-4000-8000-000000000004",
}


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@dataclass(frozen=True)
class LabSpec:
    """One lab folder: its parts (NN_*.sql, run in order), its faults and its app tables."""

    name: str
    directory: Path
    profiles_table: str
    subscriptions_table: str
    initial_migration: Path

    @property
    def scenarios(self) -> tuple[str, ...]:
        return tuple(sorted(p.stem for p in (self.directory / "faults").glob("*.sql")))

    def parts(self) -> list[Path]:
        return sorted(self.directory.glob("[0-9][0-9]_*.sql"))

    def create_template(self) -> str:
        """A database with the healthy lab; returns its name (drop it with drop_database)."""
        name = new_database_name("clitpl" if self.directory == CLI_LAB_DIR else "labtpl")
        _admin(f'create database "{name}"')
        dsn = dsn_for(name)
        try:
            for part in self.parts():
                run_sql_file(dsn, part)
        except Exception:
            drop_database(name)
            raise
        return name

    def clone(self, template: str, scenario: str | None = None) -> tuple[str, str]:
        """A fresh copy of `template`, with `scenario` injected when given; returns (name, dsn)."""
        name = new_database_name("cli" if self.directory == CLI_LAB_DIR else "lab")
        _admin(f'create database "{name}" template "{template}"')
        dsn = dsn_for(name)
        if scenario is not None:
            try:
                self.inject(dsn, scenario)
            except Exception:
                drop_database(name)
                raise
        return name, dsn

    def inject(self, dsn: str, scenario: str) -> None:
        if scenario not in self.scenarios:
            raise ValueError(f"unknown {self.name} scenario {scenario!r}; known: {', '.join(self.scenarios)}")
        run_sql_file(dsn, self.directory / "faults" / f"{scenario}.sql")

    def target(self, dsn: str, **overrides: Any) -> SupabaseTarget:
        """The analyst's target on a clone of this lab, with the lab's table names."""
        values: dict[str, Any] = {"profiles_table": self.profiles_table,
                                  "subscriptions_table": self.subscriptions_table, **overrides}
        return SupabaseTarget(database_url=dsn, **values)


OURS = LabSpec("supabase", LAB_DIR, "public.profiles", "public.subscriptions", LAB_DIR / "02_public.sql")
CLI = LabSpec("supabase_cli", CLI_LAB_DIR, CLI_PROFILES_TABLE, CLI_SUBSCRIPTIONS_TABLE, CLI_INITIAL_MIGRATION)
LABS: tuple[LabSpec, ...] = (OURS, CLI)


def create_cli_lab_template() -> str:
    """A database with the healthy CLI lab (roles, extensions, auth, public, seed)."""
    return CLI.create_template()


def clone_cli_lab(template: str, scenario: str | None = None) -> tuple[str, str]:
    """A fresh copy of the CLI lab with `scenario` injected when given; returns (name, dsn)."""
    return CLI.clone(template, scenario)


def inject_cli(dsn: str, scenario: str) -> None:
    CLI.inject(dsn, scenario)


def cli_target(dsn: str, **overrides: Any) -> SupabaseTarget:
    """SupabaseTarget on a CLI-lab clone: subscriptions_table = public.user_plans."""
    return CLI.target(dsn, **overrides)


def jwt_claims(user_id: str, email: str | None = None, **extra: Any) -> dict[str, Any]:
    """The claims PostgREST puts into `request.jwt.claims` for a signed-in user."""
    claims: dict[str, Any] = {"sub": user_id, "role": "authenticated", "aud": "authenticated",
                              "aal": "aal1", "is_anonymous": False,
                              "app_metadata": {"provider": "email", "providers": ["email"]}, "user_metadata": {}}
    if email is not None:
        claims["email"] = email
    claims.update(extra)
    return claims


def as_role(dsn: str, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None, *,
            role: str = "authenticated", claims: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run `sql` as PostgREST would for `role` with `claims` (both claim settings), rolled back.
    Errors propagate as psycopg errors (e.g. errors.InsufficientPrivilege)."""
    with psycopg.connect(dsn) as conn:
        try:
            conn.execute("select set_config('role', %s, true), set_config('request.jwt.claims', %s, true), "
                         "set_config('request.jwt.claim.sub', %s, true), "
                         "set_config('request.jwt.claim.role', %s, true)",
                         (role, json.dumps(dict(claims or {})), str((claims or {}).get("sub") or ""), role))
            cur = conn.execute(sql, params)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []
        finally:
            conn.rollback()


def checksum(dsn: str) -> str:
    """A digest of the rows of every table in auth/public/private, every sequence's position and
    the policy/trigger/function/grant catalog: equal before and after means nothing changed."""
    digest = hashlib.sha256()
    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            "select format('%I.%I', n.nspname, c.relname), c.relkind from pg_class c join pg_namespace n "
            "on n.oid = c.relnamespace where c.relkind in ('r', 'S') and n.nspname in "
            "('auth', 'public', 'private', 'supabase_migrations') order by 1").fetchall()
        for table, kind in tables:
            if kind == "S":
                row = conn.execute(f"select last_value::text || is_called::text from {table}").fetchone()  # type: ignore[arg-type]
            else:
                row = conn.execute(f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
                                   f"from {table} t").fetchone()  # type: ignore[arg-type]
            digest.update(f"{table}={row[0] if row else ''};".encode())
        catalog = conn.execute(
            "select (select md5(coalesce(string_agg(polname || polcmd::text || coalesce(pg_get_expr(polqual, polrelid), '') "
            "|| coalesce(pg_get_expr(polwithcheck, polrelid), ''), ',' order by polrelid, polname), '')) from pg_policy), "
            "(select md5(coalesce(string_agg(tgname || tgenabled::text, ',' order by tgname), '')) from pg_trigger "
            "where not tgisinternal), "
            "(select md5(coalesce(string_agg(proname || coalesce(array_to_string(proconfig, ';'), '') || prosrc "
            "|| coalesce(proacl::text, ''), ',' order by proname), '')) from pg_proc p "
            "join pg_namespace n on n.oid = p.pronamespace where n.nspname in ('auth', 'public', 'private')), "
            "(select md5(coalesce(string_agg(relname || relrowsecurity::text || coalesce(relacl::text, ''), ',' "
            "order by relname), '')) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname in ('auth', 'public', 'private') and c.relkind = 'r'), "
            "(select md5(coalesce(string_agg(conname || pg_get_constraintdef(oid), ',' order by conname), '')) "
            "from pg_constraint where connamespace in ('auth'::regnamespace, 'public'::regnamespace))").fetchone()
        digest.update(repr(catalog).encode())
    return digest.hexdigest()


def signup(dsn: str, email: str = "probe@example.de", user_id: str = "6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4aff",
           user_metadata: Mapping[str, Any] | None = None) -> tuple[int, int]:
    """Sign a user up the way the auth server does (as supabase_auth_admin, search_path auth),
    rolled back; returns (profiles, plans) rows the trigger made for that user. Errors (the
    trigger's "Database error saving new user") propagate as psycopg errors."""
    meta = {"sub": user_id, "email": email, "email_verified": False, "phone_verified": False,
            **dict(user_metadata or {})}
    with psycopg.connect(dsn) as conn:
        try:
            conn.execute("set local role supabase_auth_admin")
            conn.execute("set local search_path = auth")
            conn.execute(
                "insert into auth.users (instance_id, id, aud, role, email, encrypted_password, "
                "confirmation_token, confirmation_sent_at, recovery_token, email_change_token_new, email_change, "
                "raw_app_meta_data, raw_user_meta_data, is_sso_user, is_anonymous, created_at, updated_at) "
                "values ('00000000-0000-0000-0000-000000000000', %s, 'authenticated', 'authenticated', %s, '', "
                "'token', now(), '', '', '', '{\"provider\": \"email\", \"providers\": [\"email\"]}', %s, "
                "false, false, now(), now())", (user_id, email, json.dumps(meta)))
            conn.execute("reset role")
            row = conn.execute("select (select count(*) from public.profiles where id = %s), "
                               "(select count(*) from public.user_plans where user_id = %s)",
                               (user_id, user_id)).fetchone()
            assert row is not None
            return int(row[0]), int(row[1])
        finally:
            conn.rollback()
