"""Repairs directly on the lab: plan → dry-run → fingerprint → apply → validate, per scenario;
the dry-run changes nothing; apply records a versioned migration file and schema_migrations;
a schema change since the dry-run changes the fingerprint."""

from __future__ import annotations

import asyncio
import dataclasses

import psycopg
import pytest

from helpers.supabase_lab import checksum, context_for
from support_mcp.agents.supabase_analyst import supabase_checks
from support_mcp.agents.supabase_analyst.base import supabase_runner
from support_mcp.agents.supabase_analyst.repairs import supabase_repairs
from support_mcp.domain.models import Finding
from support_mcp.domain.targets import SupabaseTarget

REPAIR_FOR = {
    "trigger_disabled": "restore_signup_trigger", "trigger_dropped": "restore_signup_trigger",
    "subscription_fails": "restore_function", "rls_no_policy": "restore_dropped_policy",
    "recursive_policy": "restore_policy", "metadata_policy": "policy_use_app_metadata",
    "definer_search_path": "pin_search_path", "table_without_rls": "enable_rls",
    "always_true_policy": "drop_always_true_policy", "orphaned_profiles": "delete_orphaned_profiles",
    "banned_sessions": "revoke_banned_sessions", "rpc_authenticated_only": "grant_table_privilege",
}


TRIGGER_OFF = {"reason": "signup_trigger_disabled", "trigger": "on_auth_user_created",
               "function": "public.handle_new_user"}


async def findings_of(target: SupabaseTarget) -> list[Finding]:
    ctx, _ = context_for(target)
    async with supabase_runner(target) as runner:  # one pool shared by every check, as the registry does
        groups = await asyncio.gather(*(c.run(ctx) for c in supabase_checks(target, runner)))
    return [f for g in groups for f in g]


@pytest.mark.parametrize("scenario", sorted(REPAIR_FOR))
async def test_repair_makes_the_reproduction_pass(lab, scenario: str) -> None:  # type: ignore[no-untyped-def]
    target = lab(scenario)
    ctx, _ = context_for(target)
    findings = await findings_of(target)
    proposed = {r.name: (r, p) for r in supabase_repairs(target) if (p := r.proposes(findings)) is not None}
    assert REPAIR_FOR[scenario] in proposed, sorted(proposed)
    repair, params = proposed[REPAIR_FOR[scenario]]

    steps = await repair.plan(ctx, params)
    assert steps[0].kind == "sql" and steps[0].display == steps[0].payload["sql"]
    assert steps[0].payload["draft"] and target.drafts_dir and any(target.drafts_dir.iterdir())
    before = checksum(target.database_url)
    dry = await repair.dry_run(ctx, steps)
    assert dry.ok, dry.output
    assert "ROLLBACK" in dry.output and "before → after" in dry.output
    assert "Reproduktion im Trockentest: bestanden" in dry.output
    assert checksum(target.database_url) == before  # the dry-run (and its reproduction) was rolled back
    assert await repair.fingerprint(ctx, steps) == dry.fingerprint

    applied = await repair.apply(ctx, steps)
    assert applied.ok, applied.output
    files = sorted(p.name for p in target.migrations_dir.iterdir())  # type: ignore[union-attr]
    assert len(files) == 2 and files[-1].endswith(f"_{repair.name}.sql")
    with psycopg.connect(target.database_url) as conn:
        versions = conn.execute("select version, name from supabase_migrations.schema_migrations").fetchall()
    assert versions == [(files[-1].split("_")[0], repair.name)]  # local files and database agree

    validation = await repair.validate(ctx, params)
    assert [f.status for f in validation] == ["ok"], [(f.title, f.evidence) for f in validation]
    remaining = {f.data.get("code") for f in await findings_of(target) if f.status in ("warn", "fail")}
    assert not remaining & set(repair.fix.gone_after)


async def test_schema_change_after_dry_run_changes_the_fingerprint(lab) -> None:  # type: ignore[no-untyped-def]
    target = lab("trigger_disabled")
    ctx, _ = context_for(target)
    repair = next(r for r in supabase_repairs(target) if r.name == "restore_signup_trigger")
    steps = await repair.plan(ctx, TRIGGER_OFF)
    dry = await repair.dry_run(ctx, steps)
    with psycopg.connect(target.database_url, autocommit=True) as conn:
        conn.execute("alter table auth.users enable trigger on_auth_user_created")
    assert await repair.fingerprint(ctx, steps) != dry.fingerprint


async def test_failing_migration_rolls_back_and_writes_no_file(lab) -> None:  # type: ignore[no-untyped-def]
    target = lab("table_without_rls")
    ctx, _ = context_for(target)
    repair = next(r for r in supabase_repairs(target) if r.name == "drop_always_true_policy")
    steps = await repair.plan(ctx, {"table": "public.api_keys", "policy": "no_such_policy", "roles": ["anon"]})
    assert not (await repair.dry_run(ctx, steps)).ok
    before = checksum(target.database_url)
    result = await repair.apply(ctx, steps)
    assert not result.ok and "ROLLBACK" in result.output
    assert checksum(target.database_url) == before
    assert len(list(target.migrations_dir.iterdir())) == 1  # type: ignore[union-attr]


async def test_existing_equivalent_migration_is_named(lab) -> None:  # type: ignore[no-untyped-def]
    target = lab("recursive_policy")
    ctx, _ = context_for(target)
    repair = next(r for r in supabase_repairs(target) if r.name == "restore_policy")
    params = repair.proposes(await findings_of(target))
    assert params is not None and params["source"] == "20250101000000_initial_schema.sql"
    steps = await repair.plan(ctx, params)
    # the DROP is new, so the whole migration is not in the folder yet; the policy body is
    assert steps[0].payload["existing_migration"] is None
    assert "public.is_team_member(team_id)" in steps[0].display


async def test_migration_already_in_the_folder_is_found(lab) -> None:  # type: ignore[no-untyped-def]
    target = lab("always_true_policy")
    ctx, _ = context_for(target)
    repair = next(r for r in supabase_repairs(target) if r.name == "drop_always_true_policy")
    params = {"table": "public.profiles", "policy": "profiles_select_all", "roles": ["anon"]}
    steps = await repair.plan(ctx, params)
    (target.migrations_dir / "20260101000000_hotfix.sql").write_text(  # type: ignore[operator]
        "-- applied by hand\n" + steps[0].payload["sql"].upper().replace("PROFILES_SELECT_ALL", "profiles_select_all")
        .replace("PUBLIC.PROFILES", "public.profiles").replace("ANON", "anon") + "\n", "utf-8")
    again = await repair.plan(ctx, params)
    assert again[0].payload["existing_migration"] == "20260101000000_hotfix.sql"


# A function body that relies on the search_path (unqualified names), as many projects write it.
_UNQUALIFIED_BODY = """
CREATE OR REPLACE FUNCTION public.handle_new_user()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  INSERT INTO profiles (id, email, full_name, avatar_url)
  VALUES (new.id, new.email, new.raw_user_meta_data ->> 'full_name', new.raw_user_meta_data ->> 'avatar_url');
  PERFORM create_free_subscription(new.id);
  RETURN new;
END
$$;
"""


def unqualify_signup_function(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(_UNQUALIFIED_BODY)  # type: ignore[arg-type]


def without_migrations(target: SupabaseTarget) -> SupabaseTarget:
    """The same project without supabase/migrations: nothing to restore, a policy is written."""
    return dataclasses.replace(target, migrations_dir=None)


async def test_dry_run_of_a_policy_for_the_wrong_role_fails_its_reproduction(lab) -> None:  # type: ignore[no-untyped-def]
    target = without_migrations(lab("rls_no_policy"))
    ctx, _ = context_for(target)
    repair = next(r for r in supabase_repairs(target) if r.name == "add_owner_select_policy")
    params = repair.proposes(await findings_of(target))
    assert params is not None
    (step,) = await repair.plan(ctx, params)
    wrong_sql = step.payload["sql"].replace("TO authenticated", "TO anon")
    assert wrong_sql != step.payload["sql"]
    wrong = dataclasses.replace(step, display=wrong_sql, payload={**step.payload, "sql": wrong_sql})
    before = checksum(target.database_url)
    dry = await repair.dry_run(ctx, [wrong])
    assert not dry.ok
    assert "OK  CREATE POLICY" in dry.output  # the migration itself ran ...
    assert "Reproduktion im Trockentest: fehlgeschlagen" in dry.output  # ... but fixed nothing
    assert "public.profiles als authenticated leer" in dry.output
    assert checksum(target.database_url) == before


async def test_pinning_a_search_path_the_function_body_needs_fails_the_dry_run(lab) -> None:  # type: ignore[no-untyped-def]
    target = lab("definer_search_path")
    unqualify_signup_function(target.database_url)
    ctx, _ = context_for(target)
    findings = await findings_of(target)
    assert not [f for f in findings if f.data.get("code") == "signup_fails"]  # sign-up works before the fix
    repair = next(r for r in supabase_repairs(target) if r.name == "pin_search_path")
    params = repair.proposes(findings)
    assert params == {"function": "public.handle_new_user()", "regprocedure": "public.handle_new_user()", "kind": "f"}
    dry = await repair.dry_run(ctx, await repair.plan(ctx, params))
    assert not dry.ok, dry.output
    assert "Reproduktion im Trockentest: fehlgeschlagen" in dry.output
    assert "neu nach der Migration: Registrierung schlägt fehl" in dry.output
    # the pinned search_path itself was fine: the failing part is the reproduction
    assert "OK  ALTER FUNCTION" in dry.output


async def test_dry_run_reproduction_runs_inside_the_rolled_back_transaction(lab) -> None:  # type: ignore[no-untyped-def]
    target = lab("trigger_disabled")
    ctx, recorder = context_for(target)
    repair = next(r for r in supabase_repairs(target) if r.name == "restore_signup_trigger")
    dry = await repair.dry_run(ctx, await repair.plan(ctx, TRIGGER_OFF))
    assert dry.ok and "Reproduktion im Trockentest: bestanden" in dry.output
    # before the migration the probe sign-up made no profile; after it (same transaction) it did
    made = [r.stdout for op, r in recorder.commands if op.name == "sql.signup_path"
            and r.stdout.startswith("profiles\tsubscriptions")]
    assert [line.splitlines()[1] for line in made] == ["0\t0", "1\t1"], made
    with psycopg.connect(target.database_url) as conn:
        assert conn.execute("select tgenabled from pg_trigger where tgname = 'on_auth_user_created'").fetchone() == ("D",)


async def test_a_project_without_migration_history_records_the_migration_as_a_file(lab) -> None:  # type: ignore[no-untyped-def]
    target = lab("trigger_disabled")
    with psycopg.connect(target.database_url, autocommit=True) as conn:
        conn.execute("drop schema supabase_migrations cascade")  # not made with the Supabase CLI
    ctx, _ = context_for(target)
    repair = next(r for r in supabase_repairs(target) if r.name == "restore_signup_trigger")
    steps = await repair.plan(ctx, TRIGGER_OFF)
    dry = await repair.dry_run(ctx, steps)
    assert dry.ok, dry.output
    assert "nur als Datei in" in dry.output and "keine supabase_migrations.schema_migrations" in dry.output
    applied = await repair.apply(ctx, steps)
    assert applied.ok, applied.output
    [written] = [p for p in target.migrations_dir.iterdir() if p.name.endswith("_restore_signup_trigger.sql")]  # type: ignore[union-attr]
    assert 'ENABLE TRIGGER "on_auth_user_created"' in written.read_text()
    assert [f.status for f in await repair.validate(ctx, TRIGGER_OFF)] == ["ok"]


async def test_a_dry_run_fails_when_apply_could_not_record_the_migration(lab) -> None:  # type: ignore[no-untyped-def]
    from support_mcp.agents.supabase_analyst.repairs import migration_record

    target = lab("trigger_disabled")
    role = "support_mcp_test_no_record"  # may read the history, not write it (the lab connects as superuser)
    with psycopg.connect(target.database_url, autocommit=True) as conn:
        conn.execute(f"do $$ begin create role {role} login; exception when duplicate_object then null; end $$")
        conn.execute(f"grant usage on schema supabase_migrations to {role}")
        conn.execute(f"grant select on supabase_migrations.schema_migrations to {role}")
    info = psycopg.conninfo.conninfo_to_dict(target.database_url) | {"user": role}
    limited = dataclasses.replace(target, database_url=psycopg.conninfo.make_conninfo(**info))
    try:
        async with supabase_runner(limited) as runner, runner.transaction(read_only=False) as session:
            message, ok = await migration_record(session, limited, "de")
            session.abort = True
        assert not ok and "keine Schreibrechte auf supabase_migrations.schema_migrations" in message
        async with supabase_runner(target) as runner, runner.transaction(read_only=False) as session:
            message, ok = await migration_record(session, target, "de")
            session.abort = True
        assert ok and message.startswith("Aufzeichnung beim Ausführen: supabase_migrations.schema_migrations + ")
    finally:
        with psycopg.connect(target.database_url, autocommit=True) as conn:
            conn.execute(f"drop owned by {role}")
            conn.execute(f"drop role {role}")


async def test_the_owner_policy_repair_passes_for_a_role_with_several_grants(lab) -> None:  # type: ignore[no-untyped-def]
    target = lab("rls_no_policy")
    with psycopg.connect(target.database_url, autocommit=True) as conn:  # as Supabase grants by default
        conn.execute("grant select, insert, update, delete on all tables in schema public to authenticated")
    target = without_migrations(target)
    ctx, _ = context_for(target)
    findings = await findings_of(target)
    repair = next(r for r in supabase_repairs(target) if r.name == "add_owner_select_policy")
    params = repair.proposes(findings)
    assert params is not None and params["cmd"] == "SELECT"
    dry = await repair.dry_run(ctx, await repair.plan(ctx, params))
    assert dry.ok, dry.output


async def test_a_dropped_policy_comes_back_from_the_migrations_and_no_policy_is_invented(lab) -> None:  # type: ignore[no-untyped-def]
    target = lab("rls_no_policy")
    findings = await findings_of(target)
    proposed = {r.name: p for r in supabase_repairs(target) if (p := r.proposes(findings)) is not None}
    assert "add_owner_select_policy" not in proposed
    restore = proposed["restore_dropped_policy"]
    assert restore["policy"] == "profiles_select_own" and restore["source"].endswith("_initial_schema.sql")
    assert restore["definition"].startswith("CREATE POLICY profiles_select_own ON public.profiles FOR SELECT")
