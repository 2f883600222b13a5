"""What a person waits for when a command starts: whole processes, timed from spawn to exit,
against `python -c pass` measured in the same run (the interpreter's own start).

- `support-mcp --help` (no database, nothing of the services imported);
- `support-mcp kb search <query>` on a throwaway database with the playbook synced;
- `python -c "import support_mcp.cli.app"` (what every command imports first).

Prints the median and the fastest of N runs per command and the ratio of each median to the
baseline's. Goals of issue 12 on this machine: `--help` ≤ 0.3 s, `kb search` ≤ 0.5 s.

    .venv/bin/python benchmarks/cli_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
from report import emit  # benchmarks/report.py, beside this script (sys.path[0])

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
VENV_BIN = Path(sys.executable).parent


def timed(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
        samples.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {result.returncode}: {result.stderr[-500:]}")
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--admin-dsn", default=ADMIN_DSN)
    args = parser.parse_args()
    name = f"support_mcp_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.admin_dsn, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    info = psycopg.conninfo.conninfo_to_dict(args.admin_dsn)
    info["dbname"] = name
    env = {**os.environ, "SUPPORT_MCP_DATABASE_URL": psycopg.conninfo.make_conninfo(**info)}
    cli = str(VENV_BIN / "support-mcp")
    try:
        subprocess.run([cli, "kb", "sync"], env=env, capture_output=True, check=True, timeout=300)  # migrate + sync
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"]),
            ("import support_mcp.cli.app", [sys.executable, "-c", "import support_mcp.cli.app"]),
            ("support-mcp --help", [cli, "--help"]),
            ("support-mcp kb search", [cli, "kb", "search", "PM2 Neustart Schleife"]),
        ]
        results = [(label, timed(argv, env, args.runs)) for label, argv in rows]
    finally:
        with psycopg.connect(args.admin_dsn, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
    base = statistics.median(results[0][1])
    print(f"{'command':32} {'median s':>9} {'fastest s':>10} {'× python -c pass':>17}")
    for label, samples in results:
        median = statistics.median(samples)
        print(f"{label:32} {median:9.3f} {min(samples):10.3f} {median / base:17.1f}")
        if label != "python -c pass":
            emit("cli_start", label, median, "s", baseline="python -c pass", baseline_value=base)
    print(f"({args.runs} runs each, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
