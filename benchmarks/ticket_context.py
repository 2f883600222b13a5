"""Benchmark the ticket context bundle (playbook 1.1) against a primary-key lookup.

    python benchmarks/ticket_context.py [--messages 1000000] [--events 100000] [--tickets 20000]
                                        [--samples 500] [--dsn ADMIN_DSN] [--upto VERSION]

Creates `support_mcp_bench_<random>` on ADMIN_DSN's server (default
postgresql://postgres@127.0.0.1:5432/postgres), migrates it, bulk-loads tickets, messages and
automation events in SQL (`insert … select generate_series`), runs VACUUM ANALYZE, then times
`ContextService.bundle(ticket_id)` (the real service) and a single primary-key lookup through the
same pool on random tickets, and on the busiest tickets. Prints the plans of the bundle's three
list queries for the busiest ticket, both as a custom plan (values known to the planner) and as
a generic plan (what a prepared statement gets once psycopg prepares it after 5 executions).
`--upto 002_knowledge_and_runs` measures without the later migrations (e.g. the context indexes of
003). The database is dropped at the end, also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from functools import partial
from itertools import count
from typing import Any

import psycopg
from psycopg import sql
from report import emit  # benchmarks/report.py, beside this script (sys.path[0])

from support_mcp.services.context import ContextService
from support_mcp.store.database import Database, Row
from support_mcp.store.migrate import bundled_migrations, migrate
from support_mcp.store.tickets import TicketStore

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
POOL_SIZE = 4
TABLES = ("support_tickets", "support_ticket_messages", "support_automation_events")

# (`%%` is SQL's modulo operator, doubled because psycopg reads `%` as a placeholder.)
# Ticket n has the id md5('ticket-' || n)::uuid, so messages and events can name their ticket
# without a join. Ticket numbers are drawn as 1 + floor(N * random()^2): a few tickets are very
# busy (ticket 1 gets about messages / sqrt(N)), most have a handful of messages.
_LOAD_TICKETS = """
insert into support_tickets
    (id, subject, status, priority, tier, customer, escalation_path, assigned_agent, created_at, updated_at)
select md5('ticket-' || g)::uuid,
       (array['Login schlägt fehl', 'Checkout hängt', 'Webhook kommt nicht an', 'Seite lädt langsam',
              'E-Mails werden nicht versendet', '502 Bad Gateway nach Deployment'])[1 + g %% 6] || ' #' || g,
       (array['open', 'open', 'pending', 'escalated', 'resolved', 'closed'])[1 + (g * 7) %% 6],
       (array['low', 'normal', 'normal', 'high', 'urgent'])[1 + (g * 3) %% 5],
       case when g %% 4 = 0 then 2 else 1 end,
       'customer-' || (g %% 900),
       case when g %% 10 = 0 then array['tier1', 'supabase-analyst-agent'] else '{}'::text[] end,
       case when g %% 4 = 0
            then (array['supabase-analyst-agent', 'hetzner-ops-agent', 'frontend-diagnostics-agent'])[1 + g %% 3]
       end,
       now() - interval '200 days' + make_interval(secs => g * 15552000.0 / %(tickets)s),
       now() - make_interval(secs => random() * 86400 * 20)
from generate_series(1, %(tickets)s) g
"""

# Authors: 40 % customer (never internal), 20 % staff (70 % internal), 30 % agent (90 % internal),
# 10 % system (internal). The 20 busiest tickets are incidents flooded with the agents' command
# notes (one internal message per command): under 1 % of their messages come from the customer.
# Bodies of 200–800 characters cut from a few realistic paragraphs.
_LOAD_MESSAGES = """
with m as materialized (
    select g, t,
           case when t <= 20 and random() < 0.98 then 0.4 + 0.6 * random() else random() end as who,
           random() as vis, random() as tag, random() as len, random() as age
    from (select g, 1 + floor(%(tickets)s * power(random(), 2))::int as t
          from generate_series(1, %(messages)s) g) drawn
)
insert into support_ticket_messages
    (ticket_id, author_kind, author_name, body, internal_only, tags, created_at)
select md5('ticket-' || t)::uuid,
       case when who < 0.4 then 'customer' when who < 0.6 then 'staff' when who < 0.9 then 'agent'
            else 'system' end,
       case when who < 0.4 then 'kunde-' || (t %% 900) when who < 0.6 then 'tier1-' || (g %% 12)
            when who < 0.9 then (array['supabase-analyst-agent', 'hetzner-ops-agent',
                                       'frontend-diagnostics-agent'])[1 + g %% 3]
       end,
       left(repeat((array[
         'Seit dem letzten Deployment bekommen unsere Nutzer beim Login einen Fehler 500. ',
         'The checkout page hangs after entering the card details; the spinner never stops. ',
         'pm2 logs api --lines 200: ECONNRESET from the Supabase pooler, 37 times in 10 minutes. ',
         'Hypothese: RLS-Policy auf support_tickets blockiert den Service-Role-Zugriff nicht. ',
         'journalctl -u caddy --since -30min: TLS handshake error from 203.0.113.7, EOF. ',
         'Wir haben den Cache geleert und es erneut versucht, leider ohne Erfolg. Bitte dringend prüfen. ',
         'df -h: /var at 94 percent, the postgres WAL directory grew by 11 GB since yesterday. ',
         'Zusammenfassung für Tier 1: Ursache gefunden, Fix ausgerollt, Kunde bitte informieren. '
       ])[1 + g %% 8], 12), 200 + floor(len * 601)::int),
       case when who < 0.4 then false when who < 0.6 then vis < 0.7 when who < 0.9 then vis < 0.9
            else true end,
       case when who < 0.4 then '{}'::text[]
            when tag < 0.03 then array['manual_followup']
            when tag < 0.10 then array['hypothesis']
            when tag < 0.35 then array['command']
            when tag < 0.40 then array['tier1_summary', 'handover']
            else '{}'::text[] end,
       now() - make_interval(secs => age * 86400 * 180)
from m
"""

# Events: open / info / ok / failed; then a share of the open events is closed by later events
# that name them (resolves_event_id), since the table is append-only.
_LOAD_EVENTS = """
with e as materialized (
    select g, 1 + floor(%(tickets)s * power(random(), 2))::int as t, random() as s, random() as age
    from generate_series(1, %(base_events)s) g
)
insert into support_automation_events (ticket_id, agent, event_type, status, payload, created_at)
select md5('ticket-' || t)::uuid,
       (array['supabase-analyst-agent', 'hetzner-ops-agent', 'frontend-diagnostics-agent', null])[1 + g %% 4],
       (array['check', 'command', 'deploy', 'hypothesis', 'manual_followup', 'escalation'])[1 + g %% 6],
       case when s < 0.30 then 'open' when s < 0.75 then 'info' when s < 0.90 then 'ok' else 'failed' end,
       jsonb_build_object('n', g, 'source', 'benchmark'),
       now() - make_interval(secs => age * 86400 * 180)
from e
"""

_RESOLVE_EVENTS = """
insert into support_automation_events
    (ticket_id, agent, event_type, status, payload, resolves_event_id, created_at)
select o.ticket_id, o.agent, o.event_type, 'resolved', jsonb_build_object('resolves', o.id), o.id,
       o.created_at + make_interval(mins => 1 + floor(random() * 600)::int)
from (select * from support_automation_events where status = 'open'
      order by random() limit %(resolving)s) o
"""

# The same columns as TicketStore.get_ticket: one row by primary key.
_PK_LOOKUP = (
    "select id, subject, status, priority, tier, customer, escalation_path, assigned_agent, created_at, "
    "updated_at from support_tickets where id = %s"
)


class RecordingDatabase(Database):
    """A Database that remembers the list reads it serves, to EXPLAIN exactly what a service ran."""

    def __init__(self, dsn: str, **kwargs: Any) -> None:
        super().__init__(dsn, **kwargs)
        self.recording = False
        self.recorded: list[tuple[str, Any]] = []

    async def fetch_all(self, sql: str, params: Any = None) -> list[Row]:
        if self.recording:
            self.recorded.append((sql, params))
        return await super().fetch_all(sql, params)


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def timed(action: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await action()
    return (time.perf_counter() - started) * 1000


async def load(db: Database, *, tickets: int, messages: int, events: int) -> None:
    resolving = events * 15 // 100
    steps = [
        ("tickets", _LOAD_TICKETS, {"tickets": tickets}),
        ("messages", _LOAD_MESSAGES, {"tickets": tickets, "messages": messages}),
        ("events", _LOAD_EVENTS, {"tickets": tickets, "base_events": events - resolving}),
        ("resolving events", _RESOLVE_EVENTS, {"resolving": resolving}),
    ]
    async with db.connection() as conn:
        await conn.execute("select setseed(0.42)")
        for what, statement, params in steps:
            started = time.perf_counter()
            await conn.execute(statement, params)
            print(f"  loaded {what:<17} in {time.perf_counter() - started:6.1f}s", flush=True)
        started = time.perf_counter()
        await conn.execute(f"vacuum (analyze) {', '.join(TABLES)}")
        print(f"  vacuum analyze           in {time.perf_counter() - started:6.1f}s", flush=True)


async def environment(db: Database) -> None:
    version = await db.fetch_one("select version() as v")
    settings = await db.fetch_all(
        """select name, current_setting(name) as value from pg_settings
           where name in ('shared_buffers', 'work_mem', 'random_page_cost', 'effective_cache_size', 'jit',
                          'plan_cache_mode')
           order by name"""
    )
    assert version is not None
    print("\nEnvironment")
    print(f"  {version['v']}")
    print("  " + ", ".join(f"{s['name']}={s['value']}" for s in settings))
    print(f"  Python {platform.python_version()}, psycopg {psycopg.__version__}, {os.cpu_count()} CPUs, "
          f"pool size {POOL_SIZE}")
    for table in TABLES:
        row = await db.fetch_one(
            sql.SQL("select count(*) as n, pg_size_pretty(pg_total_relation_size({t})) as size from {i}")
            .format(t=sql.Literal(table), i=sql.Identifier(table))
            .as_string(None)
        )
        assert row is not None
        print(f"  {table:<27} {row['n']:>10,} rows  {row['size']:>8} (with indexes)")
    spread = await db.fetch_one(
        """select min(n) as lo, percentile_disc(0.5) within group (order by n) as mid, max(n) as hi
           from (select count(*) as n from support_ticket_messages group by ticket_id) c"""
    )
    facts = await db.fetch_one(
        """select
             (select count(*) from support_ticket_messages where author_kind = 'customer') as customer,
             (select count(*) from support_ticket_messages where internal_only) as internal,
             (select count(*) from support_ticket_messages where tags @> array['manual_followup']) as followup,
             (select count(*) from support_automation_events e where status = 'open' and not exists
                (select 1 from support_automation_events r where r.resolves_event_id = e.id)) as still_open,
             (select count(*) from support_automation_events where resolves_event_id is not null) as resolving,
             (select round(avg(length(body))) from support_ticket_messages) as avg_body"""
    )
    assert spread is not None and facts is not None
    print(f"  messages per ticket: min {spread['lo']}, median {spread['mid']}, max {spread['hi']}; "
          f"avg body {facts['avg_body']} chars")
    print(f"  customer messages {facts['customer']:,}, internal_only {facts['internal']:,}, "
          f"manual_followup {facts['followup']:,}; events still open {facts['still_open']:,}, "
          f"resolving {facts['resolving']:,}")


async def measure(
    db: Database, service: ContextService, ids: list[uuid.UUID]
) -> tuple[list[float], list[float]]:
    """Interleaved, so both see the same cache and load: one bundle, then one primary-key read."""
    bundle_ms: list[float] = []
    pk_ms: list[float] = []
    for ticket_id in ids:
        bundle_ms.append(await timed(partial(service.bundle, ticket_id)))
        pk_ms.append(await timed(partial(db.fetch_one, _PK_LOOKUP, (ticket_id,))))
    return bundle_ms, pk_ms


def print_latency(title: str, bundle_ms: list[float], pk_ms: list[float]) -> None:
    b50, b99, bmean = percentile(bundle_ms, 50), percentile(bundle_ms, 99), statistics.fmean(bundle_ms)
    k50, k99, kmean = percentile(pk_ms, 50), percentile(pk_ms, 99), statistics.fmean(pk_ms)
    print(f"\n{title} (n={len(bundle_ms)})")
    print(f"  {'':32}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    print(f"  {'ContextService.bundle':32}{b50:>10.2f}{b99:>10.2f}{bmean:>10.2f}")
    print(f"  {'primary-key lookup':32}{k50:>10.2f}{k99:>10.2f}{kmean:>10.2f}")
    print(f"  {'ratio context / pk':32}{b50 / k50:>10.1f}{b99 / k99:>10.1f}{bmean / kmean:>10.1f}")
    emit("ticket_context", f"context bundle p99, {title}", b99, "ms", baseline="primary-key lookup p99",
         baseline_value=k99)


def _numbered(query: str, params: Any) -> tuple[str, list[Any]]:
    """The query with psycopg's placeholders as `$n` (for PREPARE) and the values in that order."""
    if isinstance(params, dict):
        names: list[str] = []

        def by_name(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        return re.sub(r"%\((\w+)\)s", by_name, query), [params[n] for n in names]
    position = count(1)
    return re.sub(r"%s", lambda _match: f"${next(position)}", query), list(params)


async def explain(db: RecordingDatabase, service: ContextService, ticket_id: uuid.UUID) -> None:
    db.recorded.clear()
    db.recording = True
    await service.bundle(ticket_id)
    db.recording = False
    for number, (query, params) in enumerate(db.recorded, 1):
        numbered, values = _numbered(query, params)
        print(f"\n--- query {number} of the bundle, ticket {ticket_id}")
        print("    " + " ".join(numbered.split()))
        print(f"    parameters: {values}")
        async with db.connection() as conn:
            print("  custom plan (values known at planning: the first 5 executions):")
            cur = await conn.execute(f"explain (analyze, buffers) {query}", params)
            for row in await cur.fetchall():
                print("    " + row["QUERY PLAN"])
            # A prepared statement switches to the generic plan when that looks no more expensive;
            # force it to see what the partial indexes are worth to it.
            await conn.execute("set plan_cache_mode = force_generic_plan")
            await conn.execute(f"prepare bench_generic as {numbered}")
            literals = sql.SQL(", ").join(sql.Literal(v) for v in values)
            try:
                print("  generic plan (prepared statement, plan_cache_mode = force_generic_plan):")
                cur = await conn.execute(
                    sql.SQL("explain (analyze, buffers) execute bench_generic({})").format(literals)
                )
                for row in await cur.fetchall():
                    print("    " + row["QUERY PLAN"])
            finally:
                await conn.execute("deallocate bench_generic")
                await conn.execute("reset plan_cache_mode")


async def plan_choices(db: Database) -> None:
    """Which plans the pool's prepared statements actually used (PostgreSQL 14+ counts them)."""
    async with AsyncExitStack() as stack:
        conns = [await stack.enter_async_context(db.connection()) for _ in range(POOL_SIZE)]
        totals: dict[str, list[int]] = {}
        for conn in conns:
            cur = await conn.execute(
                "select statement, generic_plans, custom_plans from pg_prepared_statements"
            )
            for row in await cur.fetchall():
                text = " ".join(row["statement"].split())
                key = next((k for k, needle in (
                    ("customer messages", "author_kind = $2"),
                    ("internal notes", "internal_only = $2"),
                    ("open events", "status = 'open'"),
                    ("ticket by id", "from support_tickets where id = $1"),
                ) if needle in text), None)
                if key:
                    counts = totals.setdefault(key, [0, 0])
                    counts[0] += row["generic_plans"]
                    counts[1] += row["custom_plans"]
    print("\nPlans used by the pool's prepared statements (psycopg prepares after 5 executions)")
    for key, (generic, custom) in sorted(totals.items()):
        print(f"  {key:<20} generic {generic:>6}   custom {custom:>6}")


async def run(dsn: str, args: argparse.Namespace) -> None:
    db = RecordingDatabase(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE, timeout=30)
    await db.open()
    try:
        started = time.perf_counter()
        wanted = [m for m in bundled_migrations() if args.upto is None or m.version <= args.upto]
        applied = await migrate(db, wanted)
        print(f"  migrated ({', '.join(applied)}) in {time.perf_counter() - started:.1f}s", flush=True)
        await load(db, tickets=args.tickets, messages=args.messages, events=args.events)
        await environment(db)

        service = ContextService(TicketStore(db))
        rng = random.Random(7)
        ids = [r["id"] for r in await db.fetch_all("select id from support_tickets order by id")]
        busiest = [r["ticket_id"] for r in await db.fetch_all(
            """select ticket_id from support_ticket_messages group by ticket_id
               order by count(*) desc limit 20""")]
        # Warm up: caches, and psycopg's automatic prepare after 5 executions per connection.
        await measure(db, service, rng.sample(ids, 100))
        bundle_ms, pk_ms = await measure(db, service, rng.sample(ids, args.samples))
        print_latency(f"Random tickets (of {len(ids):,})", bundle_ms, pk_ms)
        bundle_ms, pk_ms = await measure(db, service, busiest * 10)
        print_latency("The 20 busiest tickets (flooded with agent notes), 10 rounds each", bundle_ms, pk_ms)
        await plan_choices(db)
        if not args.no_explain:
            await explain(db, service, busiest[0])
    finally:
        await db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--dsn", default=ADMIN_DSN, help="admin DSN of the server to create the database on")
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=500, help="random tickets timed")
    parser.add_argument("--no-explain", action="store_true", help="skip the EXPLAIN output")
    parser.add_argument("--upto", metavar="VERSION",
                        help="apply bundled migrations only up to this one (e.g. 002_knowledge_and_runs)")
    args = parser.parse_args()

    name = f"support_mcp_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    print(f"Database {name} ({args.tickets:,} tickets, {args.messages:,} messages, {args.events:,} events)")
    started = time.perf_counter()
    try:
        asyncio.run(run(psycopg.conninfo.make_conninfo(args.dsn, dbname=name), args))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        print(f"\nDropped {name}; total {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
