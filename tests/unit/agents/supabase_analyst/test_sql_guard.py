"""The read-only SQL guard on its own (no database): parse, walk, refuse with a reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from support_mcp.domain.errors import PolicyViolation
from support_mcp.policy.sql_guard import Routine, analyze, check_routines

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "supabase_analyst"
HOSTILE = yaml.safe_load((FIXTURES / "hostile_sql.yaml").read_text("utf-8"))
SAFE = yaml.safe_load((FIXTURES / "safe_sql.yaml").read_text("utf-8"))
# Refused only once the catalog is asked (volatility): covered against the lab in integration.
# Functions of guardlab (fixtures/supabase_analyst/guard_functions.sql) are judged by their bodies,
# read from the catalog: also integration only.
CATALOG_REASONS = ("VOLATILE", "unknown")


def test_corpus_has_at_least_100_hostile_statements() -> None:
    assert len(HOSTILE) >= 100


@pytest.mark.parametrize("case", [c for c in HOSTILE if c["expect"] not in CATALOG_REASONS and not c.get("catalog")
                                  and "guardlab" not in c["sql"] + c["expect"]],
                         ids=lambda c: c["sql"][:60])
def test_hostile_statement_is_refused_by_the_parser_walk(case: dict[str, str]) -> None:
    with pytest.raises(PolicyViolation) as refused:
        analyze(case["sql"])
    assert str(refused.value).startswith("SQL refused: ")
    assert re.search(case["expect"], str(refused.value)), str(refused.value)


@pytest.mark.parametrize("sql", SAFE, ids=lambda s: s[:60])
def test_plain_reads_pass_the_walk(sql: str) -> None:
    assert analyze(sql).kind in ("select", "explain", "show")


@pytest.mark.parametrize(("sql", "keyword"), [
    ("delete from public.profiles", "DELETE"), ("insert into t values (1)", "INSERT"), ("set role postgres", "SET"),
    ("copy t to stdout", "COPY"), ("begin", "a transaction command (BEGIN/COMMIT/ROLLBACK)"),
    ("vacuum t", "VACUUM/ANALYZE"), ("create table t (x int)", "CREATE TABLE"), ("truncate t", "TRUNCATE"),
    ("alter table t add column y int", "ALTER TABLE"), ("grant select on t to anon", "GRANT/REVOKE"),
])
def test_a_refusal_names_the_command_in_sql_not_a_parser_class(sql: str, keyword: str) -> None:
    with pytest.raises(PolicyViolation) as refused:
        analyze(sql)
    assert str(refused.value) == f"SQL refused: only SHOW, SELECT and EXPLAIN may run; got {keyword}"
    assert "Stmt" not in str(refused.value)


def test_show_of_a_setting_passes_show_all_and_secret_settings_do_not() -> None:
    assert analyze("SHOW search_path").kind == "show"
    for sql in ("show all", "show app.settings.jwt_secret", "select current_setting('pgrst.jwt_secret')"):
        with pytest.raises(PolicyViolation):
            analyze(sql)


def test_function_in_from_and_cte_is_collected_for_the_catalog() -> None:
    stmt = analyze("with x as (select * from public.f(1)) select g() from x, lateral h() s where a ~ b")
    names = {(r.kind, r.display()) for r in stmt.routines}
    assert {("function", "public.f"), ("function", "g"), ("function", "h"), ("operator", "~")} <= names


def test_volatile_routine_is_refused_and_stable_one_passes() -> None:
    stmt = analyze("select public.f(), auth.uid()")
    stable = {Routine("function", "public", "f"): frozenset("s"), Routine("function", "auth", "uid"): frozenset("s")}
    check_routines(stmt, stable)
    with pytest.raises(PolicyViolation, match="public.f is VOLATILE"):
        check_routines(stmt, {**stable, Routine("function", "public", "f"): frozenset("sv")})
    with pytest.raises(PolicyViolation, match="unknown to the database"):
        check_routines(stmt, {Routine("function", "auth", "uid"): frozenset("s")})


def test_allowlisted_volatile_function_passes() -> None:
    stmt = analyze("select random(), now()")
    check_routines(stmt, {})


def test_overlong_statement_is_refused() -> None:
    with pytest.raises(PolicyViolation, match="longer than"):
        analyze("select " + "1 + " * 40_000 + "1")
