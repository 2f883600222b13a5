"""The Supabase-like lab in a real PostgreSQL: build it once as a template database, clone it
per test or module, and inject one named fault scenario (labs/supabase/faults/<name>.sql).

Only databases named `support_mcp_test_*` are created or dropped; the API roles are
cluster-wide and created idempotently by labs/supabase/00_roles.sql, never dropped.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import uuid
from pathlib import Path

import psycopg

from support_mcp.agents.base import CheckContext
from support_mcp.domain.targets import SupabaseTarget, Targets
from support_mcp.executors.base import CommandResult
from support_mcp.policy.commands import Operation

ADMIN_DSN = os.environ.get("SUPPORT_MCP_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
LAB_DIR = Path(__file__).resolve().parents[2] / "labs" / "supabase"
SCENARIOS: tuple[str, ...] = tuple(sorted(p.stem for p in (LAB_DIR / "faults").glob("*.sql")))


def dsn_for(name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(ADMIN_DSN)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def new_database_name(kind: str = "lab") -> str:
    return f"support_mcp_test_{kind}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def drop_database(name: str) -> None:
    assert name.startswith("support_mcp_test_")
    _admin(f'drop database if exists "{name}" with (force)')


ROLES_LOCK = Path("/tmp/support_mcp_test_roles.lock")


def run_sql_file(dsn: str, path: Path) -> None:
    """Run a lab SQL file as one simple-protocol batch, committed. A file that creates roles runs
    under a machine-wide lock: roles are cluster-wide, and two test workers creating the same one
    at once would collide on `pg_authid` (its `IF NOT EXISTS` sees neither's uncommitted row)."""
    sql = path.read_text("utf-8")
    with contextlib.ExitStack() as stack:
        if "create role" in sql.lower():
            lock = stack.enter_context(ROLES_LOCK.open("a"))
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]


def create_lab_template() -> str:
    """A database with the healthy lab (roles, auth, public schema, seed); returns its name."""
    name = new_database_name("labtpl")
    _admin(f'create database "{name}"')
    dsn = dsn_for(name)
    for part in sorted(LAB_DIR.glob("[0-9][0-9]_*.sql")):
        run_sql_file(dsn, part)
    return name


def clone_lab(template: str, scenario: str | None = None) -> tuple[str, str]:
    """A fresh copy of the lab, with `scenario` injected when given; returns (name, dsn)."""
    name = new_database_name("lab")
    _admin(f'create database "{name}" template "{template}"')
    dsn = dsn_for(name)
    if scenario is not None:
        inject(dsn, scenario)
    return name, dsn


INITIAL_MIGRATION = "20250101000000_initial_schema.sql"


def lab_target(dsn: str, migrations: Path, drafts: Path) -> SupabaseTarget:
    """A target on the lab database `dsn` as a project configures it: its migrations folder
    (created) holding the initial schema — what repairs restore definitions from — and a drafts folder."""
    migrations.mkdir(parents=True, exist_ok=True)
    (migrations / INITIAL_MIGRATION).write_bytes((LAB_DIR / "02_public.sql").read_bytes())
    return SupabaseTarget(database_url=dsn, migrations_dir=migrations, drafts_dir=drafts)


def inject(dsn: str, scenario: str) -> None:
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown lab scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    run_sql_file(dsn, LAB_DIR / "faults" / f"{scenario}.sql")


def checksum(dsn: str) -> str:
    """A digest of every row of every lab table plus the policy/trigger/function catalog state."""
    digest = hashlib.sha256()
    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            "select format('%I.%I', n.nspname, c.relname) from pg_class c join pg_namespace n "
            "on n.oid = c.relnamespace where c.relkind = 'r' and n.nspname in "
            "('auth', 'public', 'supabase_migrations') order by 1").fetchall()
        for (table,) in tables:
            rows = conn.execute(f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
                                f"from {table} t").fetchone()  # type: ignore[arg-type]
            digest.update(f"{table}={rows[0] if rows else ''};".encode())
        catalog = conn.execute(
            "select (select md5(coalesce(string_agg(polname || pg_get_expr(polqual, polrelid, true), ',' "
            "order by polname), '')) from pg_policy), "
            "(select md5(coalesce(string_agg(tgname || tgenabled::text, ',' order by tgname), '')) from pg_trigger "
            "where not tgisinternal), "
            "(select md5(coalesce(string_agg(proname || coalesce(array_to_string(proconfig, ';'), '') "
            "|| prosrc, ',' order by proname), '')) from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
            "where n.nspname in ('auth', 'public')), "
            "(select md5(coalesce(string_agg(relname || relrowsecurity::text || coalesce(relacl::text, ''), ',' "
            "order by relname), '')) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname in ('auth', 'public') and c.relkind = 'r')").fetchone()
        digest.update(repr(catalog).encode())
    return digest.hexdigest()


class Recorder:
    """Collects what a check logs on the ticket, as the runner's recorder would."""

    def __init__(self) -> None:
        self.commands: list[tuple[Operation, CommandResult]] = []

    async def __call__(self, agent: str, op: Operation, result: CommandResult) -> None:
        self.commands.append((op, result))


def context_for(target: SupabaseTarget, language: str = "de") -> tuple[CheckContext, Recorder]:
    recorder = Recorder()
    ctx = CheckContext(ticket_id=uuid.uuid4(), agent="supabase-analyst-agent", executors={}, record=recorder,
                       language=language, targets=Targets(supabase=target))  # type: ignore[arg-type]
    return ctx, recorder


# A lab variant whose app tables carry other names (and one lives in another schema), with the
# functions that use them redefined: what SupabaseTarget.profiles_table/subscriptions_table are for.
RENAMED_PROFILES = "public.user_profiles"
RENAMED_SUBSCRIPTIONS = "billing.customer_subscriptions"
_RENAME_SQL = """
ALTER TABLE public.profiles RENAME TO user_profiles;
CREATE SCHEMA billing;
GRANT USAGE ON SCHEMA billing TO authenticated, service_role;
ALTER TABLE public.subscriptions SET SCHEMA billing;
ALTER TABLE billing.subscriptions RENAME TO customer_subscriptions;
CREATE OR REPLACE FUNCTION public.create_free_subscription(p_user_id uuid)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  INSERT INTO billing.customer_subscriptions (user_id, plan, status, current_period_end)
  VALUES (p_user_id, 'free', 'active', now() + interval '30 days')
  ON CONFLICT (user_id) DO NOTHING;
  INSERT INTO public.usage_stats (user_id) VALUES (p_user_id) ON CONFLICT (user_id) DO NOTHING;
END
$$;
CREATE OR REPLACE FUNCTION public.handle_new_user()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  INSERT INTO public.user_profiles (id, email, full_name, avatar_url)
  VALUES (new.id, new.email, new.raw_user_meta_data ->> 'full_name', new.raw_user_meta_data ->> 'avatar_url');
  PERFORM public.create_free_subscription(new.id);
  RETURN new;
END
$$;
CREATE OR REPLACE FUNCTION public.get_dashboard_stats()
RETURNS TABLE (messages_sent integer, bots integer, plan text)
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT u.messages_sent, u.bots, s.plan
  FROM public.usage_stats u JOIN billing.customer_subscriptions s ON s.user_id = u.user_id
  WHERE u.user_id = (SELECT auth.uid())
$$;
"""


def rename_app_tables(dsn: str) -> None:
    """profiles → public.user_profiles, subscriptions → billing.customer_subscriptions."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(_RENAME_SQL)  # type: ignore[arg-type]


def backend_count(dsn: str, application_name: str = "support-mcp") -> int:
    """Connections the SQL runner holds on the lab database `dsn` names."""
    dbname = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        row = conn.execute("select count(*) from pg_stat_activity where datname = %s and application_name = %s",
                           (dbname, application_name)).fetchone()
    return int(row[0]) if row else 0
