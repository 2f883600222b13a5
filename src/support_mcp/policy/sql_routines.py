"""Judging a user function by what its body does, not by how it is labelled.

PostgreSQL lets anyone mark a function STABLE whose body calls `set_config(…, false)` or
`dblink_exec(…)`; a wrapper like that once wrote to a database through `SELECT wrapper()` (dblink
opens its own connection, so READ ONLY does not stop it). So a function outside the core catalog
and outside installed extensions is allowed only when its body — SQL or PL/pgSQL, parsed with
pglast — passes the same walk as a statement: only reads, no denied function, no dynamic SQL, no
transaction control. The routines a body calls are judged the same way in turn (the caller bounds
depth and count). Anything that cannot be read (C, plpython, a body that does not parse) is
refused with the function named.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pglast import ast, parse_plpgsql, parse_sql
from pglast.parser import ParseError

from support_mcp.domain.errors import PolicyViolation
from support_mcp.policy.sql_guard import Routine, statement_keyword, walk_reads

# PL/pgSQL statements that run SQL text built at run time, end the transaction or call a procedure.
_REFUSED_PLPGSQL = {
    "PLpgSQL_stmt_dynexecute": "runs dynamic SQL (EXECUTE)",
    "PLpgSQL_stmt_dynfors": "runs dynamic SQL (FOR … IN EXECUTE)",
    "PLpgSQL_stmt_commit": "ends the transaction (COMMIT)",
    "PLpgSQL_stmt_rollback": "ends the transaction (ROLLBACK)",
    "PLpgSQL_stmt_call": "calls a procedure (CALL)",
}
_ASSIGNMENT = re.compile(r"^\s*[^:=]+?\s*:?=\s*", re.DOTALL)
# parseMode of a PLpgSQL_expr (PostgreSQL's RawParseMode): 0 a whole statement, 2 an expression,
# 3-5 an assignment "target := expression".
_EXPRESSION_MODES = frozenset({1, 2})
_ASSIGNMENT_MODES = frozenset({3, 4, 5})


@dataclass(frozen=True)
class BodyReads:
    """What a function body calls and reads, once it passed the walk."""

    routines: frozenset[Routine]
    relations: frozenset[str]


class BodyRefused(PolicyViolation):
    """A function body that does more than read."""


def refuse(function: str, reason: str) -> BodyRefused:
    return BodyRefused(f"SQL refused: function {function}() {reason}")


@lru_cache(maxsize=1024)
def judge_body(function: str, language: str, source: str, definition: str) -> BodyReads:
    """Walk a function's body; raise BodyRefused naming `function` unless it only reads.

    `source` is pg_proc.prosrc, `definition` pg_get_functiondef (needed for PL/pgSQL and for
    SQL bodies written as BEGIN ATOMIC)."""
    try:
        if language == "sql":
            statements = _sql_body(function, source, definition)
        elif language == "plpgsql":
            statements = list(_plpgsql_statements(function, definition))
        else:
            raise refuse(function, f"is written in {language}; only SQL and PL/pgSQL bodies can be checked")
    except (ParseError, RecursionError, ValueError) as exc:
        raise refuse(function, f"has a body that cannot be checked ({' '.join(str(exc).split())[:120]})") from None
    return _reads(statements, f"in function {function}()", BodyRefused)


@lru_cache(maxsize=1024)
def judge_query(relation: str, query: str) -> BodyReads:
    """Walk a view's definition or a policy's expression (as `SELECT <expr>`) of `relation`."""
    try:
        statements = [raw.stmt for raw in parse_sql(query)]
    except (ParseError, RecursionError) as exc:
        raise PolicyViolation(f"SQL refused: {relation} cannot be checked ({' '.join(str(exc).split())[:120]})") \
            from None
    for statement in statements:
        if not isinstance(statement, ast.SelectStmt):
            raise PolicyViolation(f"SQL refused: {relation} runs {statement_keyword(statement)}")
    return _reads(statements, f"reading {relation}", PolicyViolation)


def _reads(statements: list[Any], where: str, error: type[PolicyViolation]) -> BodyReads:
    """The routines and relations the statements read; a refusal says `where` it was found."""
    routines: set[Routine] = set()
    relations: set[str] = set()
    for statement in statements:
        try:
            walk_reads(statement, routines, relations)
        except PolicyViolation as exc:
            raise error(f"SQL refused: {where}: {str(exc).removeprefix('SQL refused: ')}") from None
    return BodyReads(frozenset(routines), frozenset(relations))


def _sql_body(function: str, source: str, definition: str) -> list[Any]:
    if source.strip():
        raws = [raw.stmt for raw in parse_sql(source)]
    else:  # BEGIN ATOMIC … END: the body is in the definition only
        create = parse_sql(definition)[0].stmt
        body = getattr(create, "sql_body", None)
        raws = list(_flatten(body))
    return [_must_read(function, stmt) for stmt in raws]


def _flatten(node: object) -> Iterator[Any]:
    if isinstance(node, list | tuple):
        for item in node:
            yield from _flatten(item)
    elif node is not None:
        yield node


def _must_read(function: str, stmt: Any) -> Any:
    if isinstance(stmt, ast.SelectStmt):
        return stmt
    raise refuse(function, f"runs {statement_keyword(stmt)}, which may write")


def _plpgsql_statements(function: str, definition: str) -> Iterator[Any]:
    tree = parse_plpgsql(definition)
    for kind, node in _plpgsql_nodes(tree):
        if kind in _REFUSED_PLPGSQL:
            raise refuse(function, _REFUSED_PLPGSQL[kind])
        if kind == "PLpgSQL_expr":
            yield from _expression(function, node)


def _plpgsql_nodes(tree: object) -> Iterator[tuple[str, dict[str, Any]]]:
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, dict) and key.startswith("PLpgSQL_"):
                    yield key, value
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)


def _expression(function: str, node: dict[str, Any]) -> Iterator[Any]:
    query = str(node.get("query", ""))
    mode = int(node.get("parseMode", 0))
    if mode in _ASSIGNMENT_MODES:
        query = "SELECT " + _ASSIGNMENT.sub("", query, count=1)
    elif mode in _EXPRESSION_MODES:
        query = "SELECT " + query
    for raw in parse_sql(query):
        yield _must_read(function, raw.stmt)
