"""Pure functions over what the database and Supabase return: catalog rows → lints, monitoring
and log payloads → facts, PostgreSQL error texts → the object they name.

Lint names and levels follow Supabase's own advisor (splinter) where one applies, so a finding
reads the same as the dashboard's Security Advisor; the rest carry names of our own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from support_mcp.domain.errors import InvalidInput

# splinter name -> (lint id, level); our own lints have no id. Each lint with an id flags what
# splinter's lints/<id>_<name>.sql flags, at the same level (tests/integration/supabase_analyst/
# test_advisor_parity.py holds the answers of splinter's own SQL on the same schemas).
SPLINTER: Mapping[str, tuple[str | None, str]] = {
    "multiple_permissive_policies": ("0006", "WARN"),
    "policy_exists_rls_disabled": ("0007", "ERROR"),
    "rls_enabled_no_policy": ("0008", "INFO"),
    "function_search_path_mutable": ("0011", "WARN"),
    "rls_disabled_in_public": ("0013", "ERROR"),
    "rls_references_user_metadata": ("0015", "ERROR"),
    "rls_policy_always_true": ("0024", "WARN"),
    "rls_no_policy_for_role": (None, "WARN"),
    "rls_policy_recursion": (None, "ERROR"),
    "rls_trusts_user_metadata": (None, "ERROR"),
}
# Schemas splinter never lints (system, extensions' and Supabase-managed ones).
SPLINTER_EXCLUDED_SCHEMAS: tuple[str, ...] = (
    "_timescaledb_cache", "_timescaledb_catalog", "_timescaledb_config", "_timescaledb_internal", "auth", "cron",
    "extensions", "graphql", "graphql_public", "information_schema", "net", "pgmq", "pgroonga", "pgsodium",
    "pgsodium_masks", "pgtle", "pgbouncer", "pg_catalog", "realtime", "repack", "storage", "supabase_functions",
    "supabase_migrations", "tiger", "topology", "vault",
)
API_ROLES = ("anon", "authenticated")
COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")
_POLCMD = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}


@dataclass(frozen=True)
class Lint:
    """One advisor-style finding about a table or policy; `clause` names where `expression` is."""

    code: str
    table: str
    policy: str | None = None
    role: str | None = None
    cmd: str | None = None
    roles: tuple[str, ...] = ()
    expression: str | None = None
    clause: str = "USING"
    # rls_policy_recursion: every policy of the cycle, as (table, policy, table it reads)
    cycle: tuple[tuple[str, str, str], ...] = ()

    @property
    def level(self) -> str:
        return SPLINTER[self.code][1]

    @property
    def lint_id(self) -> str | None:
        return SPLINTER[self.code][0]


@dataclass(frozen=True)
class Policy:
    schema: str
    table: str
    name: str
    permissive: bool
    cmd: str  # SELECT | INSERT | UPDATE | DELETE | ALL
    roles: tuple[str, ...]
    qual: str | None
    with_check: str | None

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"

    def applies_to(self, role: str, cmd: str) -> bool:
        return (role in self.roles or "public" in self.roles) and self.cmd in (cmd, "ALL")


@dataclass(frozen=True)
class TableInfo:
    schema: str
    table: str
    rls: bool
    grants: frozenset[str] = field(default_factory=frozenset)  # "anon:SELECT", "authenticated:UPDATE"
    kind: str = "r"  # pg_class.relkind: r (table) or p (partitioned table)
    extension: bool = False  # a member of an extension
    exposed: bool = True  # in a schema the Data API serves

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class RoleInfo:
    name: str
    bypassrls: bool


# When the cluster's roles are unknown (recorded rows): the API roles, which do not bypass RLS.
API_ROLE_INFO = tuple(RoleInfo(r, False) for r in API_ROLES)


def parse_policies(rows: Iterable[Mapping[str, Any]]) -> list[Policy]:
    """Rows of the policy catalog query (pg_policy with pg_get_expr) → Policy values."""
    out = []
    for row in rows:
        cmd = _POLCMD.get(str(row["cmd"]), str(row["cmd"]).upper())
        if cmd not in (*COMMANDS, "ALL"):
            raise InvalidInput(f"unknown policy command {row['cmd']!r}")
        out.append(Policy(schema=row["schema"], table=row["table"], name=row["policy"],
                          permissive=bool(row["permissive"]), cmd=cmd, roles=tuple(row["roles"] or ("public",)),
                          qual=row.get("qual"), with_check=row.get("with_check")))
    return out


def parse_tables(rows: Iterable[Mapping[str, Any]]) -> list[TableInfo]:
    """Rows of queries.TABLES or lint_queries.TABLES (kind, extension, exposed) → TableInfo values."""
    return [TableInfo(schema=r["schema"], table=r["table"], rls=bool(r["rls"]),
                      grants=frozenset(r.get("grants") or ()), kind=str(r.get("kind") or "r"),
                      extension=bool(r.get("extension")), exposed=bool(r.get("exposed", True))) for r in rows]


def parse_roles(rows: Iterable[Mapping[str, Any]]) -> list[RoleInfo]:
    return [RoleInfo(str(r["role"]), bool(r["bypassrls"])) for r in rows]


def lint_rls(tables: Sequence[TableInfo], policies: Sequence[Policy],
             roles: Sequence[RoleInfo] = API_ROLE_INFO) -> list[Lint]:
    """The RLS lints, in a stable order: splinter's (0006, 0007, 0008, 0013, 0015, 0024) on the
    tables outside its excluded schemas, our own on the tables of the exposed schemas."""
    by_table: dict[str, list[Policy]] = {}
    for p in policies:
        by_table.setdefault(p.qualified_table, []).append(p)
    lints: list[Lint] = []
    for t in tables:
        own = by_table.get(t.qualified, [])
        linted = t.schema not in SPLINTER_EXCLUDED_SCHEMAS
        # 0006/0007/0008 and 0024 look at plain tables only (relkind r); 0013 at plain tables in
        # the exposed schemas that anon or authenticated may read, extension members included.
        table = linted and t.kind == "r"
        if table and not t.extension and not t.rls and own:
            lints.append(Lint("policy_exists_rls_disabled", t.qualified))
        if table and not t.rls and t.exposed and {"anon:SELECT", "authenticated:SELECT"} & t.grants:
            lints.append(Lint("rls_disabled_in_public", t.qualified))
        if table and not t.extension and t.rls and not own:
            lints.append(Lint("rls_enabled_no_policy", t.qualified))
        # Ours: signed-in users may write their rows (a policy for another command) but not read
        # them — the SELECT policy is missing. Supabase grants every API role every command by
        # default, so a grant without a policy is no finding by itself (RLS denies it, by design).
        if t.exposed and t.rls and "authenticated:SELECT" in t.grants \
                and not any(p.applies_to("authenticated", "SELECT") for p in own) \
                and any(p.applies_to("authenticated", cmd) for p in own for cmd in COMMANDS if cmd != "SELECT"):
            lints.append(Lint("rls_no_policy_for_role", t.qualified, role="authenticated", cmd="SELECT"))
        for p in own:
            if table and t.rls and (always_true := always_true_clause(p)) is not None:
                clause, expression = always_true
                lints.append(Lint("rls_policy_always_true", t.qualified, policy=p.name, cmd=p.cmd, roles=p.roles,
                                  expression=expression, clause=clause))
            if linted and (metadata := jwt_user_metadata_clause(p)) is not None:
                lints.append(Lint("rls_references_user_metadata", t.qualified, policy=p.name, cmd=p.cmd,
                                  roles=p.roles, expression=metadata[1], clause=metadata[0]))
            elif t.exposed and (metadata := other_user_metadata_clause(p)) is not None:
                lints.append(Lint("rls_trusts_user_metadata", t.qualified, policy=p.name, cmd=p.cmd,
                                  roles=p.roles, expression=metadata[1], clause=metadata[0]))
        if table and not t.extension:
            lints += _multiple_permissive(t.qualified, own, roles)
    return lints


# 0024 compares the expression lower-cased, without spaces, tabs and newlines, to these.
_TRUE_TEXTS = frozenset({"true", "(true)", "1=1", "(1=1)"})


def _always_true(expression: str | None) -> bool:
    text = (expression or "").lower().replace(" ", "").replace("\n", "").replace("\t", "")
    return text in _TRUE_TEXTS


def always_true_clause(p: Policy) -> tuple[str, str | None] | None:
    """splinter 0024: a permissive policy for anon, authenticated or PUBLIC whose USING (UPDATE,
    DELETE, ALL) or WITH CHECK lets every row through. SELECT is left out on purpose: `FOR SELECT
    USING (true)` is how public read access is written. Returns (clause, expression) or None."""
    if not p.permissive or not (p.roles == ("public",) or set(API_ROLES) & set(p.roles)):
        return None
    using_true = _always_true(p.qual)
    # A missing USING on a permissive policy lets every row through, as does a missing WITH
    # CHECK on INSERT, or on UPDATE/ALL when USING is always true (it stands in for the check).
    if p.cmd in ("UPDATE", "DELETE", "ALL") and (using_true or p.qual is None):
        return "USING", p.qual
    if (_always_true(p.with_check) or (p.with_check is None and p.cmd == "INSERT")
            or (p.with_check is None and p.cmd in ("UPDATE", "ALL") and using_true)):
        return "WITH CHECK", p.with_check
    return None


# splinter 0015 matches the deparsed expression with LIKE '%auth.jwt()%user_metadata%' and
# '%current_setting(%request.jwt.claims%)%user_metadata%': case-sensitive, `_` any one character.
_JWT_USER_METADATA = re.compile(
    r"auth\.jwt\(\).*user.metadata|current.setting\(.*request\.jwt\.claims.*\).*user.metadata", re.DOTALL)
_USER_METADATA = re.compile(r"user_metadata|raw_user_meta_data", re.IGNORECASE)


def _clause_matching(p: Policy, pattern: re.Pattern[str]) -> tuple[str, str] | None:
    for clause, expression in (("USING", p.qual), ("WITH CHECK", p.with_check)):
        if expression and pattern.search(expression):
            return clause, expression
    return None


def jwt_user_metadata_clause(p: Policy) -> tuple[str, str] | None:
    """splinter 0015: the policy reads `user_metadata` from the JWT (auth.jwt() or the
    request.jwt.claims setting). Returns (clause, expression) or None."""
    return _clause_matching(p, _JWT_USER_METADATA)


def other_user_metadata_clause(p: Policy) -> tuple[str, str] | None:
    """Ours, beyond 0015: user-editable metadata reached another way (auth.users.raw_user_meta_data
    in a subquery, a claim splinter's patterns miss). Only when 0015 does not already apply."""
    return _clause_matching(p, _USER_METADATA)


_NOT_LINTED_ROLE = re.compile(r"pg..*|supabase.*admin", re.DOTALL)  # splinter: LIKE 'pg_%', 'supabase%admin'


def _multiple_permissive(table: str, policies: Sequence[Policy], roles: Sequence[RoleInfo]) -> list[Lint]:
    """splinter 0006: more than one permissive policy for one role and action; a policy TO PUBLIC
    counts for every role that does not bypass RLS (and is not pg_* or supabase*admin)."""
    lints = []
    for role in sorted(roles, key=lambda r: r.name):
        if role.bypassrls or _NOT_LINTED_ROLE.fullmatch(role.name):
            continue
        for cmd in COMMANDS:
            names = tuple(sorted(p.name for p in policies if p.permissive and p.applies_to(role.name, cmd)))
            if len(names) > 1:
                lints.append(Lint("multiple_permissive_policies", table, role=role.name, cmd=cmd, roles=names))
    return lints


def references_own_table(policy: Policy) -> bool:
    """A policy whose expression selects from its own table recurses under RLS (42P17)."""
    return reads_table(policy.qual, policy.with_check, policy.schema, policy.table)


def reads_table(qual: str | None, with_check: str | None, schema: str, table: str) -> bool:
    """Whether a policy expression (as pg_get_expr or a migration writes it) selects from
    `schema.table` directly: `FROM`/`JOIN` the table, qualified or not, quoted or not."""
    name = rf'(?:(?:"?{re.escape(schema)}"?)\s*\.\s*)?"?{re.escape(table)}"?'
    pattern = re.compile(rf"\b(?:from|join)\s+{name}(?![\w$])", re.IGNORECASE)
    return any(pattern.search(e) for e in (qual, with_check) if e)


def policy_cycles(tables: Sequence[TableInfo], policies: Sequence[Policy]) -> list[tuple[Policy, ...]]:
    """Cycles of RLS policies over tables: table A's policy reads table B whose policy reads …
    A again (a self-reference is a cycle of one). Under RLS each read applies the next table's
    policies, so every such cycle ends in 42P17. Each cycle once, as the policies along it; reads
    through SECURITY DEFINER functions do not apply RLS and are not edges (nor visible here)."""
    guarded = {t.qualified: t for t in tables if t.rls}
    edges: dict[str, list[tuple[Policy, str]]] = {}
    for p in policies:
        if p.qualified_table not in guarded:
            continue
        for target in guarded.values():
            if reads_table(p.qual, p.with_check, target.schema, target.table):
                edges.setdefault(p.qualified_table, []).append((p, target.qualified))
    cycles: dict[frozenset[tuple[str, str]], tuple[Policy, ...]] = {}

    def walk(start: str, at: str, path: tuple[Policy, ...], seen: frozenset[str]) -> None:
        for policy, target in edges.get(at, ()):
            if target == start:
                key = frozenset((q.qualified_table, q.name) for q in (*path, policy))
                cycles.setdefault(key, (*path, policy))
            elif target not in seen and target > start and len(path) < _MAX_CYCLE:
                walk(start, target, (*path, policy), seen | {target})

    for start in sorted(edges):
        walk(start, start, (), frozenset({start}))
    return list(cycles.values())


_MAX_CYCLE = 6


# --- PostgreSQL error texts ---------------------------------------------------------------------

_PERMISSION = re.compile(r"permission denied for (table|view|sequence|function|schema) (\S+)")
_RECURSION = re.compile(r'infinite recursion detected in policy for relation "([^"]+)"')


def permission_target(message: str) -> tuple[str, str] | None:
    """`permission denied for table usage_stats` → ("table", "usage_stats")."""
    m = _PERMISSION.search(message)
    return (m[1], m[2].strip('"')) if m else None


def recursion_relation(message: str) -> str | None:
    m = _RECURSION.search(message)
    return m[1] if m else None


# --- the app's monitoring snapshot and the Management API's logs -----------------------------


@dataclass(frozen=True)
class MonitoringSnapshot:
    status: str  # ok | degraded | down
    issues: tuple[str, ...]
    raw_keys: tuple[str, ...]


def parse_monitoring_snapshot(payload: Any) -> MonitoringSnapshot:
    """The JSON of the app's `getMonitoringSnapshot` endpoint: a status and failing services.

    Accepts `{"status": ..., "services": {name: {"status": ...}}}` and `{"ok": bool, ...}`."""
    if not isinstance(payload, dict):
        raise InvalidInput("monitoring snapshot is not a JSON object")
    status = payload.get("status")
    if status is None and "ok" in payload:
        status = "ok" if payload["ok"] else "degraded"
    if not isinstance(status, str):
        raise InvalidInput("monitoring snapshot has no status")
    issues = []
    services = payload.get("services") or payload.get("checks") or {}
    if isinstance(services, dict):
        for name, value in sorted(services.items()):
            state = value.get("status") if isinstance(value, dict) else value
            if str(state).lower() not in ("ok", "healthy", "up", "true"):
                issues.append(f"{name}: {state}")
    return MonitoringSnapshot(status=status.lower(), issues=tuple(issues), raw_keys=tuple(sorted(payload)))


@dataclass(frozen=True)
class LogLine:
    source: str
    timestamp: str
    level: str
    message: str


_ERROR_LEVELS = ("error", "fatal", "panic")


def parse_log_rows(source: str, payload: Any) -> list[LogLine]:
    """`GET /v1/projects/{ref}/analytics/endpoints/logs.all` → lines; `{"result": [...], "error": ...}`."""
    if not isinstance(payload, dict) or "result" not in payload:
        raise InvalidInput(f"{source} logs: expected an object with 'result'")
    if payload.get("error"):
        raise InvalidInput(f"{source} logs: {payload['error']}")
    lines = []
    for row in payload["result"] or ():
        level = str(row.get("level") or row.get("error_severity") or row.get("severity") or "").lower()
        message = _log_message(str(row.get("event_message") or row.get("msg") or ""))
        if not level and re.search(r"\b(error|fatal)\b", message, re.IGNORECASE):
            level = "error"
        lines.append(LogLine(source, str(row.get("timestamp", "")), level, message))
    return lines


def _log_message(message: str) -> str:
    """GoTrue logs JSON in event_message: keep `msg` and `error`, the parts a human reads."""
    if message.startswith("{"):
        try:
            data = json.loads(message)
        except ValueError:
            return message
        if isinstance(data, dict) and data.get("msg"):
            return " – ".join(str(data[k]) for k in ("msg", "error") if data.get(k))
    return message


def error_lines(lines: Iterable[LogLine]) -> list[LogLine]:
    return [line for line in lines if line.level in _ERROR_LEVELS]
