"""supabase-analyst-agent: (1) the whole diagnose (independent checks run concurrently, sharing
one pooled SqlRunner) against the sum of its checks run one by one; (2) the safe-SQL overhead per
statement (pglast guard + catalog volatility lookup + BEGIN READ ONLY with SET LOCAL timeouts) as
a ratio to the same pooled runner without the guard and to a bare query on an open pooled
connection; and, for scale, what a new connection per statement (the runner before its pool) cost.

Creates the Supabase-like lab in its own database `support_mcp_test_bench_*` on 127.0.0.1:5432
(override with SUPPORT_MCP_TEST_ADMIN_DSN), prints numbers, drops it.

    .venv/bin/python benchmarks/supabase_diagnose.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import psycopg
from psycopg_pool import AsyncConnectionPool
from report import emit  # benchmarks/report.py, beside this script (sys.path[0])

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers.supabase_lab import clone_lab, context_for, create_lab_template, drop_database  # noqa: E402
from support_mcp.agents.supabase_analyst import supabase_checks  # noqa: E402
from support_mcp.agents.supabase_analyst.safe_sql import SafeSql  # noqa: E402
from support_mcp.domain.targets import SupabaseTarget  # noqa: E402
from support_mcp.executors.sql import SqlRunner  # noqa: E402

STATEMENTS = (
    "select count(*) from auth.users",
    "select p.id, u.email from public.profiles p join auth.users u on u.id = p.id where u.email like '%@example.com'",
    "select polname, pg_get_expr(polqual, polrelid) from pg_policy",
)


async def diagnose(target: SupabaseTarget, runner: SqlRunner, concurrent: bool) -> float:
    ctx, _ = context_for(target)
    checks = supabase_checks(target, runner)
    start = time.perf_counter()
    if concurrent:
        await asyncio.gather(*(c.run(ctx) for c in checks))
    else:
        for c in checks:
            await c.run(ctx)
    return time.perf_counter() - start


async def connect_per_statement(dsn: str, sql: str) -> None:
    """What SqlRunner.read did before its pool: connect, BEGIN READ ONLY, timeouts, query, close."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute(b"BEGIN READ ONLY")
        await conn.execute("select set_config('statement_timeout', '5000ms', true), "
                           "set_config('lock_timeout', '1000ms', true)")
        await (await conn.execute(sql)).fetchall()  # type: ignore[arg-type]
        await conn.execute(b"ROLLBACK")


async def sql_overhead(dsn: str, n: int) -> dict[str, float]:
    out: dict[str, float] = {}
    pool: AsyncConnectionPool[psycopg.AsyncConnection[object]] = AsyncConnectionPool(
        dsn, min_size=1, max_size=1, open=False, kwargs={"autocommit": True})
    await pool.open(wait=True)
    async with SqlRunner(dsn) as runner, pool.connection() as conn:
        safe = SafeSql(runner)
        for sql in STATEMENTS:
            await runner.read(sql), await safe.query(sql)  # warm the pool and psycopg's prepared statements
            bare_open, bare_runner, guarded, per_connect = [], [], [], []
            for _ in range(n):
                t = time.perf_counter()
                await (await conn.execute(sql)).fetchall()  # type: ignore[arg-type]
                bare_open.append(time.perf_counter() - t)
                t = time.perf_counter()
                await runner.read(sql)  # pooled read-only transaction, no guard
                bare_runner.append(time.perf_counter() - t)
                t = time.perf_counter()
                await safe.query(sql)
                guarded.append(time.perf_counter() - t)
                t = time.perf_counter()
                await connect_per_statement(dsn, sql)
                per_connect.append(time.perf_counter() - t)
            key = sql[:40]
            out[key + " | bare on open pooled connection ms"] = statistics.median(bare_open) * 1000
            out[key + " | runner without guard ms"] = statistics.median(bare_runner) * 1000
            out[key + " | guarded ms"] = statistics.median(guarded) * 1000
            out[key + " | new connection per statement ms"] = statistics.median(per_connect) * 1000
    await pool.close()
    return out


async def main(rounds: int) -> None:
    template = create_lab_template()
    name, dsn = clone_lab(template)
    try:
        target = SupabaseTarget(database_url=dsn)
        async with SqlRunner(dsn) as runner:
            await diagnose(target, runner, True)  # warm-up
            together = [await diagnose(target, runner, True) for _ in range(rounds)]
            one_by_one = [await diagnose(target, runner, False) for _ in range(rounds)]
        c, s = statistics.median(together), statistics.median(one_by_one)
        print(f"diagnose, {len(supabase_checks(target))} checks, median of {rounds} rounds")
        print(f"  concurrent (as the runner does): {c * 1000:8.1f} ms")
        print(f"  one by one (sum of checks):      {s * 1000:8.1f} ms")
        print(f"  ratio concurrent / sequential:   {c / s:8.2f}")
        emit("supabase_diagnose", "diagnose, checks concurrent", c * 1000, "ms",
             baseline="same checks one by one", baseline_value=s * 1000)
        print("safe SQL overhead per statement (median)")
        numbers = await sql_overhead(dsn, max(rounds * 4, 20))
        for key, value in numbers.items():
            print(f"  {key}: {value:7.2f}")
        for sql in STATEMENTS:
            k = sql[:40]
            g, o, r, c = (numbers[f"{k} | guarded ms"], numbers[f"{k} | bare on open pooled connection ms"],
                          numbers[f"{k} | runner without guard ms"], numbers[f"{k} | new connection per statement ms"])
            emit("supabase_diagnose", f"guarded statement `{' '.join(k.split())}…`", g, "ms",
                 baseline="same statement, runner without guard", baseline_value=r)
            print(f"  guarded/bare-open {g / o:5.1f}x · guarded/runner-without-guard {g / r:5.2f}x · "
                  f"runner/bare-open {r / o:5.1f}x · connect-per-statement/bare-open {c / o:5.1f}x  ({k})")
    finally:
        drop_database(name)
        drop_database(template)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
