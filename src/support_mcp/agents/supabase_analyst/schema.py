"""What the customer's project really has, learned from the catalog before a query is composed.

The profiles and subscriptions tables are configurable (`SUPPORT_MCP_SUPABASE_PROFILES_TABLE`,
`…_SUBSCRIPTIONS_TABLE`), and their columns are the project's own: which column holds the user's
id (a foreign key to `auth.users`, else `user_id`, else `id`), whether there is an `email` or a
`created_at`. Checks compose their SQL from this with psycopg's `sql.Identifier`; what a check
would like but the project lacks becomes a `skipped` finding with the reason, never an SQL error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import sql as pgsql

from support_mcp.domain.targets import SupabaseTarget, table_name

TABLE_SHAPE = """
select n.nspname as schema, c.relname as table,
       array(select a.attname::text from pg_attribute a
             where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum) as columns,
       (select a.attname::text from pg_constraint con
          join pg_attribute a on a.attrelid = con.conrelid and a.attnum = con.conkey[1]
        where con.conrelid = c.oid and con.contype = 'f' and con.confrelid = to_regclass('auth.users')
          and array_length(con.conkey, 1) = 1
        order by (a.attname <> 'id'), con.conname limit 1) as user_fk
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and (n.nspname, c.relname) in ((%(p_schema)s, %(p_table)s), (%(s_schema)s, %(s_table)s))
"""


@dataclass(frozen=True)
class AppTable:
    """One of the project's own tables as the catalog describes it."""

    schema: str
    name: str
    columns: tuple[str, ...]
    user_fk: str | None  # the column with a single-column foreign key to auth.users

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def sql(self) -> pgsql.Identifier:
        return pgsql.Identifier(self.schema, self.name)

    @property
    def user_column(self) -> str | None:
        """The column that holds the auth user's id: the foreign key, else `user_id`, else `id`."""
        if self.user_fk:
            return self.user_fk
        return next((c for c in ("user_id", "id") if c in self.columns), None)

    def has(self, column: str) -> bool:
        return column in self.columns


@dataclass(frozen=True)
class AppSchema:
    profiles: AppTable | None
    subscriptions: AppTable | None
    profiles_name: str
    subscriptions_name: str


def shape_params(target: SupabaseTarget) -> dict[str, str]:
    (p_schema, p_table), (s_schema, s_table) = table_name(target.profiles_table), table_name(target.subscriptions_table)
    return {"p_schema": p_schema, "p_table": p_table, "s_schema": s_schema, "s_table": s_table}


def app_schema(target: SupabaseTarget, rows: Sequence[dict[str, object]]) -> AppSchema:
    """The configured tables from the rows of TABLE_SHAPE (a missing table is None)."""
    tables = {f"{r['schema']}.{r['table']}": AppTable(str(r["schema"]), str(r["table"]),
                                                       tuple(str(c) for c in r["columns"] or ()),  # type: ignore[attr-defined]
                                                       str(r["user_fk"]) if r["user_fk"] else None)
              for r in rows}
    return AppSchema(tables.get(target.profiles_table), tables.get(target.subscriptions_table),
                     target.profiles_table, target.subscriptions_table)
