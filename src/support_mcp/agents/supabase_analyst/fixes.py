"""What each Supabase repair changes, as data: which finding codes call for it, the migration SQL
it renders from the findings, the objects it touches, and the codes that must be gone after it.

Pure functions only (the migrations folder is read, nothing is written or executed here);
`repairs.py` runs them through the gated plan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pglast import ast, parse_sql
from pglast.parser import ParseError
from psycopg import sql as pgsql

from support_mcp.agents.supabase_analyst.parsers import reads_table
from support_mcp.domain.models import CheckStatus, Finding, Language
from support_mcp.domain.targets import table_name

Params = dict[str, Any]
_FUNC_CONTEXT = re.compile(r"function (?:(\w+)\.)?(\w+)\(")


def ident(name: str) -> str:
    """An identifier as psycopg quotes it: catalog names with spaces, capitals, quotes or umlauts
    (a policy made in the dashboard: "Enable read access for all users") are rendered safely."""
    if not name or "\x00" in name:
        raise ValueError(f"unexpected identifier {name!r}")
    return pgsql.Identifier(name).as_string()


def qname(qualified: str) -> str:
    """`schema.name` (schema defaults to public) with both parts quoted."""
    schema, dot, name = qualified.partition(".")
    if not dot:
        schema, name = "public", qualified
    return f"{ident(schema)}.{ident(name)}"


def render(template: str, **names: pgsql.Composable) -> str:
    """Migration text with the configured names quoted by psycopg (never formatted in)."""
    return pgsql.SQL(template).format(**names).as_string()  # type: ignore[arg-type]


def app_table(params: Params, key: str, default: str) -> pgsql.Identifier:
    """The target's `profiles_table`/`subscriptions_table` (plan adds them to the params)."""
    return pgsql.Identifier(*table_name(str(params.get(key) or default)))


@dataclass(frozen=True)
class Fix:
    name: str
    title: dict[Language, str]
    codes: tuple[str, ...]  # finding codes this fix answers
    gone_after: tuple[str, ...]  # finding codes that must be gone after it
    checks: tuple[str, ...]  # checks that reproduce those codes
    params_from: Callable[[Sequence[Finding], Path | None], Params | None]
    sql: Callable[[Params], str]


def _first(findings: Sequence[Finding], *codes: str) -> Finding | None:
    return next((f for f in findings if f.data.get("code") in codes
                 and f.status in (CheckStatus.WARN, CheckStatus.FAIL)), None)


# --- migrations: the project's own definitions are the source of truth -------------------------


def statements_in(path: Path) -> list[tuple[ast.Node, str]]:
    """(parsed statement, its text) for each statement of an SQL file; unparsable files yield none."""
    text = path.read_text("utf-8", errors="replace")
    try:
        raw = parse_sql(text)
    except ParseError:
        return []
    out = []
    for r in raw:
        end = r.stmt_location + r.stmt_len if r.stmt_len else len(text)
        body = "\n".join(line for line in text[r.stmt_location:end].strip().splitlines()
                         if not line.lstrip().startswith("--")).strip()
        out.append((r.stmt, body))
    return out


def migration_files(migrations_dir: Path | None) -> list[Path]:
    if migrations_dir is None or not migrations_dir.is_dir():
        return []
    return sorted(migrations_dir.glob("*.sql"))


def last_definition(migrations_dir: Path | None, kind: str, name: str, table: str | None = None) -> tuple[str, str] | None:
    """The newest CREATE FUNCTION / CREATE POLICY of `name` in the migrations: (sql, file name)."""
    found: tuple[str, str] | None = None
    for path in migration_files(migrations_dir):
        for stmt, body in statements_in(path):
            if kind == "function" and isinstance(stmt, ast.CreateFunctionStmt):
                parts = [getattr(p, "sval", "") for p in stmt.funcname]
                if ".".join(parts) in (name, name.split(".")[-1]) or parts[-1] == name.split(".")[-1]:
                    found = (body, path.name)
            elif kind == "policy" and isinstance(stmt, ast.CreatePolicyStmt) and stmt.policy_name == name:
                rel = stmt.table
                if table is None or f"{rel.schemaname or 'public'}.{rel.relname}" == table:
                    found = (body, path.name)
    return found


def normalized(sql: str) -> str:
    return re.sub(r"\s+", " ", "\n".join(line for line in sql.splitlines()
                                         if not line.lstrip().startswith("--"))).strip().rstrip(";").lower()


def existing_migration(migrations_dir: Path | None, sql: str) -> str | None:
    """The file in `supabase/migrations` that already contains every statement of `sql`."""
    wanted = [normalized(body) for _, body in _split(sql)]
    for path in migration_files(migrations_dir):
        have = {normalized(body) for _, body in statements_in(path)}
        if wanted and all(w in have for w in wanted):
            return path.name
    return None


def _split(sql: str) -> list[tuple[ast.Node, str]]:
    out = []
    for r in parse_sql(sql):
        end = r.stmt_location + r.stmt_len if r.stmt_len else len(sql)
        out.append((r.stmt, sql[r.stmt_location:end].strip()))
    return out


def split_statements(sql: str) -> list[str]:
    return [body for _, body in _split(sql)]


# --- the fixes ---------------------------------------------------------------------------------


def _trigger_params(findings: Sequence[Finding], migrations: Path | None) -> Params | None:
    f = _first(findings, "signup_trigger_missing", "signup_trigger_disabled")
    if f is None:
        return None
    function = f.data.get("function")
    if f.data["code"] == "signup_trigger_disabled":
        return {"reason": f.data["code"], "trigger": f.data["trigger"], "function": function}
    found = last_trigger_definition(migrations, function)
    if found is not None:
        definition, source, trigger, function = found
        return {"reason": f.data["code"], "trigger": trigger, "function": function, "definition": definition,
                "source": source}
    if function:  # the project's trigger function survived its trigger: the playbook's trigger name
        return {"reason": f.data["code"], "trigger": "on_auth_user_created", "function": function}
    return None


def last_trigger_definition(migrations: Path | None, function: str | None) -> tuple[str, str, str, str] | None:
    """The newest CREATE TRIGGER … ON auth.users in the migrations that runs `function` (or, without
    one, is named on_auth_user_created): (sql, file, trigger name, function as SQL)."""
    found = None
    for path in migration_files(migrations):
        for stmt, body in statements_in(path):
            if not isinstance(stmt, ast.CreateTrigStmt) or stmt.relation.schemaname != "auth" \
                    or stmt.relation.relname != "users":
                continue
            parts = [getattr(p, "sval", "") for p in stmt.funcname]
            runs = ".".join(ident(p) for p in (parts if len(parts) > 1 else ["public", *parts]))
            if (function and runs == function) or (not function and stmt.trigname == "on_auth_user_created"):
                found = (body, path.name, stmt.trigname, runs)
    return found


# Users who signed up while the trigger was off get what it would have made: the project's own
# trigger function, replayed once for each of them through a temporary UPDATE trigger.
_REPLAY_SQL = """CREATE TRIGGER support_mcp_replay_signup AFTER UPDATE ON auth.users
  FOR EACH ROW EXECUTE FUNCTION {function}();
UPDATE auth.users u SET id = u.id
  WHERE u.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM {profiles} p WHERE p.{user_column} = u.id);
DROP TRIGGER support_mcp_replay_signup ON auth.users;"""


def _trigger_sql(p: Params) -> str:
    function = str(p["function"])
    if p["reason"] == "signup_trigger_disabled":
        sql = [f"ALTER TABLE auth.users ENABLE TRIGGER {ident(p['trigger'])};"]
    elif p.get("definition"):
        sql = [f"DROP TRIGGER IF EXISTS {ident(p['trigger'])} ON auth.users;", f"{p['definition']};"]
    else:
        sql = [f"DROP TRIGGER IF EXISTS {ident(p['trigger'])} ON auth.users;",
               f"CREATE TRIGGER {ident(p['trigger'])} AFTER INSERT ON auth.users\n"
               f"  FOR EACH ROW EXECUTE FUNCTION {function}();"]
    sql.append(render(_REPLAY_SQL, function=pgsql.SQL(function), profiles=app_table(p, "profiles_table",
                                                                                     "public.profiles"),
                      user_column=pgsql.Identifier(str(p.get("profiles_user_column") or "id"))))
    text = "\n".join(sql)
    # `function` comes from the catalog (format %I) or a parsed migration; it must stay one name
    for stmt in (r.stmt for r in parse_sql(text)):
        if not isinstance(stmt, ast.CreateTrigStmt | ast.AlterTableStmt | ast.DropStmt | ast.UpdateStmt):
            raise ValueError(f"unexpected statement in the trigger repair: {type(stmt).__name__}")
    return text


def _function_params(findings: Sequence[Finding], migrations: Path | None) -> Params | None:
    f = _first(findings, "signup_fails")
    if f is None:
        return None
    # The innermost PL/pgSQL frame names the function that raised.
    names = _FUNC_CONTEXT.findall(str(f.data.get("context") or ""))
    for schema, name in names:
        found = last_definition(migrations, "function", f"{schema or 'public'}.{name}")
        if found:
            return {"function": f"{schema or 'public'}.{name}", "definition": found[0], "source": found[1]}
    return None


def _function_sql(p: Params) -> str:
    """The migration's definition, as CREATE OR REPLACE: the function exists (it is what raises)."""
    definition = str(p["definition"])
    [stmt] = [r.stmt for r in parse_sql(definition)]
    if not isinstance(stmt, ast.CreateFunctionStmt):
        raise ValueError("the restored definition is not one CREATE FUNCTION")
    if stmt.replace:
        return definition
    return re.sub(r"^\s*create\s+function\b", "CREATE OR REPLACE FUNCTION", definition, count=1, flags=re.IGNORECASE)


def dropped_select_policy(migrations: Path | None, table: str) -> tuple[str, str, str] | None:
    """The newest CREATE POLICY in the migrations that lets signed-in users read `table`
    (FOR SELECT or ALL, TO authenticated or PUBLIC): (sql, file, policy name)."""
    found = None
    for path in migration_files(migrations):
        for stmt, body in statements_in(path):
            if not isinstance(stmt, ast.CreatePolicyStmt) or stmt.cmd_name not in ("select", "all"):
                continue
            if f"{stmt.table.schemaname or 'public'}.{stmt.table.relname}" != table:
                continue
            roles = {getattr(r, "rolename", None) or "public" for r in (stmt.roles or ())} or {"public"}
            if roles & {"authenticated", "public"}:
                found = (body, path.name, str(stmt.policy_name))
    return found


def _restore_dropped_params(findings: Sequence[Finding], migrations: Path | None) -> Params | None:
    f = _first(findings, "rls_no_policy_for_role")
    if f is None or f.data.get("cmd") != "SELECT":
        return None
    found = dropped_select_policy(migrations, str(f.data["table"]))
    if found is None:
        return None
    return {"table": f.data["table"], "policy": found[2], "definition": found[0], "source": found[1],
            "cmd": "SELECT", "role": "authenticated"}


def _owner_policy_params(findings: Sequence[Finding], migrations: Path | None) -> Params | None:
    f = _first(findings, "table_read_empty")
    if f is None or not f.data.get("owner_column"):
        return None
    if dropped_select_policy(migrations, str(f.data["table"])) is not None:
        return None  # the project's own policy comes back instead (restore_dropped_policy)
    # the policy answers SELECT for authenticated: other commands of the role are not its business
    return {"table": f.data["table"], "owner_column": f.data["owner_column"], "cmd": "SELECT",
            "role": "authenticated", **({"user": f.data["user"]} if f.data.get("user") else {})}


def _owner_policy_sql(p: Params) -> str:
    table = qname(p["table"])
    name = ident(p["table"].split(".")[-1] + "_select_own")
    return (f"CREATE POLICY {name} ON {table} FOR SELECT TO authenticated\n"
            f"  USING ((SELECT auth.uid()) = {ident(p['owner_column'])});")


def _recursion_params(findings: Sequence[Finding], migrations: Path | None) -> Params | None:
    """The policy of the cycle whose version in supabase/migrations does not read the next table
    of the cycle: restoring it breaks the cycle (the others are as the project wrote them)."""
    f = _first(findings, "rls_policy_recursion")
    if f is None:
        return None
    steps = f.data.get("cycle") or ([{"table": f.data["table"], "policy": f.data["policy"], "reads": f.data["table"]}]
                                    if f.data.get("policy") else [])
    for step in steps:
        found = last_definition(migrations, "policy", step["policy"], step["table"])
        if found is None:
            continue
        reads = str(step.get("reads") or step["table"])
        schema, _, table = reads.partition(".")
        if reads != "?" and not reads_table(found[0], None, schema, table):
            return {"table": step["table"], "policy": step["policy"], "definition": found[0], "source": found[1]}
    return None


def _metadata_params(findings: Sequence[Finding], _: Path | None) -> Params | None:
    f = _first(findings, "rls_references_user_metadata")
    if f is None:
        return None
    return {"table": f.data["table"], "policy": f.data["policy"], "expression": f.data["expression"]}


def _metadata_sql(p: Params) -> str:
    # app_metadata is set only by the service role (server side); user_metadata by the user.
    expr = str(p["expression"]).replace("user_metadata", "app_metadata").replace("raw_user_meta_data",
                                                                                 "raw_app_meta_data")
    return f"ALTER POLICY {ident(p['policy'])} ON {qname(p['table'])}\n  USING ({expr});"


def _search_path_params(findings: Sequence[Finding], _: Path | None) -> Params | None:
    f = _first(findings, "function_search_path_mutable")
    if f is None or f.data.get("kind") == "a":  # an aggregate takes no SET clause
        return None
    return {"function": f.data["function"], **{k: f.data[k] for k in ("regprocedure", "kind") if f.data.get(k)}}


def _search_path_sql(p: Params) -> str:
    # the catalog's own rendering of the signature (quoted where needed), checked below
    signature = str(p.get("regprocedure") or p["function"])
    verb = "PROCEDURE" if p.get("kind") == "p" else "FUNCTION"
    sql = f"ALTER {verb} {signature} SET search_path = '';"
    parsed = parse_sql(sql)
    if len(parsed) != 1 or not isinstance(parsed[0].stmt, ast.AlterFunctionStmt):
        raise ValueError(f"unexpected function signature {signature!r}")
    return sql


def _enable_rls_params(findings: Sequence[Finding], _: Path | None) -> Params | None:
    f = _first(findings, "rls_disabled_in_public")
    return {"table": f.data["table"]} if f else None


def _enable_rls_sql(p: Params) -> str:
    table = qname(p["table"])
    sql = [f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;", f"REVOKE ALL ON {table} FROM anon;"]
    if p.get("owner_column"):
        sql.append(_owner_policy_sql(p))
    return "\n".join(sql)


def _always_true_params(findings: Sequence[Finding], _: Path | None) -> Params | None:
    f = _first(findings, "rls_policy_always_true")
    if f is None:
        return None
    return {"table": f.data["table"], "policy": f.data["policy"], "roles": list(f.data.get("roles") or ())}


def _always_true_sql(p: Params) -> str:
    # Dropping the policy is enough: RLS then denies what it let through. Grants stay as they are
    # (a separate public-read policy, or another role's, may rely on them).
    return f"DROP POLICY {ident(p['policy'])} ON {qname(p['table'])};"


def _orphan_params(findings: Sequence[Finding], _: Path | None) -> Params | None:
    f = _first(findings, "orphaned_profiles")
    return {"count": f.data.get("count")} if f else None


_ORPHAN_SQL = """DELETE FROM {profiles} p
  WHERE NOT EXISTS (SELECT 1 FROM auth.users u WHERE u.id = p.{user_column});
ALTER TABLE {profiles} DROP CONSTRAINT IF EXISTS {fkey};
ALTER TABLE {profiles} ADD CONSTRAINT {fkey}
  FOREIGN KEY ({user_column}) REFERENCES auth.users (id) ON DELETE CASCADE;"""


def _orphan_sql(p: Params) -> str:
    profiles = str(p.get("profiles_table") or "public.profiles")
    column = str(p.get("profiles_user_column") or "id")
    # PostgreSQL's own name for a one-column foreign key: <table>_<column>_fkey
    return render(_ORPHAN_SQL, profiles=app_table(p, "profiles_table", "public.profiles"),
                  user_column=pgsql.Identifier(column),
                  fkey=pgsql.Identifier(f"{table_name(profiles)[1]}_{column}_fkey"))

_SESSIONS_SQL = """UPDATE auth.refresh_tokens r SET revoked = true, updated_at = now()
  FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id
  WHERE r.session_id = s.id AND NOT r.revoked AND (u.banned_until > now() OR u.deleted_at IS NOT NULL);
DELETE FROM auth.sessions s USING auth.users u
  WHERE u.id = s.user_id AND (u.banned_until > now() OR u.deleted_at IS NOT NULL);"""


def _grant_params(findings: Sequence[Finding], _: Path | None) -> Params | None:
    f = _first(findings, "rpc_fails_for_role")
    if f is None or f.data.get("sqlstate") != "42501":
        return None
    m = re.search(r"permission denied for table (.+?)\s*$", str(f.data.get("message")))
    if m is None:
        return None
    schema = str(f.data["function"]).partition(".")[0] if "." in str(f.data["function"]) else "public"
    return {"table": f"{schema}.{m[1]}", "role": f.data.get("role", "authenticated"), "function": f.data["function"]}


FIXES: tuple[Fix, ...] = (
    Fix("restore_signup_trigger", {"de": "Registrierungs-Trigger wiederherstellen und Profile/Abos nachtragen",
                                   "en": "Restore the sign-up trigger and backfill profiles/subscriptions"},
        ("signup_trigger_missing", "signup_trigger_disabled"),
        ("signup_trigger_missing", "signup_trigger_disabled", "users_without_profile", "users_without_subscription",
         "signup_no_profile", "signup_no_subscription"),
        ("functions", "auth_consistency", "signup_path"), _trigger_params, _trigger_sql),
    Fix("restore_function", {"de": "Funktion aus supabase/migrations wiederherstellen",
                             "en": "Restore the function from supabase/migrations"},
        ("signup_fails",), ("signup_fails",), ("signup_path",), _function_params, _function_sql),
    Fix("add_owner_select_policy", {"de": "SELECT-Policy für eigene Zeilen anlegen",
                                    "en": "Add a SELECT policy for own rows"},
        ("table_read_empty",), ("table_read_empty", "rls_no_policy_for_role"), ("reproduce_rpc", "rls_policies"),
        _owner_policy_params, _owner_policy_sql),
    Fix("restore_dropped_policy", {"de": "Gelöschte SELECT-Policy aus supabase/migrations wiederherstellen",
                                   "en": "Restore the dropped SELECT policy from supabase/migrations"},
        ("rls_no_policy_for_role",), ("rls_no_policy_for_role", "table_read_empty"), ("rls_policies", "reproduce_rpc"),
        _restore_dropped_params, lambda p: str(p["definition"]) + ";"),
    Fix("restore_policy", {"de": "Rekursive Policy durch die Fassung aus supabase/migrations ersetzen",
                           "en": "Replace the recursive policy with its version from supabase/migrations"},
        ("rls_policy_recursion",), ("rls_policy_recursion", "table_read_fails"), ("rls_policies", "reproduce_rpc"),
        _recursion_params,
        lambda p: f"DROP POLICY IF EXISTS {ident(p['policy'])} ON {qname(p['table'])};\n{p['definition']};"),
    Fix("policy_use_app_metadata", {"de": "Policy auf app_metadata umstellen (alter policy … using)",
                                    "en": "Switch the policy to app_metadata (alter policy … using)"},
        ("rls_references_user_metadata",), ("rls_references_user_metadata",), ("rls_policies",),
        _metadata_params, _metadata_sql),
    Fix("pin_search_path", {"de": "search_path der Funktion fest setzen", "en": "Pin the function's search_path"},
        ("function_search_path_mutable",), ("function_search_path_mutable",), ("functions", "signup_path"),
        _search_path_params, _search_path_sql),
    Fix("enable_rls", {"de": "RLS aktivieren und anon-Zugriff entziehen", "en": "Enable RLS and revoke anon access"},
        ("rls_disabled_in_public",), ("rls_disabled_in_public",), ("rls_policies",),
        _enable_rls_params, _enable_rls_sql),
    Fix("drop_always_true_policy", {"de": "Immer-wahre Policy entfernen", "en": "Drop the always-true policy"},
        ("rls_policy_always_true",), ("rls_policy_always_true",), ("rls_policies",), _always_true_params,
        _always_true_sql),
    Fix("delete_orphaned_profiles", {"de": "Verwaiste Profile löschen und Fremdschlüssel wiederherstellen",
                                     "en": "Delete orphaned profiles and restore the foreign key"},
        ("orphaned_profiles",), ("orphaned_profiles",), ("auth_consistency",), _orphan_params, _orphan_sql),
    Fix("revoke_banned_sessions", {"de": "Sitzungen gesperrter/gelöschter Nutzer beenden",
                                   "en": "End sessions of banned/deleted users"},
        ("banned_user_sessions",), ("banned_user_sessions",), ("auth_consistency",),
        lambda fs, _: {"count": f.data.get("count")} if (f := _first(fs, "banned_user_sessions")) else None,
        lambda p: _SESSIONS_SQL),
    Fix("grant_table_privilege", {"de": "Fehlendes Tabellenrecht für die Rolle wieder vergeben",
                                  "en": "Grant the missing table privilege to the role again"},
        ("rpc_fails_for_role",), ("rpc_fails_for_role",), ("reproduce_rpc",), _grant_params,
        lambda p: f"GRANT SELECT ON {qname(p['table'])} TO {ident(p['role'])};"),
)


_NAME_PART = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_TABLE_REF = re.compile(rf"\b(?:ON|TABLE|FROM|INTO|UPDATE|JOIN)\s+({_NAME_PART}\s*\.\s*{_NAME_PART})", re.IGNORECASE)
_FUNCTION_REF = re.compile(rf"\bFUNCTION\s+({_NAME_PART}\s*\.\s*{_NAME_PART})\s*\(", re.IGNORECASE)


def _catalog_name(reference: str) -> str:
    """`"public"."Profiles"` or `public.profiles` as the catalog spells it: `public.Profiles`."""
    parts = re.findall(_NAME_PART, reference)
    return ".".join(p[1:-1].replace('""', '"') if p.startswith('"') else p.lower() for p in parts)


def touched_objects(sql: str, schemas: Iterable[str] = ("public", "auth")) -> tuple[list[str], list[str]]:
    """Tables and functions in `schemas` a migration names, quoted or not (for before/after and
    the fingerprint); the schema filter keeps aliases such as `ON p.id` out."""
    known = set(schemas)
    tables = {n for t in _TABLE_REF.findall(sql) if (n := _catalog_name(t)).partition(".")[0] in known}
    functions = {n for f in _FUNCTION_REF.findall(sql) if (n := _catalog_name(f)).partition(".")[0] in known}
    return sorted(tables), sorted(functions)
