"""The app's table names are part of the Supabase target (validated, quoted by psycopg), and the
registry hands every check and repair of a target the same SQL runner."""

from __future__ import annotations

import pytest

from support_mcp.agents.registry import AgentResources, checks_for, repairs_for
from support_mcp.agents.supabase_analyst import queries
from support_mcp.agents.supabase_analyst.fixes import FIXES
from support_mcp.agents.supabase_analyst.schema import app_schema
from support_mcp.bootstrap.settings import Settings
from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.targets import SupabaseTarget, Targets

DB = {"SUPPORT_MCP_SUPABASE_DB_URL": "postgresql://postgres:pw@db.example.supabase.co:5432/postgres"}


def test_table_names_come_from_the_environment() -> None:
    default = Settings.from_env(DB).targets.supabase
    assert default is not None
    assert (default.profiles_table, default.subscriptions_table) == ("public.profiles", "public.subscriptions")
    target = Settings.from_env({**DB, "SUPPORT_MCP_SUPABASE_PROFILES_TABLE": "app.Profile",
                                "SUPPORT_MCP_SUPABASE_SUBSCRIPTIONS_TABLE": "billing.subs"}).targets.supabase
    assert target is not None and (target.profiles_table, target.subscriptions_table) == ("app.Profile", "billing.subs")


@pytest.mark.parametrize("name", ["profiles", "public.profiles; drop table x", 'public."profiles"',
                                  "a.b.c", "public.", ".profiles", "public.pro files", "public.profiles--"])
def test_table_names_must_be_schema_dot_table(name: str) -> None:
    with pytest.raises(InvalidInput, match="schema.table"):
        Settings.from_env({**DB, "SUPPORT_MCP_SUPABASE_PROFILES_TABLE": name})
    with pytest.raises(InvalidInput):
        SupabaseTarget(database_url="x", subscriptions_table=name)


def test_table_names_are_quoted_identifiers_in_queries_and_migrations() -> None:
    target = SupabaseTarget(database_url="x", profiles_table="app.Profile", subscriptions_table="billing.subs")
    shape = app_schema(target, [
        {"schema": "app", "table": "Profile", "columns": ["User ID", "email"], "user_fk": "User ID"},
        {"schema": "billing", "table": "subs", "columns": ["id", "user_id"], "user_fk": None}])
    made = queries.signup_made(shape)
    assert made is not None and 'from "app"."Profile" where "User ID" = %(id)s' in made
    assert 'from "billing"."subs" where "user_id" = %(id)s' in made
    checks, skipped = queries.consistency(shape)
    assert skipped == {}
    assert all('"app"."Profile"' in sql or '"billing"."subs"' in sql for sql in checks.values()
               if "profile" in sql.lower() or "subs" in sql)
    fix = next(f for f in FIXES if f.name == "delete_orphaned_profiles")
    sql = fix.sql({"profiles_table": "app.Profile", "profiles_user_column": "User ID"})
    assert 'DELETE FROM "app"."Profile" p' in sql and 'CONSTRAINT "Profile_User ID_fkey"' in sql
    assert 'FOREIGN KEY ("User ID") REFERENCES auth.users (id)' in sql


def test_columns_the_project_lacks_are_skipped_with_the_reason() -> None:
    target = SupabaseTarget(database_url="x", subscriptions_table="public.user_plans")
    shape = app_schema(target, [{"schema": "public", "table": "profiles", "columns": ["id", "username"],
                                 "user_fk": "id"}])
    checks, skipped = queries.consistency(shape)
    assert set(checks) == {"users_without_profile", "orphaned_profiles", "banned_user_sessions"}
    assert skipped["profile_email_mismatch"] == ("skip.no_column", {"table": "public.profiles", "column": "email"})
    assert skipped["users_without_subscription"] == ("skip.no_table", {"table": "public.user_plans"})
    assert "email" not in checks["orphaned_profiles"]
    assert "null as subscriptions" in (queries.signup_made(shape) or "")


def test_registry_shares_one_runner_per_target_and_closes_it() -> None:
    targets = Targets(supabase=SupabaseTarget(database_url="postgresql://u@127.0.0.1:1/x"))
    resources = AgentResources(targets)
    runner = resources.supabase_sql
    assert runner is not None and not runner.is_open  # nothing connects before first use
    checks = checks_for("supabase-analyst-agent", targets, resources)
    repairs = repairs_for("supabase-analyst-agent", targets, resources)
    assert {id(c.runner) for c in checks} == {id(runner)}  # type: ignore[attr-defined]
    assert {id(r.runner) for r in repairs} == {id(runner)}  # type: ignore[attr-defined]
    assert AgentResources(Targets()).supabase_sql is None


async def test_agent_resources_aclose_without_use_is_harmless() -> None:
    resources = AgentResources(Targets(supabase=SupabaseTarget(database_url="postgresql://u@127.0.0.1:1/x")))
    await resources.aclose()
    await AgentResources(Targets()).aclose()
