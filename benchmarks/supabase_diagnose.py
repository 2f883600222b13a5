"""supabase-analyst-agent: (1) the whole diagnose (independent checks run concurrently) against
the sum of its checks run one by one; (2) the safe-SQL overhead per statement (pglast guard +
catalog volatility lookup + BEGIN READ ONLY with timeouts) as a ratio to running it bare.

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


async def diagnose(target: SupabaseTarget, concurrent: bool) -> float:
    ctx, _ = context_for(target)
    checks = supabase_checks(target)
    start = time.perf_counter()
    if concurrent:
        await asyncio.gather(*(c.run(ctx) for c in checks))
    else:
        for c in checks:
            await c.run(ctx)
    return time.perf_counter() - start


async def sql_overhead(dsn: str, n: int) -> dict[str, float]:
    safe = SafeSql(SqlRunner(dsn))
    runner = SqlRunner(dsn)
    out: dict[str, float] = {}
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        for sql in STATEMENTS:
            bare_open, bare_conn, guarded = [], [], []
            for _ in range(n):
                t = time.perf_counter()
                await (await conn.execute(sql)).fetchall()  # type: ignore[arg-type]
                bare_open.append(time.perf_counter() - t)
                t = time.perf_counter()
                await runner.read(sql)  # connect + read-only transaction, no guard
                bare_conn.append(time.perf_counter() - t)
                t = time.perf_counter()
                await safe.query(sql)
                guarded.append(time.perf_counter() - t)
            key = sql[:40]
            out[key + " | bare on open connection ms"] = statistics.median(bare_open) * 1000
            out[key + " | runner without guard ms"] = statistics.median(bare_conn) * 1000
            out[key + " | guarded ms"] = statistics.median(guarded) * 1000
    return out


async def main(rounds: int) -> None:
    template = create_lab_template()
    name, dsn = clone_lab(template)
    try:
        target = SupabaseTarget(database_url=dsn)
        await diagnose(target, True)  # warm-up
        together = [await diagnose(target, True) for _ in range(rounds)]
        one_by_one = [await diagnose(target, False) for _ in range(rounds)]
        c, s = statistics.median(together), statistics.median(one_by_one)
        print(f"diagnose, {len(supabase_checks(target))} checks, median of {rounds} rounds")
        print(f"  concurrent (as the runner does): {c * 1000:8.1f} ms")
        print(f"  one by one (sum of checks):      {s * 1000:8.1f} ms")
        print(f"  ratio concurrent / sequential:   {c / s:8.2f}")
        print("safe SQL overhead per statement (median)")
        numbers = await sql_overhead(dsn, max(rounds * 4, 20))
        for key, value in numbers.items():
            print(f"  {key}: {value:7.2f}")
        for sql in STATEMENTS:
            k = sql[:40]
            g, o, r = (numbers[f"{k} | guarded ms"], numbers[f"{k} | bare on open connection ms"],
                       numbers[f"{k} | runner without guard ms"])
            print(f"  ratio guarded/bare-open {g / o:6.1f}x · guarded/runner-without-guard {g / r:5.2f}x  ({k})")
    finally:
        drop_database(name)
        drop_database(template)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
