"""Migrations against a real PostgreSQL: fresh databases, existing Supabase tables, races, failures."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from support_mcp.domain.errors import Conflict, StoreUnavailable
from support_mcp.store.database import Database
from support_mcp.store.migrate import _MIGRATION_LOCK, Migration, bundled_migrations, migrate

# Every column, index, constraint and trigger of the public schema: what "the table
# definitions" of a database are, for comparing before and after a migration.
_SCHEMA_SNAPSHOT = """
select 'column' as kind, c.relname as owner, a.attname as name,
       format_type(a.atttypid, a.atttypmod) || ' notnull=' || a.attnotnull
         || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') as definition
  from pg_attribute a
  join pg_class c on c.oid = a.attrelid
  join pg_namespace n on n.oid = c.relnamespace
  left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
 where n.nspname = 'public' and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
union all
select 'index', tablename, indexname, indexdef from pg_indexes where schemaname = 'public'
union all
select 'constraint', c.relname, k.conname, pg_get_constraintdef(k.oid)
  from pg_constraint k join pg_class c on c.oid = k.conrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public'
union all
select 'trigger', c.relname, t.tgname, pg_get_triggerdef(t.oid)
  from pg_trigger t join pg_class c on c.oid = t.tgrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and not t.tgisinternal
union all
select 'policy', tablename, policyname, coalesce(qual, '') from pg_policies where schemaname = 'public'
order by 1, 2, 3
"""

# What a customer's Supabase project might already hold: fewer columns than ours, a column of
# their own (`sla_due`), row-level security with a policy, and rows that must survive.
_SUPABASE_SCHEMA = """
create table support_tickets (
    id uuid primary key default gen_random_uuid(),
    subject text,
    status text,
    created_at timestamptz default now(),
    sla_due timestamptz
);
alter table support_tickets enable row level security;
create policy support_tickets_staff_read on support_tickets for select using (status <> 'spam');

create table support_ticket_messages (
    id uuid primary key default gen_random_uuid(),
    ticket_id uuid not null references support_tickets (id),
    body text,
    internal_only boolean default false
);

create table support_automation_events (
    id uuid primary key default gen_random_uuid(),
    ticket_id uuid not null references support_tickets (id),
    event_type text,
    created_at timestamptz default now()
);
"""

_TICKET = uuid.UUID("6f1b4a2e-2c1d-4c8e-9a51-3d7f0b9e1a10")
_SLA = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


async def _schema(db: Database) -> list[dict[str, Any]]:
    return await db.fetch_all(_SCHEMA_SNAPSHOT)


async def _recorded(db: Database) -> dict[str, str]:
    rows = await db.fetch_all("select version, checksum from support_mcp_schema_migrations")
    return {r["version"]: r["checksum"] for r in rows}


async def _table_exists(db: Database, name: str) -> bool:
    row = await db.fetch_one("select to_regclass(%s) is not null as present", (name,))
    assert row is not None
    return bool(row["present"])


@asynccontextmanager
async def _opened(dsn: str, *, max_size: int = 2) -> AsyncIterator[Database]:
    database = Database(dsn, min_size=1, max_size=max_size)
    await database.open()
    try:
        yield database
    finally:
        await database.close()


async def _lock_is_free(dsn: str) -> bool:
    """True when another session can take the migration lock right now (and gives it back)."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        cur = await conn.execute("select pg_try_advisory_lock(%s)", (_MIGRATION_LOCK,))
        row = await cur.fetchone()
        assert row is not None
        if row[0]:
            await conn.execute("select pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
        return bool(row[0])


# -- a fresh database ---------------------------------------------------------------------------


async def test_migrate_on_empty_database_applies_bundled_migrations_and_records_them(
    empty_dsn: str,
) -> None:
    bundled = bundled_migrations()
    assert [m.version for m in bundled][:2] == ["001_support_tables", "002_knowledge_and_runs"]
    async with _opened(empty_dsn) as db:
        applied = await migrate(db)
        assert applied == [m.version for m in bundled]
        assert await _recorded(db) == {m.version: m.checksum for m in bundled}
        for table in ("support_tickets", "support_ticket_messages", "support_automation_events",
                      "knowledge_sections", "agent_runs"):
            assert await _table_exists(db, table), table


async def test_second_migrate_applies_nothing_and_changes_no_table_definition(empty_dsn: str) -> None:
    async with _opened(empty_dsn) as db:
        await migrate(db)
        before = await _schema(db)
        recorded = await _recorded(db)
        assert await migrate(db) == []
        assert await _schema(db) == before
        assert await _recorded(db) == recorded


async def test_bundled_sql_can_run_twice_when_the_bookkeeping_is_lost(empty_dsn: str) -> None:
    """`create … if not exists` everywhere: re-running the SQL itself is harmless too."""
    bundled = bundled_migrations()
    async with _opened(empty_dsn) as db:
        await migrate(db, bundled)
        before = await _schema(db)
        again = [Migration(version=f"{m.version}_again", sql=m.sql) for m in bundled]
        assert await migrate(db, again) == [m.version for m in again]
        assert await _schema(db) == before


# -- an existing Supabase project ------------------------------------------------------------------


async def test_migrate_keeps_existing_supabase_tables_rows_columns_and_policies(empty_dsn: str) -> None:
    async with _opened(empty_dsn) as db:
        async with db.transaction() as conn:
            await conn.execute(_SUPABASE_SCHEMA)
            await conn.execute(
                "insert into support_tickets (id, subject, status, created_at, sla_due) "
                "values (%s, 'Checkout hängt', 'pending', '2025-03-13 08:00+00', %s)",
                (_TICKET, _SLA),
            )
            await conn.execute(
                "insert into support_ticket_messages (ticket_id, body, internal_only) values "
                "(%s, 'Seit heute Morgen lädt der Checkout nicht', false), (%s, 'Stripe prüfen', true)",
                (_TICKET, _TICKET),
            )
            await conn.execute(
                "insert into support_automation_events (ticket_id, event_type) values (%s, 'triage')",
                (_TICKET,),
            )
        tables = ("support_tickets", "support_ticket_messages", "support_automation_events")
        oids_before = {t: await db.fetch_one("select %s::regclass::oid as oid", (t,)) for t in tables}
        rows_before = {t: await db.fetch_all(f"select * from {t} order by id") for t in tables}
        columns_before = {
            t: await db.fetch_all(
                "select column_name, data_type, is_nullable, column_default from information_schema.columns "
                "where table_schema = 'public' and table_name = %s order by ordinal_position",
                (t,),
            )
            for t in tables
        }

        applied = await migrate(db)

        assert applied[:2] == ["001_support_tables", "002_knowledge_and_runs"]
        for table in tables:
            # Not recreated: the very same relation.
            assert await db.fetch_one("select %s::regclass::oid as oid", (table,)) == oids_before[table]
            # The customer's columns keep their exact definitions, in their order ...
            after = await db.fetch_all(
                "select column_name, data_type, is_nullable, column_default from information_schema.columns "
                "where table_schema = 'public' and table_name = %s order by ordinal_position",
                (table,),
            )
            assert after[: len(columns_before[table])] == columns_before[table]
            # ... and every existing value is untouched.
            old_columns = [c["column_name"] for c in columns_before[table]]
            rows_after = await db.fetch_all(f"select * from {table} order by id")
            assert [{c: r[c] for c in old_columns} for r in rows_after] == rows_before[table]

        ticket = await db.fetch_one("select * from support_tickets where id = %s", (_TICKET,))
        assert ticket is not None
        assert ticket["sla_due"] == _SLA
        assert ticket["status"] == "pending"
        # Missing columns were added with their defaults, filled in for the old rows.
        assert ticket["priority"] == "normal"
        assert ticket["tier"] == 1
        assert ticket["escalation_path"] == []
        assert ticket["assigned_agent"] is None
        messages = await db.fetch_all(
            "select author_kind, tags, metadata, internal_only from support_ticket_messages "
            "where ticket_id = %s order by internal_only",
            (_TICKET,),
        )
        assert [(m["author_kind"], m["tags"], m["metadata"], m["internal_only"]) for m in messages] == [
            ("system", [], {}, False),
            ("system", [], {}, True),
        ]
        event = await db.fetch_one("select status, payload, resolves_event_id from support_automation_events")
        assert event == {"status": "info", "payload": {}, "resolves_event_id": None}

        policy = await db.fetch_one(
            "select policyname, qual from pg_policies where tablename = 'support_tickets'"
        )
        assert policy == {"policyname": "support_tickets_staff_read", "qual": "(status <> 'spam'::text)"}
        rls = await db.fetch_one("select relrowsecurity from pg_class where oid = 'support_tickets'::regclass")
        assert rls == {"relrowsecurity": True}
        # And once migrated, the project is up to date like any other database.
        assert await migrate(db) == []


# -- concurrency -----------------------------------------------------------------------------------


async def _waiting_for_migration_lock(conn: psycopg.AsyncConnection[Any]) -> int:
    cur = await conn.execute(
        """select count(*) from pg_locks
           where locktype = 'advisory' and not granted and database = (
                 select oid from pg_database where datname = current_database())
             and ((classid::bigint << 32) | objid::bigint) = %s""",
        (_MIGRATION_LOCK,),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_two_concurrent_migrations_apply_each_file_exactly_once(empty_dsn: str) -> None:
    bundled = [m.version for m in bundled_migrations()]
    async with _opened(empty_dsn) as first, _opened(empty_dsn) as second:
        # Hold the lock ourselves so that both migrations are certainly at the gate together,
        # then let them race.
        async with await psycopg.AsyncConnection.connect(empty_dsn, autocommit=True) as gate:
            await gate.execute("select pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
            racing = asyncio.gather(migrate(first), migrate(second))
            deadline = time.monotonic() + 20
            while await _waiting_for_migration_lock(gate) < 2:
                assert time.monotonic() < deadline, "the two migrations never queued on the lock"
                await asyncio.sleep(0.02)
            await gate.execute("select pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
            results = await asyncio.wait_for(racing, timeout=60)

        assert sorted(results, key=len) == [[], bundled]
        rows = await first.fetch_all("select version from support_mcp_schema_migrations order by version")
        assert [r["version"] for r in rows] == bundled
    assert await _lock_is_free(empty_dsn)


# -- changed and failing migrations ------------------------------------------------------------


async def test_changed_migration_after_it_was_applied_is_a_conflict(empty_dsn: str) -> None:
    original = Migration("001_notes", "create table notes (id int primary key);")
    edited = Migration("001_notes", "create table notes (id int primary key, body text);")
    async with _opened(empty_dsn) as db:
        assert await migrate(db, [original]) == ["001_notes"]
        with pytest.raises(Conflict, match="001_notes was changed"):
            await migrate(db, [edited, Migration("002_more", "create table more (id int);")])
        # Nothing after the conflicting file ran, and the lock was given back.
        assert not await _table_exists(db, "more")
        assert await _recorded(db) == {"001_notes": original.checksum}
        assert await _lock_is_free(empty_dsn)
        assert await migrate(db, [original]) == []


async def test_failing_migration_is_rolled_back_and_not_recorded(empty_dsn: str) -> None:
    good = Migration("001_good", "create table good (id int);")
    bad = Migration(
        "002_bad",
        "create table half_done (id int);\n"
        "insert into half_done values (1);\n"
        "alter table no_such_table add column x int;\n",
    )
    async with _opened(empty_dsn) as db:
        with pytest.raises(StoreUnavailable, match="migration 002_bad failed.*no_such_table"):
            await migrate(db, [good, bad])
        assert await _table_exists(db, "good")
        assert not await _table_exists(db, "half_done")
        assert await _recorded(db) == {"001_good": good.checksum}
        assert await _lock_is_free(empty_dsn)
        # The connection went back to the pool in a usable state.
        assert await db.fetch_one("select 1 as one") == {"one": 1}


# -- an unreachable server -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://u:s3cretpw@127.0.0.1:1/x?connect_timeout=2",
        "host=127.0.0.1 port=1 dbname=x user=u password=s3cretpw connect_timeout=2",
    ],
)
async def test_unreachable_database_is_store_unavailable_without_the_password(
    dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database(dsn, min_size=1, max_size=1, timeout=3)
    with caplog.at_level(logging.DEBUG), pytest.raises(StoreUnavailable) as raised:
        await database.open()
    message = str(raised.value)
    assert "database unreachable" in message
    assert "127.0.0.1" in message and "port=1" in message
    assert "s3cretpw" not in message
    assert "password=***" in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    # The server's own reason is named (a direct attempt fails fast), and no log line leaks it.
    assert "port 1 failed" in message
    assert all("s3cretpw" not in record.getMessage() for record in caplog.records)
