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

# splinter name -> (lint id, level); our own lints have no id.
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
}
API_ROLES = ("anon", "authenticated")
COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")
_POLCMD = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}


@dataclass(frozen=True)
class Lint:
    """One advisor-style finding about a table or policy."""

    code: str
    table: str
    policy: str | None = None
    role: str | None = None
    cmd: str | None = None
    roles: tuple[str, ...] = ()
    expression: str | None = None

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

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


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
    return [TableInfo(schema=r["schema"], table=r["table"], rls=bool(r["rls"]),
                      grants=frozenset(r.get("grants") or ())) for r in rows]


_ALWAYS_TRUE = re.compile(r"^\(*\s*(true|1\s*=\s*1)\s*\)*$", re.IGNORECASE)
_USER_METADATA = re.compile(r"user_metadata|raw_user_meta_data", re.IGNORECASE)


def lint_rls(tables: Sequence[TableInfo], policies: Sequence[Policy]) -> list[Lint]:
    """The RLS lints for tables in exposed schemas, in a stable order."""
    by_table: dict[str, list[Policy]] = {}
    for p in policies:
        by_table.setdefault(p.qualified_table, []).append(p)
    lints: list[Lint] = []
    for t in tables:
        own = by_table.get(t.qualified, [])
        if not t.rls:
            lints.append(Lint("policy_exists_rls_disabled" if own else "rls_disabled_in_public", t.qualified))
            continue
        if not own:
            lints.append(Lint("rls_enabled_no_policy", t.qualified))
            continue
        for grant in sorted(t.grants):
            role, _, cmd = grant.partition(":")
            if role in API_ROLES and cmd in COMMANDS and not any(p.applies_to(role, cmd) for p in own):
                lints.append(Lint("rls_no_policy_for_role", t.qualified, role=role, cmd=cmd))
        for p in own:
            exprs = [e for e in (p.qual, p.with_check) if e]
            if p.permissive and exprs and all(_ALWAYS_TRUE.match(e.strip()) for e in exprs):
                lints.append(Lint("rls_policy_always_true", t.qualified, policy=p.name, cmd=p.cmd, roles=p.roles,
                                  expression=exprs[0]))
            if any(_USER_METADATA.search(e) for e in exprs):
                lints.append(Lint("rls_references_user_metadata", t.qualified, policy=p.name, cmd=p.cmd,
                                  roles=p.roles, expression=next(e for e in exprs if _USER_METADATA.search(e))))
        lints += _multiple_permissive(t.qualified, own)
    return lints


def _multiple_permissive(table: str, policies: Sequence[Policy]) -> list[Lint]:
    lints = []
    for role in API_ROLES:
        for cmd in COMMANDS:
            names = tuple(sorted(p.name for p in policies if p.permissive and p.applies_to(role, cmd)))
            if len(names) > 1:
                lints.append(Lint("multiple_permissive_policies", table, role=role, cmd=cmd, roles=names))
    return lints


def references_own_table(policy: Policy) -> bool:
    """A policy whose expression selects from its own table recurses under RLS (42P17)."""
    pattern = re.compile(rf"\bfrom\s+(?:{re.escape(policy.schema)}\.)?{re.escape(policy.table)}\b", re.IGNORECASE)
    return any(pattern.search(e) for e in (policy.qual, policy.with_check) if e)


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
