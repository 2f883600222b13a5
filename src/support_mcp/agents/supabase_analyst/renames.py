"""Renames in the project's newest migrations that callers of the old name trip over.

A migration that renames a function, table, view or column is applied at once; an app whose
running build still calls the old name fails from that moment (`42883 function … does not exist`,
`42P01`, `42703`) while its source — already changed in the same deploy — looks right. The check
reads the newest migration files of the project (`migrations_dir` in the configuration; without
one it is skipped, with the reason), finds their RENAME statements with PostgreSQL's own parser,
and asks the catalog whether each is applied (the old name gone, the new one there). An applied
rename is a warning: the database is as the migration wants it; the caller — a build older than
the rename — is what to look at, in the host's layer (`explanations`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pglast import ast
from pglast.enums import ObjectType

from support_mcp.agents.base import CheckContext
from support_mcp.agents.supabase_analyst.base import SupabaseCheck
from support_mcp.agents.supabase_analyst.fixes import migration_files, statements_in
from support_mcp.agents.supabase_analyst.texts import text
from support_mcp.domain.models import CheckStatus, Finding
from support_mcp.domain.targets import SupabaseTarget
from support_mcp.executors.sql import SqlRunner

NEWEST_MIGRATIONS = 5  # a rename older than these has had its deploys; its callers were fixed or failed long ago

_KINDS = {ObjectType.OBJECT_FUNCTION: "function", ObjectType.OBJECT_PROCEDURE: "function",
          ObjectType.OBJECT_TABLE: "table", ObjectType.OBJECT_VIEW: "view", ObjectType.OBJECT_COLUMN: "column"}

# old and new name present in the catalog: functions by name in their schema (any arguments),
# relations by name, columns of the table (which a column rename does not change)
_PRESENT = """
select (select count(*) from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
         where %(kind)s = 'function' and n.nspname = %(schema)s and p.proname = %(old)s) as old_functions,
       (select count(*) from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
         where %(kind)s = 'function' and n.nspname = %(schema)s and p.proname = %(new)s) as new_functions,
       (select count(*) from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where %(kind)s in ('table', 'view') and n.nspname = %(schema)s and c.relname = %(old)s) as old_relations,
       (select count(*) from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where %(kind)s in ('table', 'view') and n.nspname = %(schema)s and c.relname = %(new)s) as new_relations,
       (select count(*) from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where %(kind)s = 'column' and n.nspname = %(schema)s and c.relname = %(table)s and a.attname = %(old)s
           and a.attnum > 0 and not a.attisdropped) as old_columns,
       (select count(*) from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where %(kind)s = 'column' and n.nspname = %(schema)s and c.relname = %(table)s and a.attname = %(new)s
           and a.attnum > 0 and not a.attisdropped) as new_columns
"""


@dataclass(frozen=True)
class Rename:
    """`kind` `schema`.`old` (a column: of `table`) renamed to `new` by `statement` in `migration`."""

    kind: str
    schema: str
    old: str
    new: str
    table: str | None
    migration: str
    statement: str
    table_now: str | None = None  # the column's table as later renames of the same migrations left it

    @property
    def lookup_table(self) -> str | None:
        return self.table_now or self.table

    @property
    def old_name(self) -> str:
        return f"{self.schema}.{self.table}.{self.old}" if self.table else f"{self.schema}.{self.old}"

    def as_data(self) -> dict[str, Any]:
        return {"kind": self.kind, "schema": self.schema, "old": self.old, "new": self.new, "table": self.table,
                "migration": self.migration, "statement": self.statement}


def _names(node: Any) -> list[str]:
    return [part.sval for part in node if isinstance(part, ast.String)]


def rename_of(stmt: Any, body: str, migration: str) -> Rename | None:
    """The rename `stmt` makes (a parsed statement), or None when it renames nothing we follow."""
    if not isinstance(stmt, ast.RenameStmt) or stmt.renameType not in _KINDS or not stmt.newname:
        return None
    kind = _KINDS[stmt.renameType]
    if kind == "function":
        names = _names(stmt.object.objname) if isinstance(stmt.object, ast.ObjectWithArgs) else []
        if not names:
            return None
        schema, old = (names[-2] if len(names) > 1 else "public"), names[-1]
        return Rename(kind, schema, old, stmt.newname, None, migration, body)
    relation = stmt.relation
    if not isinstance(relation, ast.RangeVar) or not relation.relname:
        return None
    schema = relation.schemaname or "public"
    if kind == "column":
        if not stmt.subname:
            return None
        return Rename(kind, schema, stmt.subname, stmt.newname, relation.relname, migration, body)
    return Rename(kind, schema, relation.relname, stmt.newname, None, migration, body)


def newest_renames(files: Sequence[Path], newest: int = NEWEST_MIGRATIONS) -> list[Rename]:
    """The renames of the `newest` migration files (by name: Supabase's versions sort by time)."""
    found: list[Rename] = []
    for path in sorted(files)[-newest:]:
        for stmt, body in statements_in(path):
            if (rename := rename_of(stmt, body, path.name)) is None:
                continue
            if rename.kind == "table":  # a column renamed before in its table: the table's name now
                found = [dataclasses.replace(r, table_now=rename.new)
                         if r.kind == "column" and r.schema == rename.schema and r.lookup_table == rename.old else r
                         for r in found]
            found.append(rename)
    return found


class MigrationRenamesCheck(SupabaseCheck):
    """Applied renames in the project's newest migrations (see the module docstring)."""

    name = "migration_renames"
    _title_key = "renames.title"
    title = text("de", _title_key)

    async def probe(self, ctx: CheckContext, target: SupabaseTarget, runner: SqlRunner) -> list[Finding]:
        lang = ctx.language
        files = migration_files(target.migrations_dir)
        if not files:
            return [Finding(check=self.name, status=CheckStatus.SKIPPED,
                            title=text(lang, "renames.no_migrations", folder=str(target.migrations_dir or "-")))]
        renames = newest_renames(files)
        findings: list[Finding] = []
        for rename in renames:
            result = await self.read(ctx, runner, _PRESENT, {"kind": rename.kind, "schema": rename.schema,
                                                             "old": rename.old, "new": rename.new,
                                                             "table": rename.lookup_table})
            if result.error is not None:
                return [self.sql_error(ctx, result)]
            row = result.dicts()[0]
            group = {"function": "functions", "table": "relations", "view": "relations", "column": "columns"}
            old, new = row[f"old_{group[rename.kind]}"], row[f"new_{group[rename.kind]}"]
            if old or not new:
                continue  # not applied (or applied and the old name made again): nothing of this kind
            findings.append(self.problem(
                "renamed_in_migration", CheckStatus.WARN,
                text(lang, "renames.applied", migration=rename.migration, kind=text(lang, f"renames.kind.{rename.kind}"),
                     old=rename.old_name, new=rename.new),
                detail=text(lang, "renames.detail", old=rename.old_name),
                evidence=[f"{rename.migration}: {rename.statement}",
                          f"catalog: {rename.old_name} absent, {rename.new} present"],
                **rename.as_data()))
        newest = sorted(files)[-NEWEST_MIGRATIONS:]
        return findings or [Finding(check=self.name, status=CheckStatus.OK,
                                    title=text(lang, "renames.none", count=len(newest), last=newest[-1].name))]
