"""Benchmark the hetzner-ops diagnose over SSH: all probes concurrently on one connection against
the same probes one by one, and the cost of setting up the connection.

    python benchmarks/hetzner_diagnose.py [--rounds 10]

Starts the host lab of the tests (tests/helpers/hetzner_lab.py: sshd + PM2 + Caddy on loopback;
install with scripts/labs/hetzner, run as root), builds the agent's checks for its HostTarget
(host basics + PM2, logs, journal, port, Caddy, HTTP, firewall, deploy age) and times, per round:
- concurrent: every check at once (asyncio.gather) over one warm connection, as the runner does;
- sequential: the same checks one after the other over the same connection;
- connect: a new SSH connection (TCP + key exchange + key auth) then `true`.
Prints medians, the ratio sequential/concurrent and the number of commands per diagnose.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time
from pathlib import Path

from report import emit  # benchmarks/report.py, beside this script (sys.path[0])

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers.hetzner_lab import HetznerLab, check_context, start_lab  # noqa: E402
from support_mcp.agents.registry import checks_for  # noqa: E402
from support_mcp.domain.targets import Targets  # noqa: E402


async def measure(lab: HetznerLab, rounds: int) -> dict[str, list[float]]:
    checks = checks_for("hetzner-ops-agent", Targets(hosts=(lab.host_target(),)))
    executor = lab.executor()
    times: dict[str, list[float]] = {"concurrent": [], "sequential": [], "connect": [], "commands": []}
    try:
        await executor.run(["true"], timeout=10, max_output_bytes=100)  # warm the connection
        for _ in range(rounds):
            ctx, recorder = check_context(executor)
            start = time.perf_counter()
            await asyncio.gather(*(c.run(ctx) for c in checks))
            times["concurrent"].append(time.perf_counter() - start)
            times["commands"].append(len(recorder.commands))
            ctx, _ = check_context(executor)
            start = time.perf_counter()
            for check in checks:
                await check.run(ctx)
            times["sequential"].append(time.perf_counter() - start)
            fresh = lab.executor()
            start = time.perf_counter()
            await fresh.run(["true"], timeout=10, max_output_bytes=100)
            times["connect"].append(time.perf_counter() - start)
            await fresh.close()
    finally:
        await executor.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    lab = start_lab()
    try:
        times = asyncio.run(measure(lab, args.rounds))
    finally:
        lab.stop()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"hetzner diagnose over SSH · {platform.node()} · {platform.processor() or platform.machine()} · "
          f"{args.rounds} rounds · {int(med['commands'])} commands per diagnose")
    print(f"  concurrent (one connection): {med['concurrent'] * 1000:8.1f} ms median")
    print(f"  sequential (one connection): {med['sequential'] * 1000:8.1f} ms median")
    print(f"  ratio sequential/concurrent: {med['sequential'] / med['concurrent']:8.2f}x")
    print(f"  connection set-up + `true`:  {med['connect'] * 1000:8.1f} ms median")
    emit("hetzner_diagnose", "diagnose, checks concurrent on one SSH connection", med["concurrent"] * 1000, "ms",
         baseline="same checks one by one", baseline_value=med["sequential"] * 1000)


if __name__ == "__main__":
    main()
