"""Supabase diagnosis, playbook 2.1 steps 3 and 4: RLS and policies of every table in the
exposed schemas (named as Supabase's advisor names them), and errors reproduced as a user:
`set local role authenticated` with the user's JWT claims, always rolled back."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from support_mcp.agents.base import CheckContext
from support_mcp.agents.supabase_analyst import lint_queries, queries
from support_mcp.agents.supabase_analyst.base import SupabaseCheck
from support_mcp.agents.supabase_analyst.parsers import (
    SPLINTER_EXCLUDED_SCHEMAS,
    Lint,
    Policy,
    TableInfo,
    lint_rls,
    parse_policies,
    parse_roles,
    parse_tables,
    policy_cycles,
    recursion_relation,
)
from support_mcp.agents.supabase_analyst.texts import text
from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.models import CheckStatus, Finding, Language
from support_mcp.domain.targets import SupabaseTarget
from support_mcp.executors.sql import ApiRequest, SqlResult, SqlRunner, user_claims

# splinter's INFO (e.g. 0008: RLS on, no policy — how Supabase recommends locking a server-only
# table) is listed with its code but is no warning: the reproduction judges what users meet.
_LEVEL_STATUS = {"ERROR": CheckStatus.FAIL, "WARN": CheckStatus.WARN, "INFO": CheckStatus.OK}


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def rpc_call(rpc: str, args: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """`schema.fn` (or `fn` in public) and named arguments, validated as plain names."""
    schema, _, name = rpc.rpartition(".")
    schema = schema or "public"
    if not isinstance(args, Mapping):
        raise InvalidInput("RPC arguments are a JSON object of named parameters, e.g. {\"p_id\": \"…\"}")
    for part in (schema, name, *args):
        if not _NAME.fullmatch(str(part)):
            raise InvalidInput(f"{part!r} is not a plain SQL name")
    return schema, name, {str(k): (v if v is None or isinstance(v, str) else json.dumps(v)) for k, v in args.items()}


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")


def affected_user_hints(ctx: CheckContext) -> list[tuple[str, str]]:
    """(id or e-mail, where it was found): the ticket's customer first, then ids and e-mails in
    the customer's messages (data to look up, never instructions)."""
    hints = [(m, "ticket_customer") for m in (*_EMAIL.findall(ctx.ticket_customer), *_UUID.findall(ctx.ticket_customer))]
    hints += [(m, "ticket_text") for m in (*_EMAIL.findall(ctx.ticket_text), *_UUID.findall(ctx.ticket_text))]
    return list(dict.fromkeys(hints))


async def sample_user(check: SupabaseCheck, ctx: CheckContext, runner: SqlRunner,
                      who: str | None = None) -> dict[str, Any] | None:
    """The user to reproduce as, with `source` saying why: `who` (id or e-mail) when given, else
    the affected user the ticket names (its customer, or an id or e-mail in a customer
    message), else the oldest active confirmed user (`source` = "oldest_user")."""
    hints = [(who, "parameter")] if who else affected_user_hints(ctx)
    for hint, source in hints:
        result = await check.read(ctx, runner, queries.USER_BY_ID_OR_EMAIL, {"who": hint})
        if result.ok and result.rows:
            return {**result.dicts()[0], "source": source}
        if who:
            return None
    result = await check.read(ctx, runner, queries.SAMPLE_USER)
    rows = result.dicts() if result.ok else []
    return {**rows[0], "source": "oldest_user"} if rows else None


def claims_of(user: Mapping[str, Any]) -> dict[str, Any]:
    return user_claims(user["id"], user.get("email"), app_metadata=user.get("app_metadata"),
                       user_metadata=user.get("user_metadata"))


def _cycle_lint(cycle: Sequence[Policy]) -> Lint:
    """One recursion lint per cycle, naming every policy on it and the table each one reads."""
    steps = tuple((p.qualified_table, p.name, cycle[(i + 1) % len(cycle)].qualified_table)
                  for i, p in enumerate(cycle))
    first = cycle[0]
    return Lint("rls_policy_recursion", first.qualified_table, policy=first.name, cmd=first.cmd, roles=first.roles,
                expression=first.qual, cycle=steps)


def _schemas_first(schema: str, exposed: Sequence[str]) -> tuple[str, ...]:
    """The request's schema first (PostgREST's Content-Profile), then the other exposed ones."""
    return (schema, *(s for s in exposed if s != schema))


class RlsPoliciesCheck(SupabaseCheck):
    """RLS and policies as Supabase's advisor (splinter) lints them, on every schema it looks at:
    RLS off (with or without policies), RLS on without policies, always-true and user_metadata
    policies, several permissive policies for one role and action. Ours, on the exposed schemas:
    RLS on without a policy for a granted role, recursion (static and as a user), user-editable
    metadata reached in ways splinter's patterns miss."""

    name = "rls_policies"
    _title_key = "rls.title"
    title = text("de", _title_key)
    _catalog_rows = 20_000  # a partial catalog would drop lints silently
    _text_of = {"rls_trusts_user_metadata": "rls_references_user_metadata"}

    async def probe(self, ctx: CheckContext, target: SupabaseTarget, runner: SqlRunner) -> list[Finding]:
        params = {"schemas": list(target.exposed_schemas), "excluded": list(SPLINTER_EXCLUDED_SCHEMAS)}
        async with runner.transaction() as session:
            tables_r = await self.fetch(ctx, session, lint_queries.TABLES, params, max_rows=self._catalog_rows)
            policies_r = await self.fetch(ctx, session, lint_queries.POLICIES, params, max_rows=self._catalog_rows)
            roles_r = await self.fetch(ctx, session, lint_queries.ROLES, max_rows=self._catalog_rows)
        for result in (tables_r, policies_r, roles_r):
            if result.error is not None:
                return [self.sql_error(ctx, result)]
        tables, policies = parse_tables(tables_r.dicts()), parse_policies(policies_r.dicts())
        lints = lint_rls(tables, policies, parse_roles(roles_r.dicts()))
        exposed = [t for t in tables if t.exposed]
        exposed_names = {t.qualified for t in exposed}
        mine = [p for p in policies if p.qualified_table in exposed_names]
        recursions = [_cycle_lint(cycle) for cycle in policy_cycles(exposed, mine)]
        # Confirm recursion the way the app meets it: read each table with policies as a user.
        user = await sample_user(self, ctx, runner)
        evidence: dict[str, list[str]] = {}
        if user is not None:
            for t in exposed:
                if not t.rls or not any(p.qualified_table == t.qualified for p in mine):
                    continue
                probe = await self.read(ctx, runner, f"select 1 from {qualified(t.schema, t.table)} limit 1",
                                        role="authenticated", claims=claims_of(user))
                if probe.error is None or probe.error.sqlstate != "42P17":
                    continue
                lint = next((r for r in recursions if t.qualified in {step[0] for step in r.cycle}), None)
                if lint is None:  # through a view or function the static graph cannot see
                    relation = recursion_relation(probe.error.message) or t.table
                    own = [p for p in mine if p.table == relation] or [p for p in mine if p.qualified_table == t.qualified]
                    lint = Lint("rls_policy_recursion", own[0].qualified_table, policy=own[0].name, cmd=own[0].cmd,
                                roles=own[0].roles, expression=own[0].qual,
                                cycle=tuple((p.qualified_table, p.name, "?") for p in own))
                    recursions.append(lint)
                evidence.setdefault(lint.table, []).extend(probe.error.lines())
        lints += recursions
        findings = [self._finding(ctx.language, lint, evidence.get(lint.table, [])) for lint in lints]
        return findings or [Finding(check=self.name, status=CheckStatus.OK,
                                    title=text(ctx.language, "rls.ok", tables=len(exposed)))]

    def _finding(self, lang: Language, lint: Lint, extra: Sequence[str]) -> Finding:
        title = text(lang, f"rls.{self._text_of.get(lint.code, lint.code)}", table=lint.table, policy=lint.policy,
                     role=lint.role, cmd=lint.cmd, roles=", ".join(lint.roles))
        if lint.cycle:
            title = text(lang, "rls.rls_policy_cycle", cycle=" → ".join(
                f'{table} ("{policy}")' for table, policy, _ in lint.cycle) + f" → {lint.cycle[0][0]}")
        evidence = [f"{lint.lint_id + ' ' if lint.lint_id else ''}{lint.code} ({lint.level})"]
        evidence += [f'{table}: policy "{policy}" reads {reads}' for table, policy, reads in lint.cycle]
        cycle: dict[str, Any] = {"cycle": [{"table": t, "policy": p, "reads": r} for t, p, r in lint.cycle]} \
            if lint.cycle else {}
        if lint.expression:
            evidence.append(f"{lint.clause} ({lint.expression})")
        return self.problem(lint.code, _LEVEL_STATUS[lint.level], title, evidence=[*evidence, *extra],
                            lint_id=lint.lint_id, level=lint.level, table=lint.table, policy=lint.policy,
                            role=lint.role, cmd=lint.cmd, roles=list(lint.roles), expression=lint.expression,
                            clause=lint.clause, **cycle)


# statement timeout, lock timeout: the read waited (for a lock held elsewhere) or was too slow
TIMEOUT_STATES = frozenset({"57014", "55P03"})


class ReproduceCheck(SupabaseCheck):
    """`supabase.rpc('<fn>')` and table reads as a signed-in user: every argument-less RPC the
    `authenticated` role may execute and every table it may read, compared with service_role.

    `params` names an RPC with arguments (`rpc`, `args`), a `table` and the `user` (id or email)."""

    name = "reproduce_rpc"
    tools = ("supabase-rpc",)
    _title_key = "reproduce.title"
    title = text("de", _title_key)

    def __init__(self, target: SupabaseTarget | None = None, params: Mapping[str, Any] | None = None, *,
                 runner: SqlRunner | None = None) -> None:
        super().__init__(target, runner)
        self.params = dict(params or {})

    async def probe(self, ctx: CheckContext, target: SupabaseTarget, runner: SqlRunner) -> list[Finding]:
        lang = ctx.language
        user = await sample_user(self, ctx, runner, self.params.get("user"))
        if user is None:
            return [Finding(check=self.name, status=CheckStatus.SKIPPED, title=text(lang, "reproduce.no_user"))]
        claims = claims_of(user)
        schemas = {"schemas": list(target.exposed_schemas)}
        rpcs_r = await self.read(ctx, runner, queries.RPCS, schemas)
        tables_r = await self.read(ctx, runner, queries.TABLES, schemas)
        owners_r = await self.read(ctx, runner, queries.OWNER_COLUMNS, schemas)
        for result in (rpcs_r, tables_r, owners_r):
            if result.error is not None:
                return [self.sql_error(ctx, result)]
        calls: list[tuple[str, str, dict[str, Any]]] = [(r["schema"], r["name"], {}) for r in rpcs_r.dicts()]
        if self.params.get("rpc"):
            calls = [rpc_call(str(self.params["rpc"]), self.params.get("args") or {})]
        findings: list[Finding] = []
        detail = text(lang, "reproduce.detail", role="authenticated", user=user["email"]) + " " + \
            text(lang, f"reproduce.user_{user['source']}")
        for schema, name, args in calls:
            # Arguments are bound parameters by name (`supabase.rpc('fn', {p_id: …})`), never SQL text.
            binds = {f"a{i}": value for i, value in enumerate(args.values())}
            rendered = ", ".join(f"{quote_ident(k)} => %(a{i})s" for i, k in enumerate(args))
            sql = f"select * from {qualified(schema, name)}({rendered})"
            # as the Data API runs `supabase.rpc(name)`: POST /rpc/<name>, the exposed schemas on the search_path
            request = ApiRequest("POST", f"/rpc/{name}", _schemas_first(schema, target.exposed_schemas))
            as_user = await self.read(ctx, runner, sql, binds or None, role="authenticated", claims=claims,
                                      request=request, max_rows=20)
            if as_user.error is None:
                continue
            as_service = await self.read(ctx, runner, sql, binds or None, role="service_role",
                                         claims={"role": "service_role"}, request=request, max_rows=20)
            findings.append(self._rpc_finding(lang, f"{schema}.{name}", as_user, as_service, detail))
        owners = {(r["schema"], r["table"]): r["column"] for r in owners_r.dicts()}
        tables = [t for t in parse_tables(tables_r.dicts()) if "authenticated:SELECT" in t.grants]
        if self.params.get("table"):
            tables = [t for t in tables if self.params["table"] in (t.table, t.qualified)]
        for t in tables:
            findings += await self._read_table(ctx, runner, t, owners.get((t.schema, t.table)), user, claims, detail)
        return findings or [Finding(check=self.name, status=CheckStatus.OK, detail=detail,
                                    title=text(lang, "reproduce.ok", rpcs=len(calls), tables=len(tables),
                                               user=user["email"]))]

    def _rpc_finding(self, lang: Language, fn: str, as_user: SqlResult, as_service: SqlResult,
                     detail: str) -> Finding:
        err = as_user.error
        assert err is not None
        only_user = as_service.error is None
        code = "rpc_fails_for_role" if only_user else "rpc_fails"
        if err.sqlstate in TIMEOUT_STATES:  # waited for a lock or ran too long: not the function's fault
            code = "read_timed_out"
        title = text(lang, f"reproduce.{code}", fn=fn, role="authenticated", message=err.message)
        # what supabase-js returns as `error` for this call
        client = json.dumps({"code": err.sqlstate, "message": err.message, "details": err.detail, "hint": err.hint},
                            ensure_ascii=False)
        evidence = [f"supabase.rpc('{fn.rpartition('.')[2]}') → error {client}",
                    *(f"authenticated: {line}" for line in err.lines())]
        evidence.append("service_role: ok" if only_user else f"service_role: {as_service.error.message}")  # type: ignore[union-attr]
        return self.problem(code, CheckStatus.FAIL, title, detail=detail, evidence=evidence, function=fn,
                            role="authenticated", sqlstate=err.sqlstate, message=err.message,
                            error_detail=err.detail, hint=err.hint)

    def _exposed(self, ctx: CheckContext) -> tuple[str, ...]:
        target = self.target_of(ctx)
        return tuple(target.exposed_schemas) if target else ("public",)

    async def _read_table(self, ctx: CheckContext, runner: SqlRunner, t: TableInfo, owner: str | None,
                          user: Mapping[str, Any], claims: Mapping[str, Any], detail: str) -> list[Finding]:
        lang = ctx.language
        table = qualified(t.schema, t.table)
        where = f" where {quote_ident(owner)} = %(uid)s::uuid" if owner else ""
        params = {"uid": str(user["id"])} if owner else None
        request = ApiRequest("GET", f"/{t.table}", _schemas_first(t.schema, self._exposed(ctx)))
        seen = await self.read(ctx, runner, f"select count(*) from {table}{where}", params, role="authenticated",
                               claims=claims, request=request)
        if seen.error is not None:
            err = seen.error
            return [self.problem("read_timed_out" if err.sqlstate in TIMEOUT_STATES else "table_read_fails",
                                 CheckStatus.FAIL,
                                 text(lang, "reproduce.table_read_fails", table=t.qualified, role="authenticated",
                                      message=err.message),
                                 detail=detail, evidence=err.lines(), table=t.qualified, role="authenticated",
                                 sqlstate=err.sqlstate, message=err.message)]
        if not owner or seen.rows[0][0]:
            return []
        own = await self.read(ctx, runner, f"select count(*) from {table}{where}", params, role="service_role",
                              claims={"role": "service_role"})
        rows = own.rows[0][0] if own.ok else 0
        if not rows:
            return []
        return [self.problem("table_read_empty", CheckStatus.WARN,
                             text(lang, "reproduce.table_read_empty", table=t.qualified, role="authenticated",
                                  rows=rows),
                             detail=detail, evidence=[f"service_role: {rows} rows with {owner} = {user['id']}",
                                                      "authenticated: 0 rows"],
                             table=t.qualified, role="authenticated", owner_column=owner, own_rows=rows,
                             user=str(user["id"]))]

