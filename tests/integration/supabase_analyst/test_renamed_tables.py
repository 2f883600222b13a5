"""A lab variant whose profiles and subscriptions tables carry other names (one in another
schema): with SupabaseTarget.profiles_table/subscriptions_table set, the checks and the repairs
use those names; with the defaults the same lab shows the old names were hard-coded."""

from __future__ import annotations

import asyncio
import dataclasses

import psycopg

from helpers.supabase_lab import RENAMED_PROFILES, RENAMED_SUBSCRIPTIONS, context_for, rename_app_tables
from support_mcp.agents.supabase_analyst import supabase_checks
from support_mcp.agents.supabase_analyst.base import supabase_runner
from support_mcp.agents.supabase_analyst.repairs import supabase_repairs
from support_mcp.domain.models import Finding
from support_mcp.domain.targets import SupabaseTarget


def renamed(target: SupabaseTarget) -> SupabaseTarget:
    rename_app_tables(target.database_url)
    return dataclasses.replace(target, profiles_table=RENAMED_PROFILES, subscriptions_table=RENAMED_SUBSCRIPTIONS)


async def findings_of(target: SupabaseTarget) -> list[Finding]:
    ctx, _ = context_for(target)
    async with supabase_runner(target) as runner:
        groups = await asyncio.gather(*(c.run(ctx) for c in supabase_checks(target, runner)))
    return [f for g in groups for f in g]


def problems(findings: list[Finding]) -> set[tuple[str, str | None, str]]:
    return {(f.check, f.data.get("code"), str(f.status)) for f in findings if f.status != "ok"
            and f.status != "skipped"}


async def test_checks_read_the_configured_tables(lab) -> None:  # type: ignore[no-untyped-def]
    default = lab()
    target = renamed(default)
    assert problems(await findings_of(target)) == set()
    # the same lab with the default names: the consistency check and the sign-up probe cannot find
    # the tables, and say so as skipped findings with the reason (never an SQL error)
    wrong = await findings_of(default)
    assert not [f for f in wrong if f.status == "error"], [(f.check, f.title) for f in wrong]
    skipped = [f.title for f in wrong if f.status == "skipped" and f.check in ("auth_consistency", "signup_path")]
    assert any("Tabelle public.profiles gibt es in diesem Projekt nicht" in t for t in skipped), skipped
    assert any("Tabelle public.subscriptions gibt es in diesem Projekt nicht" in t for t in skipped), skipped


async def test_signup_repair_backfills_the_configured_tables(lab) -> None:  # type: ignore[no-untyped-def]
    target = renamed(lab("trigger_disabled"))
    ctx, _ = context_for(target)
    findings = await findings_of(target)
    assert {("auth_consistency", "users_without_profile", "fail"),
            ("auth_consistency", "users_without_subscription", "fail")} <= problems(findings)
    async with supabase_runner(target) as runner:
        repair = next(r for r in supabase_repairs(target, runner) if r.name == "restore_signup_trigger")
        params = repair.proposes(findings)
        assert params is not None
        (step,) = await repair.plan(ctx, params)
        sql = step.payload["sql"]
        # the project's own trigger function is replayed for the users it missed: it knows the tables
        assert 'ENABLE TRIGGER "on_auth_user_created"' in sql and "EXECUTE FUNCTION public.handle_new_user()" in sql
        assert 'FROM "public"."user_profiles" p WHERE p."id" = u.id' in sql
        assert "public.profiles" not in sql and "public.subscriptions" not in sql
        assert "public.user_profiles" in step.payload["tables"]
        dry = await repair.dry_run(ctx, [step])
        assert dry.ok and "Reproduktion im Trockentest: bestanden" in dry.output, dry.output
        assert (await repair.apply(ctx, [step])).ok
        assert [f.status for f in await repair.validate(ctx, params)] == ["ok"]
    with psycopg.connect(target.database_url) as conn:
        fritz = "66666666-6666-4666-8666-666666666666"
        assert conn.execute("select count(*) from public.user_profiles where id = %s", (fritz,)).fetchone() == (1,)
        assert conn.execute("select count(*) from billing.customer_subscriptions where user_id = %s",
                            (fritz,)).fetchone() == (1,)


async def test_orphan_repair_names_the_configured_profiles_table(lab) -> None:  # type: ignore[no-untyped-def]
    target = renamed(lab("orphaned_profiles"))
    ctx, _ = context_for(target)
    findings = await findings_of(target)
    repair = next(r for r in supabase_repairs(target) if r.name == "delete_orphaned_profiles")
    params = repair.proposes(findings)
    assert params is not None
    (step,) = await repair.plan(ctx, params)
    assert 'ADD CONSTRAINT "user_profiles_id_fkey"' in step.payload["sql"]
    dry = await repair.dry_run(ctx, [step])
    assert dry.ok, dry.output
