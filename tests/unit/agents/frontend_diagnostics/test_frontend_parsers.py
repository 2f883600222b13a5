"""Parsers over real output recorded from Next.js 16.4.6, ESLint 9 and node:test on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from support_mcp.agents.frontend_diagnostics import parsers
from support_mcp.domain.errors import InvalidInput

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "frontend_diagnostics"


def _build(name: str, code: int) -> parsers.BuildReport:
    out = FIXTURES / f"next_build_{name}.stdout.txt"
    err = FIXTURES / f"next_build_{name}.stderr.txt"
    return parsers.parse_next_build(out.read_text(), err.read_text() if err.exists() else "", code)


@pytest.mark.parametrize(("name", "expected"), [
    ("type_error", ("type_error", "app/page.tsx", 8, 9, "Type 'string' is not assignable to type 'number'.")),
    ("missing_module", ("module_not_found", "app/page.tsx", 3, 1,
                        "Module not found: Can't resolve './components/PriceBadge'")),
    ("syntax_error", ("syntax", "app/page.tsx", 11, 39, "Expected '</', got 'jsx text'")),
    ("prerender_error", ("prerender", "app/about/page.tsx", 5, 11, "About: team list missing at build time")),
])
def test_build_errors_carry_kind_file_line_and_message(name: str, expected: tuple[object, ...]) -> None:
    report = _build(name, 1)
    assert not report.succeeded
    [error] = report.errors
    assert (error.kind, error.file, error.line, error.column, error.message) == expected
    assert report.next_version == "16.4.6"


def test_successful_build_lists_routes() -> None:
    report = _build("ok", 0)
    assert report.succeeded and report.errors == ()
    assert report.routes == ("/", "/_not-found", "/api/health")


def test_failed_build_without_known_error_lines_keeps_the_tail() -> None:
    report = parsers.parse_next_build("> next build\nSomething odd happened\n", "", 1)
    assert [e.kind for e in report.errors] == ["other"]
    assert "Something odd happened" in report.errors[0].message


def test_eslint_problem_with_rule_and_relative_file() -> None:
    [problem] = parsers.parse_eslint((FIXTURES / "eslint_rules_of_hooks.stdout.txt").read_text(), "/tmp/fe-ws")
    assert (problem.file, problem.line, problem.column, problem.severity, problem.rule) == (
        "app/components/Counter.tsx", 9, 29, "error", "react-hooks/rules-of-hooks")
    assert problem.message.startswith('React Hook "useState" is called conditionally')
    assert parsers.parse_eslint((FIXTURES / "eslint_clean.stdout.txt").read_text()) == []


def test_tap_failure_with_location_and_assertion() -> None:
    report = parsers.parse_tap((FIXTURES / "node_test_failing.stdout.txt").read_text())
    assert (report.total, report.passed, report.failed) == (1, 0, 1)
    [failure] = report.failures
    assert failure.name == "formatPrice writes euros with a decimal comma"
    assert failure.location == "/tmp/fe-ws/tests/format.test.mjs:6:1"
    assert "'19,9 €'" in failure.error


def test_tap_passing_and_not_tap() -> None:
    report = parsers.parse_tap((FIXTURES / "node_test_passing.stdout.txt").read_text())
    assert (report.total, report.passed, report.failed, report.failures) == (1, 1, 0, ())
    with pytest.raises(InvalidInput):
        parsers.parse_tap("jest says hello")


def test_digest_in_page_log_and_customer_text() -> None:
    assert parsers.find_digests((FIXTURES / "page_digest.html").read_text()) == ["1661720589"]
    assert parsers.find_digests("Fehlerseite, da stand Digest: 1661720589") == ["1661720589"]


def test_server_error_traced_through_the_chunk_source_map_to_the_component() -> None:
    [error] = parsers.parse_server_errors((FIXTURES / "next_start_digest.stderr.txt").read_text())
    assert (error.message, error.digest) == ("Greeting: profile for Kundin could not be loaded", "1661720589")
    chunk, line, column = parsers.frame_location(error.frames[0]) or ("", 0, 0)
    assert chunk == ".next/server/chunks/ssr/[root-of-the-server]__092cgyh8aihep._.js"
    source_map = parsers.load_source_map((FIXTURES / "digest_chunks" / (Path(chunk).name + ".map")).read_text())
    source, src_line, _ = parsers.original_position(source_map, line, column) or ("", 0, 0)
    assert (parsers.project_path(source), src_line) == ("app/components/Greeting.tsx", 10)


def test_server_errors_in_a_pm2_log_with_timestamps_keep_their_digest_and_sqlstate() -> None:
    """Recorded: `next start` of labs/stack under PM2 (`log_date_format`), the dashboard read
    through a recursive RLS policy twice."""
    errors = parsers.parse_server_errors((FIXTURES / "pm2_next_start_timestamped.error.log").read_text())
    assert [e.digest for e in errors] == ["2952214617", "2952214617"]
    assert errors[0].message == 'infinite recursion detected in policy for relation "team_members" (SQLSTATE 42P17)'
    assert [parsers.frame_location(f) for f in errors[0].frames] == [
        (".next/server/chunks/ssr/[root-of-the-server]__1vdzg24opon_4._.js", 1, 3421),
        (".next/server/chunks/ssr/[root-of-the-server]__1vdzg24opon_4._.js", 1, 1971)]


def test_source_map_that_is_not_json_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        parsers.load_source_map("{nope")


# --- test runners other than node:test (recorded: vitest 3 on labs/frontend_alt, jest 29) ---------


def test_vitest_failures_carry_the_test_path_location_and_assertion() -> None:
    report = parsers.parse_test_output((FIXTURES / "vitest_failing.txt").read_text())
    assert (report.total, report.passed, report.failed) == (2, 0, 2)
    first = report.failures[0]
    assert first.name == "formatPrice > writes euros with a decimal comma"
    assert first.location == "src/lib/price.test.ts:7:31"
    assert first.error == "AssertionError: expected '12.50 €' to be '12,50 €' // Object.is equality"


def test_vitest_passing_run_has_totals_and_no_failures() -> None:
    report = parsers.parse_test_output((FIXTURES / "vitest_passing.txt").read_text())
    assert (report.total, report.passed, report.failed, report.failures) == (2, 2, 0, ())


def test_jest_failures_carry_the_test_path_location_and_assertion() -> None:
    report = parsers.parse_test_output((FIXTURES / "jest_failing.txt").read_text())
    assert (report.total, report.passed, report.failed) == (2, 1, 1)
    [failure] = report.failures
    assert failure.name == "formatPrice > writes euros with a decimal comma"
    assert failure.location == "src/price.test.js:5:31" and failure.error.startswith("expect(received).toBe")


def test_node_test_output_is_still_read_as_tap() -> None:
    tap = parsers.parse_test_output((FIXTURES / "node_test_failing.stdout.txt").read_text())
    assert tap.failed >= 1 and tap.failures


def test_output_of_no_known_runner_is_refused() -> None:
    with pytest.raises(InvalidInput, match="neither TAP"):
        parsers.parse_test_output("mocha says: 3 passing\n")
