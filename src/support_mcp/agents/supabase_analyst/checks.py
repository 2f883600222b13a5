"""Supabase diagnosis, playbook 2.1 steps 1 and 2: health, monitoring snapshot, Supabase logs,
auth/profiles consistency, the sign-up trigger and functions, and the sign-up path itself.

Every statement is read-only (or, for the sign-up reproduction, rolled back) and logged on the
ticket. Problem findings carry `data["code"]`, the cause a repair can match on.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from psycopg import sql as pgsql

from support_mcp.agents.base import CheckContext
from support_mcp.agents.supabase_analyst import lint_queries, queries
from support_mcp.agents.supabase_analyst.base import SupabaseCheck, example_lines, json_rows, record_sql
from support_mcp.agents.supabase_analyst.parsers import (
    SPLINTER_EXCLUDED_SCHEMAS,
    error_lines,
    parse_log_rows,
    parse_monitoring_snapshot,
)
from support_mcp.agents.supabase_analyst.schema import TABLE_SHAPE, AppSchema, app_schema, shape_params
from support_mcp.agents.supabase_analyst.texts import text
from support_mcp.domain.errors import ExecutionError, InvalidInput
from support_mcp.domain.models import CheckStatus, Finding
from support_mcp.domain.targets import SupabaseTarget, table_name
from support_mcp.executors.sql import SqlRunner, SqlSession
from support_mcp.executors.supabase_api import SupabaseManagementApi, get_json

LONG_QUERY_SECONDS = 300
MIN_CACHE_HIT_RATIO = 0.99
MIN_BLOCKS_FOR_RATIO = 10_000  # a fresh database has too few reads for a meaningful ratio
LOG_MINUTES = 30
PROBE_USER_ID = "00000000-5a5a-4a5a-8a5a-00000000cafe"


class HealthCheck(SupabaseCheck):
    """Connections by state, long-running queries, blocked locks, database size, cache hit ratio."""

    name = "health"
    _title_key = "health.title"
    title = text("de", _title_key)

    async def probe(self, ctx: CheckContext, target: SupabaseTarget, runner: SqlRunner) -> list[Finding]:
        lang = ctx.language
        result = await self.read(ctx, runner, queries.HEALTH, {"long_s": LONG_QUERY_SECONDS})
        if result.error is not None:
            return [self.sql_error(ctx, result)]
        row = result.dicts()[0]
        connections: dict[str, int] = row["connections"] or {}
        hit, read = int(row["blks_hit"] or 0), int(row["blks_read"] or 0)
        ratio = hit / (hit + read) if hit + read else 1.0
        low_ratio = hit + read >= MIN_BLOCKS_FOR_RATIO and ratio < MIN_CACHE_HIT_RATIO
        evidence = [f"connections: {json.dumps(connections, sort_keys=True)}"]
        if row["long_running"]:
            long = await self.read(ctx, runner, queries.LONG_RUNNING, {"long_s": LONG_QUERY_SECONDS}, max_rows=5)
            evidence += example_lines(long)
        bad = bool(row["long_running"] or row["blocked_locks"] or low_ratio)
        return [Finding(
            check=self.name, status=CheckStatus.WARN if bad else CheckStatus.OK,
            title=text(lang, "health.result", connections=sum(connections.values()), long=row["long_running"],
                       blocked=row["blocked_locks"], ratio=f"{ratio:.3f}",
                       size=f"{int(row['size_bytes']) / 1024**2:.1f} MiB"),
            detail=text(lang, "health.detail", seconds=LONG_QUERY_SECONDS, min_ratio=MIN_CACHE_HIT_RATIO),
            evidence=evidence,
            data={**({"code": "health"} if bad else {}), "connections": connections,
                  "long_running": row["long_running"], "blocked_locks": row["blocked_locks"],
                  "size_bytes": row["size_bytes"], "cache_hit_ratio": round(ratio, 4)},
        )]


class MonitoringSnapshotCheck(SupabaseCheck):
    """The app's `getMonitoringSnapshot` (frontend/lib/monitoring/snapshot.ts), when its URL is set."""

    name = "monitoring_snapshot"
    tools = ("http",)
    _title_key = "monitoring.title"
    title = text("de", _title_key)

    async def probe(self, ctx: CheckContext, target: SupabaseTarget, runner: SqlRunner) -> list[Finding]:
        lang, title = ctx.language, self.title_for(ctx.language)
        if not target.monitoring_url:
            return [Finding(check=self.name, status=CheckStatus.SKIPPED,
                            title=text(lang, "skipped.no_url", title=title, var="SUPPORT_MCP_SUPABASE_MONITORING_URL"))]
        try:
            result = await get_json(target.monitoring_url)
            snapshot = parse_monitoring_snapshot(result.payload)
        except (ExecutionError, InvalidInput) as exc:
            return [Finding(check=self.name, status=CheckStatus.ERROR,
                            title=text(lang, "monitoring.failed", error=exc))]
        status = CheckStatus.OK if snapshot.status in ("ok", "healthy") and result.status == 200 else CheckStatus.WARN
        return [Finding(check=self.name, status=status, title=text(lang, "monitoring.result", status=snapshot.status),
                        detail=f"GET {result.url} → HTTP {result.status}", evidence=list(snapshot.issues),
                        data={"status": snapshot.status, "issues": list(snapshot.issues)})]


class SupabaseLogsCheck(SupabaseCheck):
    """Auth, Edge Function and Postgres logs through the Management API, when configured."""

    name = "supabase_logs"
    tools = ("supabase-management-api",)
    _title_key = "logs.title"
    title = text("de", _title_key)

    async def probe(self, ctx: CheckContext, target: SupabaseTarget, runner: SqlRunner) -> list[Finding]:
        lang, title = ctx.language, self.title_for(ctx.language)
        if not (target.project_ref and target.management_token):
            return [Finding(check=self.name, status=CheckStatus.SKIPPED,
                            title=text(lang, "skipped.no_url", title=title,
                                       var="SUPPORT_MCP_SUPABASE_PROJECT_REF, SUPPORT_MCP_SUPABASE_ACCESS_TOKEN"))]
        api = SupabaseManagementApi(target.management_api_url, target.project_ref, target.management_token)
        errors, evidence = 0, []
        try:
            for source in ("auth", "edge", "postgres"):
                result = await api.logs(source, minutes=LOG_MINUTES)  # type: ignore[arg-type]
                if result.status != 200:
                    raise InvalidInput(f"{source} logs: HTTP {result.status}")
                bad = error_lines(parse_log_rows(source, result.payload))
                errors += len(bad)
                evidence += [f"[{line.source}] {line.timestamp} {line.level}: {line.message[:200]}" for line in bad[:5]]
        except (ExecutionError, InvalidInput) as exc:
            return [Finding(check=self.name, status=CheckStatus.ERROR, title=text(lang, "logs.failed", error=exc))]
        return [Finding(check=self.name, status=CheckStatus.WARN if errors else CheckStatus.OK,
                        title=text(lang, "logs.result", errors=errors, sources=3, minutes=LOG_MINUTES),
                        evidence=evidence, data={"error_lines": errors})]


class AuthConsistencyCheck(SupabaseCheck):
    """auth.users, auth.sessions, profiles and subscriptions agree: counts and examples."""

    name = "auth_consistency"
    _title_key = "auth.title"
    title = text("de", _title_key)
    _STATUS = {"users_without_profile": CheckStatus.FAIL, "orphaned_profiles": CheckStatus.WARN,
               "profile_email_mismatch": CheckStatus.WARN, "users_without_subscription": CheckStatus.FAIL,
               "banned_user_sessions": CheckStatus.FAIL}

    async def probe(self, ctx: CheckContext, target: SupabaseTarget, runner: SqlRunner) -> list[Finding]:
        lang = ctx.language
        findings: list[Finding] = []
        skipped: list[Finding] = []
        async with runner.transaction() as session:
            users = await self.fetch(ctx, session, queries.USER_COUNT)
            if users.error is not None:
                return [self.sql_error(ctx, users)]
            shape = await app_schema_of(self, ctx, session, target)
            if isinstance(shape, Finding):
                return [shape]
            checks, reasons = queries.consistency(shape)
            for code, (key, values) in reasons.items():
                skipped.append(Finding(check=self.name, status=CheckStatus.SKIPPED,
                                       title=text(lang, "skip.query", what=text(lang, f"auth.{code}", count="…"),
                                                  reason=text(lang, key, **values)),
                                       data={"skipped_code": code}))
            for code, sql in checks.items():
                result = await self.fetch(ctx, session, sql, max_rows=5)
                if result.error is not None:
                    findings.append(self.sql_error(ctx, result))
                elif result.total_rows:
                    findings.append(self.problem(
                        code, self._STATUS[code], text(lang, f"auth.{code}", count=result.total_rows),
                        evidence=example_lines(result), count=result.total_rows, examples=json_rows(result)))
        if findings:
            return findings + skipped
        return [Finding(check=self.name, status=CheckStatus.OK, title=text(lang, "auth.ok", users=users.rows[0][0]),
                        data={"users": users.rows[0][0]}), *skipped]


async def app_schema_of(check: SupabaseCheck, ctx: CheckContext, session: SqlSession,
                        target: SupabaseTarget) -> AppSchema | Finding:
    """The project's profiles/subscriptions tables as its catalog describes them."""
    shape = await check.fetch(ctx, session, TABLE_SHAPE, shape_params(target))
    if shape.error is not None:
        return check.sql_error(ctx, shape)
    return app_schema(target, shape.dicts())


class FunctionsCheck(SupabaseCheck):
    """The sign-up trigger on auth.users (the one whose function creates the profile, or
    `on_auth_user_created`): present, enabled, its function SECURITY DEFINER; no mutable
    search_path in exposed schemas (splinter 0011 function_search_path_mutable). Names come from
    the catalog: a project's own trigger and function names are fine."""

    name = "functions"
    _title_key = "functions.title"
    title = text("de", _title_key)

    async def probe(self, ctx: CheckContext, target: SupabaseTarget, runner: SqlRunner) -> list[Finding]:
        lang = ctx.language
        findings: list[Finding] = []
        pattern = {"pattern": queries.profiles_insert_pattern(target.profiles_table)}
        async with runner.transaction() as session:
            trig = await self.fetch(ctx, session, queries.SIGNUP_TRIGGERS, pattern)
            fns = await self.fetch(ctx, session, queries.SIGNUP_TRIGGER_FUNCTIONS, pattern)
            mutable = await self.fetch(ctx, session, lint_queries.MUTABLE_SEARCH_PATH,
                                       {"excluded": list(SPLINTER_EXCLUDED_SCHEMAS)})
        for result in (trig, fns, mutable):
            if result.error is not None:
                return [self.sql_error(ctx, result)]
        signup = [r for r in trig.dicts() if r["inserts_profile"] or r["name"] == "on_auth_user_created"]
        if not signup:
            candidates = [r["function"] for r in fns.dicts()]
            findings.append(self.problem(
                "signup_trigger_missing", CheckStatus.FAIL,
                text(lang, "functions.trigger_missing", table=target.profiles_table),
                evidence=[f"auth.users: {r['name']} → {r['function']}" for r in trig.dicts()]
                or ["auth.users: no user triggers"], function=candidates[0] if candidates else None))
        for row in signup:
            if row["enabled"] == "D":
                findings.append(self.problem("signup_trigger_disabled", CheckStatus.FAIL,
                                             text(lang, "functions.trigger_disabled", trigger=row["name"]),
                                             evidence=[f"tgenabled = 'D' ({row['function']})"],
                                             trigger=row["name"], function=row["function"]))
            elif not row["security_definer"]:
                findings.append(self.problem("function_not_security_definer", CheckStatus.WARN,
                                             text(lang, "functions.not_definer", fn=row["function"]),
                                             function=row["function"]))
        for row in mutable.dicts():  # splinter 0011: every routine, definer or invoker, at WARN
            signature = f"{row['schema']}.{row['name']}({row['args']})"
            key = "functions.search_path" if row["security_definer"] else "functions.search_path_invoker"
            findings.append(self.problem(
                "function_search_path_mutable", CheckStatus.WARN, text(lang, key, fn=f"{row['schema']}.{row['name']}"),
                evidence=[f"{signature}: proconfig has no search_path"], lint_id="0011", level="WARN",
                function=signature, regprocedure=row["regprocedure"], kind=row["kind"],
                security_definer=row["security_definer"]))
        return findings or [Finding(check=self.name, status=CheckStatus.OK, title=text(lang, "functions.ok"))]


class SignupPathCheck(SupabaseCheck):
    """The sign-up path reproduced: insert a probe user into auth.users inside a transaction that
    is always rolled back, then look for its profile and subscription.

    PostgreSQL does not roll back `nextval`, so the sequences a sign-up may use are first
    restarted at their own next value *inside* the transaction (`ALTER SEQUENCE … RESTART` is
    transactional): the probe draws from that copy, and the rollback leaves every sequence as it
    was. Concurrent inserts wait for the probe (milliseconds, bounded by lock_timeout)."""

    name = "signup_path"
    _title_key = "signup.title"
    title = text("de", _title_key)

    async def _isolate_sequences(self, ctx: CheckContext, session: SqlSession, target: SupabaseTarget) -> Finding | None:
        schemas = sorted({*target.exposed_schemas, table_name(target.profiles_table)[0],
                          table_name(target.subscriptions_table)[0]})
        found = await self.fetch(ctx, session, queries.PROBE_SEQUENCES, {"schemas": schemas})
        if found.error is not None:
            return self.sql_error(ctx, found)
        for schema, sequence, restart in found.rows:
            restarted = await self.fetch(ctx, session, pgsql.SQL("alter sequence {} restart with {}").format(
                pgsql.Identifier(schema, sequence), pgsql.Literal(int(restart))).as_string())
            if restarted.error is not None:  # not the owner, or busy: diagnosing must not move it
                return Finding(check=self.name, status=CheckStatus.SKIPPED, detail="ROLLBACK",
                               title=text(ctx.language, "signup.sequence_skipped", sequence=f"{schema}.{sequence}",
                                          message=restarted.error.message))
        return None

    async def probe(self, ctx: CheckContext, target: SupabaseTarget, runner: SqlRunner) -> list[Finding]:
        lang = ctx.language
        probe_id = str(uuid.UUID(PROBE_USER_ID))
        params: dict[str, Any] = {"id": probe_id, "email": "support-mcp-probe@example.invalid"}
        async with runner.transaction(read_only=False) as session:
            untouched = await self._isolate_sequences(ctx, session, target)
            if isinstance(untouched, Finding):
                return [untouched]
            insert = await session.fetch(
                "insert into auth.users (id, email, email_confirmed_at, raw_user_meta_data) "
                "values (%(id)s, %(email)s, now(), '{\"full_name\": \"Support MCP Probe\"}'::jsonb)", params)
            await record_sql(ctx, self.name, insert)
            if insert.error is not None:
                err = insert.error
                return [self.problem("signup_fails", CheckStatus.FAIL, text(lang, "signup.fails", message=err.message),
                                     detail="ROLLBACK", evidence=err.lines(), sqlstate=err.sqlstate,
                                     message=err.message, error_detail=err.detail, hint=err.hint,
                                     context=err.context)]
            shape = await app_schema_of(self, ctx, session, target)
            if isinstance(shape, Finding):
                return [shape]
            made_sql = queries.signup_made(shape)
            if made_sql is None:
                return [Finding(check=self.name, status=CheckStatus.SKIPPED, detail="ROLLBACK",
                                title=text(lang, "skip.query", what=text(lang, "signup.title"),
                                           reason=text(lang, "skip.no_table", table=target.profiles_table)))]
            made = await self.fetch(ctx, session, made_sql, params)
        if made.error is not None:
            return [self.sql_error(ctx, made)]
        profiles, subscriptions = made.rows[0]
        findings = []
        if not profiles:
            findings.append(self.problem("signup_no_profile", CheckStatus.FAIL, text(lang, "signup.no_profile"),
                                         detail="ROLLBACK"))
        if subscriptions == 0:  # None: the project keeps no subscription table we know of
            findings.append(self.problem("signup_no_subscription", CheckStatus.FAIL,
                                         text(lang, "signup.no_subscription"), detail="ROLLBACK"))
        return findings or [Finding(check=self.name, status=CheckStatus.OK, title=text(lang, "signup.ok"),
                                    detail="ROLLBACK")]
