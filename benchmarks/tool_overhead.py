"""Tool-call overhead: the same work called directly, through the MCP in-memory client, and over
streamable HTTP (uvicorn on loopback), as ratios to the direct service call measured in this run.

    python benchmarks/tool_overhead.py [--calls 300] [--admin-dsn postgresql://postgres@127.0.0.1:5432/postgres]

Creates and drops its own database `support_mcp_bench_<random>`.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx2
import psycopg
import uvicorn
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from report import emit  # benchmarks/report.py, beside this script (sys.path[0])

from support_mcp.bootstrap import Services, Settings, open_services
from support_mcp.domain.models import AuthorKind
from support_mcp.mcp.server import build_server, http_app
from support_mcp.mcp.tools import ToolBox, current_identity
from support_mcp.policy.scopes import identity

TOKEN = "bench-token-8c1e0f2a4b6d9e3f7a1c5b0d"


async def measure(paths: dict[str, Callable[[], Awaitable[object]]], n: int) -> list[dict[str, float | str]]:
    """Call every path n times, interleaved round by round, so that drift of a shared machine
    hits all paths alike; returns p50/p99/mean in ms per path."""
    names = list(paths)
    for name in names:  # warm-up: pool connections, sessions, caches
        for _ in range(20):
            await paths[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for i in range(n):
        for name in names[i % len(names):] + names[: i % len(names)]:
            t0 = time.perf_counter()
            await paths[name]()
            samples[name].append((time.perf_counter() - t0) * 1000)
    rows: list[dict[str, float | str]] = []
    for name in names:
        xs = sorted(samples[name])
        rows.append({"name": name, "p50": statistics.median(xs), "p99": xs[int(0.99 * (len(xs) - 1))],
                     "mean": statistics.fmean(xs)})
    return rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def seed(services: Services) -> uuid.UUID:
    ticket = await services.tickets.create_ticket(subject="502 nach Deployment", customer="bench")
    for i in range(12):
        await services.tickets.add_message(ticket.id, body=f"Kundennachricht {i}: Seite zeigt 502. " * 5,
                                           author_kind=AuthorKind.CUSTOMER, internal_only=False)
        await services.journal.note(ticket.id, f"Interne Notiz {i}", agent="hetzner-ops-agent")
    await services.tickets.add_event(ticket.id, event_type="deployment", status="open")
    return ticket.id


async def run(calls: int, dsn: str) -> None:
    async with open_services(Settings(database_url=dsn, http_tokens={TOKEN: "hetzner-ops-agent"})) as services:
        tid = await seed(services)
        box = ToolBox(services)
        current_identity.set(identity("hetzner-ops-agent"))
        server = build_server(services, default_identity=identity("hetzner-ops-agent"))
        port = free_port()
        app = http_app(services, services.settings, host="127.0.0.1", port=port)
        uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on"))
        task = asyncio.create_task(uv.serve())
        while not uv.started:
            await asyncio.sleep(0.05)
        args = {"ticket_id": str(tid)}
        try:
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
            async with Client(server) as memory, http, \
                    Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)) as remote:
                rows = await measure({
                    "service: context.bundle()": lambda: services.context.bundle(tid),
                    "tool function (bundle + fencing)": lambda: box.ticket_context(str(tid)),
                    "MCP in-memory client": lambda: memory.call_tool("ticket_context", args),
                    "MCP streamable HTTP (loopback)": lambda: remote.call_tool("ticket_context", args),
                }, calls)
        finally:
            uv.should_exit = True
            await task

    base = float(rows[0]["p50"])
    print(f"\nTool-call overhead, {calls} calls each (ticket_context on a ticket with 24 messages)")
    print(f"{'path':36} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'p50 ratio':>10}")
    for r in rows:
        print(f"{r['name']:36} {r['p50']:8.2f} {r['p99']:8.2f} {r['mean']:8.2f} {float(r['p50']) / base:9.2f}x")
        if r is not rows[0]:
            emit("tool_overhead", f"ticket_context p50, {r['name']}", float(r["p50"]), "ms",
                 baseline=str(rows[0]["name"]), baseline_value=base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = f"support_mcp_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.admin_dsn, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    info = psycopg.conninfo.conninfo_to_dict(args.admin_dsn)
    info["dbname"] = name
    try:
        asyncio.run(run(args.calls, psycopg.conninfo.make_conninfo(**info)))
    finally:
        with psycopg.connect(args.admin_dsn, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


if __name__ == "__main__":
    main()
