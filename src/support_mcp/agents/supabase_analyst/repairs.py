"""Gated Supabase migrations (playbook 2.2): draft → dry-run → apply → validate.

A repair renders one migration from the findings (`fixes.py`), drafts it as a file (the
playbook's tmp/sql/…) and looks for an equivalent migration in `supabase/migrations`. The
dry-run executes it in a transaction that is always rolled back and reports affected rows and
the before/after of the policies, triggers, functions and grants it touches; inside that same
transaction it re-runs the reproduction `validate` uses (before and after the migration), so a
migration that does not fix the cause, or breaks something that worked, fails its dry-run and
cannot be approved. The fingerprint is a digest of the touched objects' state, so the plan
service refuses an apply when the schema changed since.
Apply writes the migration file with a timestamp version and records it in
`supabase_migrations.schema_migrations` in the same transaction as the change — where the project
has that table (made with the Supabase CLI); otherwise the migrations folder (and the ticket) is
the record. The dry-run checks apply's preconditions (history table and the right to insert into
it, the migrations folder) and says how the migration will be recorded, so a plan that passes its
dry-run can be applied.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from support_mcp.agents.base import ApplyResult, CheckContext, DryRun, RepairStep
from support_mcp.agents.supabase_analyst import queries
from support_mcp.agents.supabase_analyst.base import (
    SQL_TARGET,
    SupabaseCheck,
    configured_target,
    record_sql,
    runner_scope,
)
from support_mcp.agents.supabase_analyst.checks import AuthConsistencyCheck, FunctionsCheck, SignupPathCheck
from support_mcp.agents.supabase_analyst.fixes import (
    FIXES,
    Fix,
    existing_migration,
    split_statements,
    touched_objects,
)
from support_mcp.agents.supabase_analyst.locks import TerminateLockHolderRepair
from support_mcp.agents.supabase_analyst.rls_checks import ReproduceCheck, RlsPoliciesCheck
from support_mcp.agents.supabase_analyst.schema import TABLE_SHAPE, app_schema, shape_params
from support_mcp.agents.supabase_analyst.texts import text
from support_mcp.domain.clock import utc_now
from support_mcp.domain.errors import Conflict
from support_mcp.domain.models import CheckStatus, Finding
from support_mcp.domain.targets import SupabaseTarget
from support_mcp.executors.sql import SavepointRunner, SqlRunner, SqlSession

AGENT = "supabase-analyst-agent"
_PROBLEM = (CheckStatus.WARN, CheckStatus.FAIL, CheckStatus.ERROR)

STATE_SQL = """
select 'table' as kind, format('%%I.%%I', n.nspname, c.relname) as object,
       'rls=' || c.relrowsecurity::text || ' acl=' || coalesce(c.relacl::text, '') as definition
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname || '.' || c.relname = any(%(tables)s)
union all
select 'policy', format('%%I.%%I', n.nspname, c.relname) || '.' || p.polname,
       p.polcmd::text || ' permissive=' || p.polpermissive::text || ' roles='
       || array(select case when r = 0 then 'public' else pg_get_userbyid(r) end from unnest(p.polroles) r)::text
       || ' USING ' || coalesce(pg_get_expr(p.polqual, p.polrelid), '-')
       || ' CHECK ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '-')
from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
where n.nspname || '.' || c.relname = any(%(tables)s)
union all
select 'trigger', format('%%I.%%I', n.nspname, c.relname) || '.' || t.tgname,
       'enabled=' || t.tgenabled::text || ' ' || pg_get_triggerdef(t.oid)
from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
where not t.tgisinternal and n.nspname || '.' || c.relname = any(%(tables)s)
union all
select 'constraint', format('%%I.%%I', n.nspname, c.relname) || '.' || con.conname, pg_get_constraintdef(con.oid)
from pg_constraint con join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
where n.nspname || '.' || c.relname = any(%(tables)s)
union all
select 'function', format('%%I.%%I(%%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
       'config=' || coalesce(p.proconfig::text, '-') || ' definer=' || p.prosecdef::text || ' body=' || md5(p.prosrc)
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname || '.' || p.proname = any(%(functions)s)
order by 1, 2
"""


class SqlMigrationRepair:
    """One `Fix` as a Repair: every change is a migration, applied only through a gated plan."""

    agent = AGENT

    def __init__(self, fix: Fix, target: SupabaseTarget | None = None, runner: SqlRunner | None = None) -> None:
        self.fix = fix
        self.name = fix.name
        self.title = fix.title["de"]
        self.target = target
        self.runner = runner  # shared with the agent's checks; its owner closes it

    def _target(self, ctx: CheckContext) -> SupabaseTarget:
        return configured_target(self.target, ctx)

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        """Parameters when one of the findings names a cause this fix answers."""
        return self.fix.params_from(findings, self.target.migrations_dir if self.target else None)

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]:
        """Render the migration, draft it as a file, and note an equivalent existing migration."""
        target = self._target(ctx)
        params = dict(params)
        if self.fix.name == "enable_rls" and "owner_column" not in params:
            async with runner_scope(target, self.runner) as runner:
                params["owner_column"] = await self._owner_column(runner, params["table"])
        if self.fix.name in ("restore_signup_trigger", "delete_orphaned_profiles") \
                and "profiles_user_column" not in params:
            async with runner_scope(target, self.runner) as runner:
                shape = await runner.read(TABLE_SHAPE, shape_params(target))
            profiles = app_schema(target, shape.dicts()).profiles if shape.error is None else None
            params["profiles_user_column"] = profiles.user_column if profiles else None
        sql = self.fix.sql({**params, "profiles_table": target.profiles_table,
                            "subscriptions_table": target.subscriptions_table}).strip()
        split_statements(sql)  # refuses SQL PostgreSQL's parser cannot read before anyone sees it
        schemas = {"public", "auth", *target.exposed_schemas,
                   *(name.partition(".")[0] for name in (target.profiles_table, target.subscriptions_table))}
        tables, functions = touched_objects(sql, schemas)
        draft = None
        if target.drafts_dir is not None:
            target.drafts_dir.mkdir(parents=True, exist_ok=True)
            path = target.drafts_dir / f"{ctx.ticket_id}_{self.name}.sql"
            path.write_text(f"-- {self.fix.title['de']} (ticket {ctx.ticket_id})\n{sql}\n", "utf-8")
            draft = str(path)
        existing = existing_migration(target.migrations_dir, sql)
        return [RepairStep(kind="sql", target=SQL_TARGET, display=sql,
                           payload={"sql": sql, "migration_name": self.name, "tables": tables,
                                    "functions": functions, "draft": draft, "existing_migration": existing,
                                    "params": params})]

    async def _owner_column(self, runner: SqlRunner, table: str) -> str | None:
        result = await runner.read(queries.OWNER_COLUMNS, {"schemas": [table.split(".")[0]]})
        return next((r["column"] for r in result.dicts() if f"{r['schema']}.{r['table']}" == table), None)

    @staticmethod
    def _objects(steps: Sequence[RepairStep]) -> dict[str, list[str]]:
        tables = sorted({t for s in steps for t in s.payload.get("tables", ())})
        functions = sorted({f for s in steps for f in s.payload.get("functions", ())})
        return {"tables": tables, "functions": functions}

    async def _state(self, session: SqlSession, steps: Sequence[RepairStep]) -> list[str]:
        result = await session.fetch(STATE_SQL, self._objects(steps), max_rows=5_000, max_bytes=5_000_000)
        if result.error is not None:
            raise Conflict(f"could not read the schema state: {result.error.message}")
        return [f"{kind} {obj}: {definition}" for kind, obj, definition in result.rows]

    async def fingerprint(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> str:
        """Digest of the touched tables' policies, triggers, constraints, grants and functions."""
        async with runner_scope(self._target(ctx), self.runner) as runner, runner.transaction() as session:
            state = await self._state(session, steps)
        return hashlib.sha256("\n".join(state).encode()).hexdigest()

    async def dry_run(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> DryRun:
        """Execute the migration in a transaction that is always rolled back, re-run the
        reproduction inside it, and report what it did; not ok when the reproduction still fails."""
        target = self._target(ctx)
        params = _params_of(steps)
        out: list[str] = []
        ok = True
        async with runner_scope(target, self.runner) as runner, runner.transaction(read_only=False) as session:
            probe = SavepointRunner(session)
            baseline = await self._reproduce(ctx, target, probe, params)
            before = await self._state(session, steps)
            recording, recordable = await migration_record(session, target, ctx.language)
            out.append(recording)
            ok = ok and recordable
            for step in steps:
                if step.payload.get("existing_migration"):
                    out.append(text(ctx.language, "repair.exists", file=step.payload["existing_migration"]))
                for statement in split_statements(step.payload["sql"]):
                    if re.match(r"\s*(insert|update|delete)\b", statement, re.IGNORECASE):
                        plan = await session.fetch(f"EXPLAIN {statement}")
                        out += [f"  {row[0]}" for row in plan.rows[:8]]
                    result = await session.fetch(statement)
                    await record_sql(ctx, f"{self.name}.dry_run", result)
                    ok = ok and result.ok
                    out.append(f"{'OK ' if result.ok else 'FAIL'} {statement.splitlines()[0][:100]} "
                               f"→ {result.render(max_rows=3) if result.ok else result.error.message}")  # type: ignore[union-attr]
            after = await self._state(session, steps)
            if ok:
                still, new = self._judge(await self._reproduce(ctx, target, probe, params), params, baseline)
                ok = not still and not new
                reproduction = [text(ctx.language, "repair.dry_run_reproduced" if ok else "repair.dry_run_not_reproduced")]
                reproduction += [f"  [{f.status}] {f.title}" for f in still]
                reproduction += [f"  [{f.status}] {text(ctx.language, 'repair.new_problem')}: {f.title}" for f in new]
            else:
                reproduction = [text(ctx.language, "repair.dry_run_reproduction_skipped")]
            session.abort = True  # always rolled back
        removed = [f"- {line}" for line in before if line not in after]
        added = [f"+ {line}" for line in after if line not in before]
        out += ["", "before → after:", *(removed + added or ["(no catalog change)"]), "", *reproduction, "",
                "ROLLBACK"]
        return DryRun(ok=ok, output="\n".join(out), fingerprint=hashlib.sha256("\n".join(before).encode()).hexdigest())

    async def _reproduce(self, ctx: CheckContext, target: SupabaseTarget, runner: SqlRunner | None,
                         params: dict[str, Any]) -> list[Finding]:
        """The reproducing checks of this fix, one after another on `runner`."""
        findings: list[Finding] = []
        for check in _checks(self.fix.checks, target, runner, user=params.get("user")):
            findings += await check.run(ctx)
        return findings

    def _judge(self, findings: Sequence[Finding], params: dict[str, Any],
               baseline: Sequence[Finding] | None = None) -> tuple[list[Finding], list[Finding]]:
        """(causes this fix answers that are still found or errors, problems the baseline did not have)."""
        still = [f for f in findings if f.status in _PROBLEM and (
            f.status == CheckStatus.ERROR or (f.data.get("code") in self.fix.gone_after and _same_object(f, params)))]
        if baseline is None:
            return still, []
        known = {_problem_key(f) for f in baseline if f.status in _PROBLEM}
        new = [f for f in findings if f.status in _PROBLEM and f not in still and _problem_key(f) not in known]
        return still, new

    async def apply(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> ApplyResult:
        """Run the migration and record it as a versioned file and in schema_migrations, atomically."""
        target = self._target(ctx)
        sql = "\n".join(s.payload["sql"] for s in steps)
        statements = split_statements(sql)
        written: Path | None = None
        changed: list[str] = []
        out: list[str] = []
        async with runner_scope(target, self.runner) as runner, \
                runner.transaction(read_only=False, commit=True) as session:
            history = await has_migration_history(session)
            version = await next_version(session, target.migrations_dir, history=history)
            for statement in statements:
                result = await session.fetch(statement)
                await record_sql(ctx, f"{self.name}.apply", result)
                if result.error is not None:
                    session.abort = True
                    return ApplyResult(ok=False, output="\n".join([*out, *result.error.lines(), "ROLLBACK"]))
                changed.append(f"{statement.splitlines()[0][:80]}: {result.rowcount} rows")
                out.append(f"OK {statement.splitlines()[0][:100]} → rowcount {result.rowcount}")
            if history:
                recorded = await session.fetch(
                    "insert into supabase_migrations.schema_migrations (version, name, statements) "
                    "values (%(v)s, %(n)s, %(s)s)", {"v": version, "n": self.name, "s": statements})
                if recorded.error is not None:
                    session.abort = True
                    return ApplyResult(ok=False, output="\n".join([*out, *recorded.error.lines(), "ROLLBACK"]))
            if target.migrations_dir is not None:
                target.migrations_dir.mkdir(parents=True, exist_ok=True)
                written = target.migrations_dir / f"{version}_{self.name}.sql"
                written.write_text(f"-- {self.fix.title['en']} (ticket {ctx.ticket_id})\n{sql}\n", "utf-8")
        out.append(f"COMMIT; version {version}" + ("; supabase_migrations.schema_migrations" if history else "")
                   + (f"; file {written.name}" if written else ""))
        # Playbook 2.3: cause, actions (SQL, migration) and result in one internal note.
        note = text(ctx.language, "repair.note", name=self.name, cause=", ".join(self.fix.codes),
                    actions=f"{len(statements)} SQL statements as migration {version}_{self.name}",
                    result="; ".join(changed))
        return ApplyResult(ok=True, output="\n".join([note, "", *out]),
                           changed=[*changed, f"migration {version}_{self.name}"])

    async def validate(self, ctx: CheckContext, params: dict[str, Any]) -> list[Finding]:
        """Re-run the reproducing checks; ok when none of the fixed causes is found again."""
        findings = await self._reproduce(ctx, self._target(ctx), self.runner, params)
        still, _ = self._judge(findings, params)
        if still:
            return still
        return [Finding(check=self.name, status=CheckStatus.OK,
                        title=text(ctx.language, "repair.validated", code=", ".join(self.fix.codes)),
                        evidence=[f"{f.check}: {f.title}" for f in findings][:20])]


HISTORY_TABLE = "supabase_migrations.schema_migrations"


async def has_migration_history(session: SqlSession) -> bool:
    """Whether the project keeps the Supabase CLI's migration history table."""
    found = await session.fetch("select to_regclass(%(t)s) is not null", {"t": HISTORY_TABLE})
    return bool(found.ok and found.rows and found.rows[0][0])


async def migration_record(session: SqlSession, target: SupabaseTarget, language: Any) -> tuple[str, bool]:
    """How apply will record the migration, and whether it can: apply's preconditions, checked
    in the dry-run (history table and the right to insert into it, the migrations folder)."""
    folder = target.migrations_dir
    writable = folder is None or _writable(folder)
    if await has_migration_history(session):
        grant = await session.fetch("select has_table_privilege(%(t)s, 'INSERT')", {"t": HISTORY_TABLE})
        may_insert = bool(grant.ok and grant.rows and grant.rows[0][0])
        where = HISTORY_TABLE + (f" + {folder}" if folder else "")
        if not may_insert:
            return text(language, "repair.record_refused", where=HISTORY_TABLE), False
    elif folder is not None:
        where = text(language, "repair.record_folder_only", folder=folder, table=HISTORY_TABLE)
    else:
        where = text(language, "repair.record_ticket_only", table=HISTORY_TABLE)
    if not writable:
        return text(language, "repair.record_refused", where=str(folder)), False
    return text(language, "repair.record", where=where), True


def _writable(folder: Path) -> bool:
    """The folder, or the nearest existing parent it would be created in, is writable."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK)


async def next_version(session: SqlSession, migrations_dir: Path | None = None, *, history: bool = True) -> str:
    """Supabase CLI migration version: UTC timestamp YYYYMMDDHHMMSS, after every recorded one
    (in the history table where it exists, and in the migrations folder)."""
    now = utc_now().strftime("%Y%m%d%H%M%S")
    versions: list[str] = []
    if history:
        latest = await session.fetch(f"select max(version) from {HISTORY_TABLE}")
        if latest.ok and latest.rows and latest.rows[0][0]:
            versions.append(str(latest.rows[0][0]))
    versions += [p.name.partition("_")[0] for p in (migrations_dir.glob("*.sql") if migrations_dir and
                                                     migrations_dir.is_dir() else ())]
    last = max((v for v in versions if v.isdigit() and len(v) == len(now)), default=None)
    if last is not None and last >= now:
        return str(int(last) + 1)
    return now


def _same_object(finding: Finding, params: dict[str, Any]) -> bool:
    for key in ("table", "policy", "cmd", "role"):
        if params.get(key) and finding.data.get(key) and finding.data[key] != params[key]:
            return False
    return True


def _problem_key(finding: Finding) -> tuple[Any, ...]:
    data = finding.data
    return (finding.check, data.get("code"), data.get("table"), data.get("policy"), data.get("function"))


def _params_of(steps: Iterable[RepairStep]) -> dict[str, Any]:
    """The plan's parameters as `plan` stored them in the first step (older plans: none)."""
    return next((dict(s.payload["params"]) for s in steps if isinstance(s.payload.get("params"), dict)), {})


def _checks(names: Sequence[str], target: SupabaseTarget, runner: SqlRunner | None,
            user: str | None = None) -> list[SupabaseCheck]:
    """The reproducing checks; the reproduction runs as the user the finding was made for."""
    all_checks: list[SupabaseCheck] = [AuthConsistencyCheck(target, runner), FunctionsCheck(target, runner),
                                       SignupPathCheck(target, runner), RlsPoliciesCheck(target, runner),
                                       ReproduceCheck(target, {"user": user} if user else None, runner=runner)]
    return [c for c in all_checks if c.name in names]


def supabase_repairs(target: SupabaseTarget | None = None,
                     runner: SqlRunner | None = None) -> tuple[SqlMigrationRepair | TerminateLockHolderRepair, ...]:
    """The agent's repairs — the migrations of `FIXES`, and ending a session that holds a table
    lock; all of them share `runner` (the caller's, which it closes) when given."""
    return (*(SqlMigrationRepair(fix, target, runner) for fix in FIXES), TerminateLockHolderRepair(target, runner))
