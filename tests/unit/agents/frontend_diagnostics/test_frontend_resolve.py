"""The case-insensitive re-resolution of an import the build could not resolve (resolve.py), on
the real layouts of both Next.js labs and on tsconfig shapes they do not have."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support_mcp.agents.frontend_diagnostics import resolve

REPO = Path(__file__).resolve().parents[4]


def _lab(tmp_path: Path, lab: str) -> Path:
    root = tmp_path / lab
    shutil.copytree(REPO / "labs" / lab / "app", root, ignore=shutil.ignore_patterns("node_modules", ".next"))
    return root


@pytest.mark.parametrize(("lab", "importer", "message", "actual"), [
    # the messages next build printed for the import_case overlays (Turbopack, Next 16.4)
    ("frontend", "app/page.tsx", "Module not found: Can't resolve './components/greeting'",
     "app/components/Greeting.tsx"),
    ("frontend_alt", "src/pages/index.tsx", "Module not found: Can't resolve '@/components/priceTag'",
     "src/components/PriceTag.tsx"),
    ("frontend_alt", "src/pages/index.tsx", "Module not found: Can't resolve '@/Components/counter'",
     "src/components/Counter.tsx"),
    ("frontend", "app/components/Greeting.tsx", "Module not found: Can't resolve '../../LIB/format'", "lib/format.js"),
])
def test_the_real_file_is_named(tmp_path: Path, lab: str, importer: str, message: str, actual: str) -> None:
    found = resolve.case_mismatch(_lab(tmp_path, lab), importer, message)
    assert found is not None and found[1] == actual


@pytest.mark.parametrize("message", [
    "Module not found: Can't resolve './components/PriceBadge'",  # really missing (missing_module)
    "Module not found: Can't resolve 'left-pad'",  # a package
    "Module not found: Can't resolve './components/Greeting'",  # exists as written: not a case fault
    "Module not found: Can't resolve '../../../../etc/passwd'",  # leaves the project
    "Parsing ecmascript source code failed",
])
def test_nothing_is_named_without_a_case_mismatch(tmp_path: Path, message: str) -> None:
    assert resolve.case_mismatch(_lab(tmp_path, "frontend"), "app/page.tsx", message) is None


def test_tsconfig_with_comments_trailing_commas_base_url_and_an_index_file(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "source" / "Widgets" / "Chart").mkdir(parents=True)
    (root / "source" / "Widgets" / "Chart" / "index.ts").write_text("export {};\n")
    (root / "tsconfig.json").write_text('{\n  // comment\n  "compilerOptions": {\n    "baseUrl": "source", /* x */\n'
                                        '    "paths": {"~w/*": ["Widgets/*"],},\n  },\n}\n')
    assert resolve.case_mismatch(root, "source/a.ts", "Can't resolve '~w/chart'") == ("~w/chart",
                                                                                       "source/Widgets/Chart/index.ts")
    assert resolve.case_mismatch(root, "source/a.ts", "Can't resolve 'widgets/chart'") == (
        "widgets/chart", "source/Widgets/Chart/index.ts")  # through baseUrl
