"""One line per headline figure, for `benchmarks/run_all` to collect into one table.

Each benchmark prints its own human table and, for the figures that matter, a line
`BENCH {"benchmark": …, "figure": …, "value": …, "unit": …, "baseline": …, "ratio": …}`: the value,
what it is compared with in the same run (the baseline's label and value), and their ratio.
"""

from __future__ import annotations

import json

PREFIX = "BENCH "


def emit(benchmark: str, figure: str, value: float, unit: str, *,
         baseline: str | None = None, baseline_value: float | None = None) -> None:
    ratio = value / baseline_value if baseline_value else None
    print(PREFIX + json.dumps({
        "benchmark": benchmark, "figure": figure, "value": round(value, 4), "unit": unit,
        "baseline": baseline, "baseline_value": None if baseline_value is None else round(baseline_value, 4),
        "ratio": None if ratio is None else round(ratio, 3),
    }, ensure_ascii=False), flush=True)
