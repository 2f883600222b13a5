"""The read-only SQL guard: every statement an agent or an MCP client sends is parsed with
PostgreSQL's own parser (pglast) and every node of the tree is walked before it may run.

A statement passes only when it is one SELECT (or a plain EXPLAIN of one) that only reads: no
data-modifying CTE, no SELECT INTO, no row locks, no secret catalogs, and only functions and
operators PostgreSQL marks non-volatile (or the allowlist names). Volatility lives in the
target's catalog, so `analyze` collects the routines and `check_routines` judges them against a
lookup the SQL executor provides. The executor then runs it in `BEGIN READ ONLY` with timeouts:
the guard is the first wall, the read-only transaction the second.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from pglast import ast, parse_sql
from pglast.enums.parsenodes import A_Expr_Kind
from pglast.enums.primnodes import SubLinkType
from pglast.parser import ParseError

from support_mcp.domain.errors import PolicyViolation
from support_mcp.domain.secrets import is_secret_column

MAX_STATEMENT_CHARS = 100_000
_MAX_DEPTH = 400

# Never callable, whatever the catalog says: they read the server's files, reach other servers,
# execute SQL text of their own, sleep, signal backends, or change settings and locks.
DENIED_FUNCTIONS = frozenset({
    "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_ls_logdir", "pg_ls_waldir",
    "pg_ls_tmpdir", "pg_ls_archive_statusdir", "lo_import", "lo_export", "lo_get", "lo_open", "lo_creat",
    "lo_create", "lo_unlink", "lo_put", "lo_from_bytea", "loread", "lowrite",
    "dblink", "dblink_exec", "dblink_connect", "dblink_connect_u", "dblink_send_query", "dblink_open",
    "dblink_fetch", "dblink_get_result", "pg_sleep", "pg_sleep_for", "pg_sleep_until",
    "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "set_config",
    "pg_advisory_lock", "pg_advisory_xact_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock",
    "pg_try_advisory_xact_lock", "pg_notify", "query_to_xml", "query_to_xmlschema",
    "query_to_xml_and_xmlschema", "cursor_to_xml", "cursor_to_xmlschema", "ts_stat", "ts_rewrite",
    "database_to_xml", "database_to_xml_and_xmlschema", "schema_to_xml", "schema_to_xml_and_xmlschema",
    "table_to_xml", "table_to_xml_and_xmlschema", "pg_logical_emit_message", "pg_switch_wal",
    "pg_create_restore_point", "pg_promote", "nextval", "setval", "currval", "lastval",
    "txid_current", "pg_current_xact_id", "http_get", "http_post", "http", "net.http_get", "net.http_post",
})
# Secret or server-side catalogs: password hashes, user mappings with passwords, config files.
DENIED_RELATIONS = frozenset({
    "pg_authid", "pg_shadow", "pg_user_mapping", "pg_user_mappings", "pg_hba_file_rules",
    "pg_ident_file_mappings", "pg_file_settings", "pg_largeobject",
})
# Volatile by PostgreSQL's marking, but they only read: safe to allow by name.
DEFAULT_ALLOWED_FUNCTIONS = frozenset({
    "random", "now", "clock_timestamp", "statement_timestamp", "timeofday", "gen_random_uuid",
    "pg_backend_pid", "pg_current_wal_lsn", "pg_total_relation_size", "pg_relation_size",
    "pg_database_size", "pg_size_pretty", "pg_table_size", "pg_indexes_size",
    # who blocks whom, and the server's state: volatile by marking, reads only
    "pg_blocking_pids", "pg_safe_snapshot_blocking_pids", "pg_is_in_recovery", "pg_last_xact_replay_timestamp",
    "pg_last_wal_receive_lsn", "pg_last_wal_replay_lsn", "pg_stat_statements", "pg_stat_statements_info",
})


@dataclass(frozen=True)
class Routine:
    """A function or operator the statement calls; `schema` is None when unqualified."""

    kind: str  # "function" | "operator"
    schema: str | None
    name: str

    def display(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True)
class GuardedStatement:
    """A statement that passed the syntactic checks, with the routines left to judge."""

    sql: str
    kind: str  # "select" | "explain" | "show"
    routines: frozenset[Routine] = field(default_factory=frozenset)
    relations: frozenset[str] = field(default_factory=frozenset)


# Statement nodes that change data, schema, session or transaction state: refused anywhere.
_WRITING_NODES: Mapping[type, str] = {
    ast.InsertStmt: "INSERT", ast.UpdateStmt: "UPDATE", ast.DeleteStmt: "DELETE", ast.MergeStmt: "MERGE",
}


def _fail(reason: str) -> PolicyViolation:
    return PolicyViolation(f"SQL refused: {reason}")


def analyze(sql: str) -> GuardedStatement:
    """Parse and walk `sql`; raise PolicyViolation with a clear reason unless it only reads.

    Functions and operators are collected, not yet judged: see `check_routines`."""
    if not isinstance(sql, str) or not sql.strip():
        raise _fail("empty statement")
    if len(sql) > MAX_STATEMENT_CHARS:
        raise _fail(f"statement longer than {MAX_STATEMENT_CHARS} characters")
    if "\x00" in sql:
        raise _fail("statement contains a NUL byte")
    try:
        statements = parse_sql(sql)
    except ParseError as exc:
        raise _fail(f"not valid PostgreSQL: {exc}") from None
    except RecursionError:
        raise _fail("statement nested too deeply") from None
    if len(statements) != 1:
        raise _fail(f"exactly one statement allowed, got {len(statements)} (no `;`-separated batches)")
    stmt = statements[0].stmt
    if isinstance(stmt, ast.VariableShowStmt):  # SHOW a setting: reads only
        _check_setting_name(stmt.name or "")
        return GuardedStatement(sql=sql, kind="show")
    kind = "select"
    if isinstance(stmt, ast.ExplainStmt):
        options = {(o.defname or "").lower(): o for o in (stmt.options or ())}
        if "analyze" in options and _truthy(options["analyze"]):
            raise _fail("EXPLAIN ANALYZE executes the statement; use plain EXPLAIN")
        kind, stmt = "explain", stmt.query
    if not isinstance(stmt, ast.SelectStmt):
        raise _fail(f"only SHOW, SELECT and EXPLAIN may run; got {statement_keyword(stmt)}")
    routines: set[Routine] = set()
    relations: set[str] = set()
    walk_reads(stmt, routines, relations)
    return GuardedStatement(sql=sql, kind=kind, routines=frozenset(routines), relations=frozenset(relations))


def _check_setting_name(name: str) -> None:
    if name.lower() == "all":
        raise _fail("SHOW ALL lists custom settings, which may hold secrets (app.settings.jwt_secret); "
                    "SHOW one setting by name")
    # request.jwt.claim(s).* are the signed-in user's claims for this request (PostgREST), no secret
    if is_secret_column(name) and not name.lower().startswith("request."):
        raise _fail(f"setting {name} is named like a secret and is never shown")


def walk_reads(stmt: object, routines: set[Routine], relations: set[str]) -> None:
    """Walk a SELECT's tree: refuse anything that writes or is never allowed; collect the routines
    it calls and the relations it reads (also used for the bodies of user functions)."""
    for node in _walk(stmt, 0):
        _check_node(node, routines, relations)


def _truthy(option: ast.DefElem) -> bool:
    arg = option.arg
    if arg is None:
        return True
    value = getattr(arg, "sval", None) or getattr(arg, "boolval", None) or getattr(arg, "ival", None)
    return str(getattr(value, "boolval", value)).lower() not in ("false", "off", "0")


# The SQL a user wrote, by the parser's node class: a refusal names the command, not the class.
_KEYWORDS: Mapping[str, str] = {
    "InsertStmt": "INSERT", "UpdateStmt": "UPDATE", "DeleteStmt": "DELETE", "MergeStmt": "MERGE",
    "TransactionStmt": "a transaction command (BEGIN/COMMIT/ROLLBACK)", "DoStmt": "DO", "CopyStmt": "COPY",
    "VariableSetStmt": "SET", "CallStmt": "CALL", "CreateStmt": "CREATE TABLE", "CreateTableAsStmt": "CREATE TABLE AS",
    "ViewStmt": "CREATE VIEW", "CreateFunctionStmt": "CREATE FUNCTION", "IndexStmt": "CREATE INDEX",
    "DropStmt": "DROP", "TruncateStmt": "TRUNCATE", "AlterTableStmt": "ALTER TABLE", "RenameStmt": "ALTER … RENAME",
    "GrantStmt": "GRANT/REVOKE", "GrantRoleStmt": "GRANT/REVOKE a role", "CreateRoleStmt": "CREATE ROLE",
    "AlterRoleStmt": "ALTER ROLE", "DropRoleStmt": "DROP ROLE", "VacuumStmt": "VACUUM/ANALYZE",
    "ClusterStmt": "CLUSTER", "ReindexStmt": "REINDEX", "LockStmt": "LOCK", "ListenStmt": "LISTEN",
    "NotifyStmt": "NOTIFY", "UnlistenStmt": "UNLISTEN", "PrepareStmt": "PREPARE", "ExecuteStmt": "EXECUTE",
    "DeallocateStmt": "DEALLOCATE", "DeclareCursorStmt": "DECLARE CURSOR", "FetchStmt": "FETCH",
    "ClosePortalStmt": "CLOSE", "LoadStmt": "LOAD", "CheckPointStmt": "CHECKPOINT", "DiscardStmt": "DISCARD",
    "CreateExtensionStmt": "CREATE EXTENSION", "AlterSystemStmt": "ALTER SYSTEM", "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE", "CreateSchemaStmt": "CREATE SCHEMA", "CommentStmt": "COMMENT",
    "SecLabelStmt": "SECURITY LABEL", "CreatePolicyStmt": "CREATE POLICY", "AlterPolicyStmt": "ALTER POLICY",
    "CreateTrigStmt": "CREATE TRIGGER", "RuleStmt": "CREATE RULE", "RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW",
    "ReassignOwnedStmt": "REASSIGN OWNED", "DropOwnedStmt": "DROP OWNED", "AlterOwnerStmt": "ALTER … OWNER",
    "CreateSeqStmt": "CREATE SEQUENCE", "AlterSeqStmt": "ALTER SEQUENCE", "VariableShowStmt": "SHOW",
    "ExplainStmt": "EXPLAIN", "SelectStmt": "SELECT", "ConstraintsSetStmt": "SET CONSTRAINTS",
    "AlterDatabaseSetStmt": "ALTER DATABASE", "AlterFunctionStmt": "ALTER FUNCTION",
    "CreateEventTrigStmt": "CREATE EVENT TRIGGER", "ImportForeignSchemaStmt": "IMPORT FOREIGN SCHEMA",
    "CreateForeignServerStmt": "CREATE SERVER", "CreateUserMappingStmt": "CREATE USER MAPPING",
    "CreateSubscriptionStmt": "CREATE SUBSCRIPTION", "CreatePublicationStmt": "CREATE PUBLICATION",
}


def statement_keyword(node: object) -> str:
    """The SQL command a parsed statement is, in the words a user wrote it with."""
    name = type(node).__name__
    if name in _KEYWORDS:
        return _KEYWORDS[name]
    words = re.findall(r"[A-Z][a-z]*", name.removesuffix("Stmt"))
    return " ".join(w.upper() for w in words) or "this statement"


def _walk(node: object, depth: int) -> Iterator[ast.Node]:
    if depth > _MAX_DEPTH:
        raise _fail("statement nested too deeply")
    if isinstance(node, list | tuple):
        for item in node:
            yield from _walk(item, depth + 1)
    elif isinstance(node, ast.Node):
        yield node
        for attr in node.__slots__:
            child = getattr(node, attr, None)
            if isinstance(child, ast.Node | list | tuple):
                yield from _walk(child, depth + 1)


def _names(items: object) -> list[str]:
    return [getattr(i, "sval", "") for i in (items or ())]  # type: ignore[attr-defined]


_BETWEEN_KINDS = frozenset({
    A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_NOT_BETWEEN,
    A_Expr_Kind.AEXPR_BETWEEN_SYM, A_Expr_Kind.AEXPR_NOT_BETWEEN_SYM,
})


def _check_node(node: ast.Node, routines: set[Routine], relations: set[str]) -> None:
    for node_type, verb in _WRITING_NODES.items():
        if isinstance(node, node_type):
            raise _fail(f"{verb} is not allowed (also not inside a WITH clause)")
    if isinstance(node, ast.SelectStmt):
        if node.intoClause is not None:
            raise _fail("SELECT INTO creates a table")
        if node.lockingClause:
            raise _fail("FOR UPDATE/SHARE takes row locks")
    elif isinstance(node, ast.FuncCall):
        parts = _names(node.funcname)
        # the parser folded unquoted names to lower case already; a quoted name keeps its case
        name = parts[-1]
        schema = parts[-2] if len(parts) > 1 else None
        if name.lower() in DENIED_FUNCTIONS or ".".join(parts).lower() in DENIED_FUNCTIONS:
            raise _fail(f"function {'.'.join(parts)}() is never allowed")
        if name == "current_setting" and node.args:
            setting = getattr(getattr(node.args[0], "val", None), "sval", None)
            if setting is not None:
                _check_setting_name(setting)
        routines.add(Routine("function", schema, name))
    elif isinstance(node, ast.A_Expr):
        parts = _names(node.name)
        schema = parts[-2].lower() if len(parts) > 1 else None
        if node.kind in _BETWEEN_KINDS:
            # BETWEEN is written with a keyword as its name; it runs >= and <=.
            routines.update(Routine("operator", schema, op) for op in (">=", "<="))
        elif parts:
            routines.add(Routine("operator", schema, parts[-1]))
    elif isinstance(node, ast.RangeVar):
        rel = (node.relname or "").lower()
        if rel in DENIED_RELATIONS:
            raise _fail(f"relation {rel} holds secrets and is never readable")
        relations.add(f"{node.schemaname}.{rel}" if node.schemaname else rel)
    elif isinstance(node, ast.ResTarget) and node.val is not None and not isinstance(node.val, ast.ColumnRef):
        _check_secret_expression(node.val)
    elif isinstance(node, ast.RangeTableSample):
        raise _fail("TABLESAMPLE is not allowed")
    elif isinstance(node, ast.CommonTableExpr) and not isinstance(node.ctequery, ast.SelectStmt):
        verb = _WRITING_NODES.get(type(node.ctequery), type(node.ctequery).__name__)
        raise _fail(f"{verb} inside a WITH clause is not allowed (a WITH clause may only contain SELECT)")


# Functions of a secret column that tell nothing of its value.
_VALUE_FREE_FUNCTIONS = frozenset({"count", "length", "char_length", "octet_length", "bit_length"})


def _check_secret_expression(expression: object) -> None:
    """A selected expression may not carry a secret column's value out of the executor's column
    masking (`string_agg(token, ',')`, `upper(encrypted_password)`, `(select token …)`); tests
    that yield no value (IS NULL, comparisons, count(), length(), FILTER) are fine."""
    stack = [expression]
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
            continue
        if not isinstance(node, ast.Node) or isinstance(node, ast.NullTest | ast.BooleanTest):
            continue
        if isinstance(node, ast.A_Expr) and node.kind != A_Expr_Kind.AEXPR_OP or \
                isinstance(node, ast.A_Expr) and _names(node.name)[-1:] in (["="], ["<>"], ["!="], ["<"], [">"],
                                                                       ["<="], [">="], ["~~"], ["!~~"]):
            continue
        if isinstance(node, ast.FuncCall) and _names(node.funcname)[-1].lower() in _VALUE_FREE_FUNCTIONS:
            continue
        if isinstance(node, ast.SubLink) and node.subLinkType != SubLinkType.EXPR_SUBLINK and \
                node.subLinkType != SubLinkType.ARRAY_SUBLINK:
            continue
        if isinstance(node, ast.ColumnRef):
            fields = [getattr(f, "sval", None) for f in node.fields or ()]
            name = fields[-1] if fields else None
            if isinstance(name, str) and is_secret_column(name):
                raise _fail(f"column {name} holds secrets: select it as it is (its value is masked), not inside an "
                            "expression")
            continue
        if isinstance(node, ast.FuncCall) and node.agg_filter is not None:
            stack.extend(a for a in (node.args, node.agg_order) if a)
            continue
        for attr in node.__slots__:
            child = getattr(node, attr, None)
            if isinstance(child, ast.Node | list | tuple):
                stack.append(child)


# (kind, schema or None, name) -> set of volatility letters of every candidate ('i', 's', 'v')
VolatilityLookup = Mapping[Routine, frozenset[str]]


def check_routines(
    statement: GuardedStatement,
    volatility: VolatilityLookup,
    allowed: frozenset[str] = DEFAULT_ALLOWED_FUNCTIONS,
) -> None:
    """Refuse the statement unless every routine it calls is non-volatile or allowlisted.

    Unqualified names are judged over every candidate the catalog has (any schema), so an
    overload or a same-named function earlier in the search_path cannot slip through."""
    for routine in sorted(statement.routines, key=lambda r: (r.kind, r.display())):
        if routine.kind == "function" and (routine.name in allowed or routine.display() in allowed):
            continue
        marks = volatility.get(routine)
        if marks is None or not marks:
            raise _fail(f"{routine.kind} {routine.display()} is unknown to the database")
        if "v" in marks:
            raise _fail(f"{routine.kind} {routine.display()} is VOLATILE (may write or have side effects)")
