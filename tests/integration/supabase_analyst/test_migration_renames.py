"""`migration_renames` on both Supabase labs (ours and the CLI lab built from the auth server's
schema): a rename of a function, a table and a column in the newest migration, applied to the
database, is found with its old and new name; the same file not applied, a rename in an older
migration and a project without migrations are not. The objects renamed are the lab's own, read
from its catalog (no name of ours assumed in the CLI lab)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import psycopg
import pytest

from helpers.supabase_lab import context_for
from support_mcp.agents.supabase_analyst.renames import NEWEST_MIGRATIONS, MigrationRenamesCheck
from support_mcp.domain.models import Finding
from support_mcp.domain.targets import SupabaseTarget

# a function without arguments and a table with a column, each of the app's schema
_FUNCTION = ("select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
             "where n.nspname = 'public' and p.pronargs = 0 and p.prokind = 'f' order by 1 limit 1")
_COLUMN = ("select c.relname, a.attname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
           "join pg_attribute a on a.attrelid = c.oid where n.nspname = 'public' and c.relkind = 'r' "
           "and a.attnum > 0 and not a.attisdropped and a.attname <> 'id' order by 1, 2 limit 1")


@pytest.fixture
def target(either_lab: SupabaseTarget) -> SupabaseTarget:
    return either_lab


def findings_of(target: SupabaseTarget) -> list[Finding]:
    ctx, _ = context_for(target)
    return asyncio.run(MigrationRenamesCheck(target).run(ctx))


def catalog(target: SupabaseTarget) -> tuple[str, str, str]:
    with psycopg.connect(target.database_url) as conn:
        function = conn.execute(_FUNCTION).fetchone()
        column = conn.execute(_COLUMN).fetchone()
    assert function and column, "the lab has no argument-less function or table to rename"
    return function[0], column[0], column[1]


def test_applied_renames_in_the_newest_migration_are_found_with_both_names(target: SupabaseTarget) -> None:
    assert target.migrations_dir is not None
    function, table, column = catalog(target)
    assert [f.status for f in findings_of(target)] == ["ok"]
    sql = (f'alter function public."{function}"() rename to "{function}_v2";\n'
           f'alter table public."{table}" rename column "{column}" to "{column}_v2";\n'
           f'alter table public."{table}" rename to "{table}_v2";\n')
    migration = target.migrations_dir / "29990101000000_rename.sql"
    migration.write_text(sql)
    # the file alone (not applied yet): the database still has the old names, nothing to report
    assert [f.status for f in findings_of(target)] == ["ok"]
    with psycopg.connect(target.database_url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]
    try:
        found = {(f.data["kind"], f.data["old"], f.data["new"], f.data["table"], f.data["migration"], str(f.status))
                 for f in findings_of(target)}
        assert found == {("function", function, f"{function}_v2", None, migration.name, "warn"),
                         ("column", column, f"{column}_v2", table, migration.name, "warn"),
                         ("table", table, f"{table}_v2", None, migration.name, "warn")}
        # a newer batch of migrations pushes it out of the newest ones: an old rename is history
        for n in range(NEWEST_MIGRATIONS):
            (target.migrations_dir / f"2999020{n}000000_later.sql").write_text("select 1;\n")
        assert [f.status for f in findings_of(target)] == ["ok"]
    finally:
        with psycopg.connect(target.database_url, autocommit=True) as conn:
            conn.execute(f'alter table public."{table}_v2" rename to "{table}"')  # type: ignore[arg-type]
            conn.execute(f'alter table public."{table}" rename column "{column}_v2" to "{column}"')  # type: ignore[arg-type]
            conn.execute(f'alter function public."{function}_v2"() rename to "{function}"')  # type: ignore[arg-type]
        for path in target.migrations_dir.glob("2999*.sql"):
            path.unlink()


def test_without_migrations_the_check_is_skipped_with_the_reason(target: SupabaseTarget, tmp_path: Path) -> None:
    (finding,) = findings_of(dataclasses.replace(target, migrations_dir=tmp_path / "none"))
    assert finding.status == "skipped" and "Keine Migrationsdateien" in finding.title, finding
