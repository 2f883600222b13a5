"""What a frontend diagnose costs beyond the build itself, and how that grows with the app.

For each app size (the lab app plus N generated pages) the lab is deployed and served by
`next start`; then, on a fresh workspace each time, we time `npm run build` alone and the whole
check set (build, lint, test, digest, CSP, assets, browser smoke test). Prints one row per size:
build seconds, diagnose seconds, and their ratio.

    .venv/bin/python benchmarks/frontend_diagnose.py --sizes 0 20
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from report import emit  # benchmarks/report.py, beside this script (sys.path[0])

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from integration.frontend_diagnostics.frontend_lab import context, scenario  # noqa: E402
from support_mcp.agents.frontend_diagnostics.checks import frontend_checks  # noqa: E402
from support_mcp.agents.frontend_diagnostics.session import FrontendSession, workspace_path  # noqa: E402
from support_mcp.domain.targets import Targets  # noqa: E402
from support_mcp.executors.local import LocalExecutor  # noqa: E402
from support_mcp.policy import npm_commands  # noqa: E402

PAGE = """export default function Page{n}() {{
  const items: string[] = [{items}];
  return <ul>{{items.map((i) => <li key={{i}}>{{i}}</li>)}}</ul>;
}}
"""


def grow(project: Path, pages: int) -> None:
    for n in range(pages):
        page = project / "app" / f"generated-{n}" / "page.tsx"
        page.parent.mkdir(parents=True)
        page.write_text(PAGE.format(n=n, items=", ".join(f'"item {n}.{i}"' for i in range(20))))


async def measure(pages: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="frontend-bench-") as tmp, \
            scenario(Path(tmp), None, deployed=True, grow=lambda p: grow(p, pages)) as served:
        target = served.target()
        ws = workspace_path(target)
        ws.mkdir(parents=True)
        executor = LocalExecutor()
        for op in (npm_commands.sync_workspace(str(served.source), str(ws)),
                   npm_commands.link_node_modules(str(served.source / "node_modules"), str(ws / "node_modules"))):
            await executor.run(op.argv, timeout=op.timeout_s, max_output_bytes=1 << 20)
        op = npm_commands.npm_run("build", str(ws), {"build"})
        start = time.monotonic()
        await executor.run(op.argv, timeout=op.timeout_s, max_output_bytes=1 << 20)
        build_s = time.monotonic() - start
        # a fresh workspace for the diagnose, so that it pays for its own (non-incremental) build
        fresh = replace(target, workspace_dir=Path(tmp) / "ws2")
        ctx, _ = context(Targets(frontend=fresh))
        start = time.monotonic()
        await asyncio.gather(*(check.run(ctx) for check in frontend_checks(FrontendSession(fresh))))
        diagnose_s = time.monotonic() - start
    return build_s, diagnose_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 20])
    args = parser.parse_args()
    print(f"{'pages':>6} {'build s':>8} {'diagnose s':>11} {'ratio':>6}")
    for pages in args.sizes:
        build_s, diagnose_s = asyncio.run(measure(pages))
        print(f"{pages + 2:>6} {build_s:>8.1f} {diagnose_s:>11.1f} {diagnose_s / build_s:>6.2f}")
        emit("frontend_diagnose", f"whole diagnose, {pages + 2} pages", diagnose_s, "s",
             baseline="npm run build alone", baseline_value=build_s)


if __name__ == "__main__":
    main()
