"""The catalog and consistency queries the checks run (read-only, parameterised, no user input
in the SQL text). Kept apart from the judging code so a reviewer can read them in one place."""

from __future__ import annotations

import re

from psycopg import sql as pgsql

from support_mcp.agents.supabase_analyst.schema import AppSchema, AppTable
from support_mcp.domain.targets import table_name

HEALTH = """
select
  (select coalesce(json_object_agg(state, n), '{}'::json) from (
     select coalesce(state, 'background') as state, count(*) as n from pg_stat_activity
     where datname = current_database() group by 1) s) as connections,
  (select count(*) from pg_stat_activity where datname = current_database() and state <> 'idle'
     and pid <> pg_backend_pid() and now() - query_start > make_interval(secs => %(long_s)s)) as long_running,
  (select count(*) from pg_locks l join pg_database d on d.oid = l.database
     where not l.granted and d.datname = current_database()) as blocked_locks,
  pg_database_size(current_database()) as size_bytes,
  (select blks_hit from pg_stat_database where datname = current_database()) as blks_hit,
  (select blks_read from pg_stat_database where datname = current_database()) as blks_read
"""

LONG_RUNNING = """
select pid, usename, state, round(extract(epoch from now() - query_start))::int as seconds,
       left(regexp_replace(query, '\\s+', ' ', 'g'), 160) as query
from pg_stat_activity
where datname = current_database() and state <> 'idle' and pid <> pg_backend_pid()
  and now() - query_start > make_interval(secs => %(long_s)s)
order by query_start
"""

USER_COUNT = "select count(*) as users from auth.users where deleted_at is null"


Skip = tuple[str, dict[str, str]]  # (text key, values): why a query cannot run on this project


def consistency(schema: AppSchema) -> tuple[dict[str, str], dict[str, Skip]]:
    """(code -> query, code -> why it is skipped) for the project's own tables and columns.
    Each query is run with a small row cap: total_rows is the count, rows the examples."""
    queries: dict[str, pgsql.Composed] = {}
    skipped: dict[str, Skip] = {}
    p, s = schema.profiles, schema.subscriptions
    p_user = p.user_column if p else None
    if p is None or p_user is None:
        reason: Skip = ("skip.no_table" if p is None else "skip.no_user_column", {"table": schema.profiles_name})
        skipped |= dict.fromkeys(("users_without_profile", "orphaned_profiles", "profile_email_mismatch"), reason)
    else:
        uc = pgsql.Identifier(p_user)
        extra = pgsql.SQL("").join(pgsql.SQL(", p.{}").format(pgsql.Identifier(c))
                                   for c in ("email", "created_at") if p.has(c))
        queries["users_without_profile"] = pgsql.SQL(
            "select u.id, u.email, u.created_at from auth.users u where u.deleted_at is null "
            "and not exists (select 1 from {t} p where p.{uc} = u.id) order by u.created_at, u.id").format(t=p.sql, uc=uc)
        queries["orphaned_profiles"] = pgsql.SQL(
            "select p.{uc} as id{extra} from {t} p where p.{uc} is not null "
            "and not exists (select 1 from auth.users u where u.id = p.{uc}) order by p.{uc}").format(
                t=p.sql, uc=uc, extra=extra)
        if p.has("email"):
            queries["profile_email_mismatch"] = pgsql.SQL(
                "select p.{uc} as id, p.email as profile_email, u.email as user_email from {t} p "
                "join auth.users u on u.id = p.{uc} where p.email is distinct from u.email order by 1").format(
                    t=p.sql, uc=uc)
        else:
            skipped["profile_email_mismatch"] = ("skip.no_column", {"table": schema.profiles_name, "column": "email"})
    s_user = subscription_user_column(s)
    if s is None or s_user is None:
        skipped["users_without_subscription"] = ("skip.no_table" if s is None else "skip.no_user_column",
                                                 {"table": schema.subscriptions_name})
    else:
        queries["users_without_subscription"] = pgsql.SQL(
            "select u.id, u.email, u.created_at from auth.users u where u.deleted_at is null "
            "and not exists (select 1 from {t} s where s.{uc} = u.id) order by u.created_at, u.id").format(
                t=s.sql, uc=pgsql.Identifier(s_user))
    queries["banned_user_sessions"] = pgsql.SQL(BANNED_USER_SESSIONS).format()
    return {code: q.as_string() for code, q in queries.items()}, skipped


def subscription_user_column(table: AppTable | None) -> str | None:
    """A subscription's user: its foreign key to auth.users, else `user_id` (never its own id)."""
    if table is None:
        return None
    return table.user_fk or ("user_id" if table.has("user_id") else None)


BANNED_USER_SESSIONS = """
        select s.id as session_id, u.id as user_id, u.email, u.banned_until, u.deleted_at,
               (select count(*) from auth.refresh_tokens r where r.session_id = s.id and not r.revoked)
                 as refresh_tokens
        from auth.sessions s join auth.users u on u.id = s.user_id
        where (u.banned_until > now() or u.deleted_at is not null)
          and (s.not_after is null or s.not_after > now())
        order by u.email, s.id"""


def signup_made(schema: AppSchema) -> str | None:
    """The sign-up probe's profile and subscription counts, by the probe user's id (None: no
    profiles table to look in)."""
    p, s = schema.profiles, schema.subscriptions
    if p is None or p.user_column is None:
        return None
    sub: pgsql.Composable = pgsql.SQL("null")
    s_user = subscription_user_column(s)
    if s is not None and s_user is not None:
        sub = pgsql.SQL("(select count(*) from {t} where {c} = %(id)s)").format(t=s.sql, c=pgsql.Identifier(s_user))
    return pgsql.SQL("select (select count(*) from {t} where {c} = %(id)s) as profiles, {sub} as subscriptions").format(
        t=p.sql, c=pgsql.Identifier(p.user_column), sub=sub).as_string()


def profiles_insert_pattern(profiles_table: str) -> str:
    """A regular expression (PostgreSQL and Python) for an INSERT into the profiles table in a
    function body, quoted or not, schema-qualified or not."""
    schema, table = table_name(profiles_table)
    return rf'insert\s+into\s+(("?{re.escape(schema)}"?)\s*\.\s*)?"?{re.escape(table)}"?(\s|\()'


# The sequences a sign-up probe may draw from, with the value each would hand out next.
PROBE_SEQUENCES = """
select schemaname, sequencename,
       case when last_value is null then start_value else last_value + increment_by end as restart
from pg_sequences where schemaname = any(%(schemas)s) order by 1, 2
"""

# Triggers on auth.users with their function; `inserts_profile`: its body inserts into profiles.
SIGNUP_TRIGGERS = """
select t.tgname as name, t.tgenabled::text as enabled, format('%%I.%%I', fn.nspname, fp.proname) as function,
       fp.prosecdef as security_definer, fp.prosrc ~* %(pattern)s as inserts_profile
from pg_trigger t join pg_proc fp on fp.oid = t.tgfoid join pg_namespace fn on fn.oid = fp.pronamespace
where t.tgrelid = 'auth.users'::regclass and not t.tgisinternal
order by t.tgname
"""

# Trigger functions that would create the profile (a dropped trigger leaves its function behind).
SIGNUP_TRIGGER_FUNCTIONS = """
select format('%%I.%%I', n.nspname, p.proname) as function
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where p.prorettype = 'trigger'::regtype and n.nspname not in ('pg_catalog', 'information_schema', 'auth', 'storage')
  and p.prosrc ~* %(pattern)s
order by (p.proname <> 'handle_new_user'), 1
"""

TABLES = """
select n.nspname as schema, c.relname as table, c.relrowsecurity as rls,
       array(select r || ':' || cmd from unnest(array['anon', 'authenticated']) r,
             unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) cmd
             where has_table_privilege(r, c.oid, cmd)) as grants
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and n.nspname = any(%(schemas)s)
order by 1, 2
"""

POLICIES = """
select n.nspname as schema, c.relname as table, p.polname as policy, p.polpermissive as permissive,
       p.polcmd::text as cmd,
       array(select case when r = 0 then 'public' else pg_get_userbyid(r) end from unnest(p.polroles) r)
         as roles,
       pg_get_expr(p.polqual, p.polrelid) as qual, pg_get_expr(p.polwithcheck, p.polrelid) as with_check
from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any(%(schemas)s)
order by 1, 2, 3
"""

# Column that names a row's owner: a single-column foreign key to auth.users, else user_id.
OWNER_COLUMNS = """
select distinct on (n.nspname, c.relname) n.nspname as schema, c.relname as table, a.attname as column
from pg_class c join pg_namespace n on n.oid = c.relnamespace
join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
left join pg_constraint con on con.conrelid = c.oid and con.contype = 'f'
  and con.confrelid = 'auth.users'::regclass and con.conkey = array[a.attnum]
where c.relkind = 'r' and n.nspname = any(%(schemas)s)
  and (con.oid is not null or a.attname in ('user_id', 'owner_id'))
order by n.nspname, c.relname, (con.oid is null), a.attname
"""

# RPCs a signed-in user may call without arguments (what the dashboard calls on load).
RPCS = """
select n.nspname as schema, p.proname as name
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname = any(%(schemas)s) and p.prokind = 'f' and p.pronargs = 0
  and p.prorettype <> 'trigger'::regtype and has_function_privilege('authenticated', p.oid, 'EXECUTE')
order by 1, 2
"""

# The user to reproduce as: confirmed, not banned, not deleted, with a profile if possible.
SAMPLE_USER = """
select u.id, u.email, u.raw_app_meta_data as app_metadata, u.raw_user_meta_data as user_metadata
from auth.users u
where u.deleted_at is null and (u.banned_until is null or u.banned_until < now())
  and u.email_confirmed_at is not null
order by u.created_at, u.id
limit 1
"""

USER_BY_ID_OR_EMAIL = """
select u.id, u.email, u.raw_app_meta_data as app_metadata, u.raw_user_meta_data as user_metadata
from auth.users u where u.id::text = %(who)s or lower(u.email) = lower(%(who)s) limit 1
"""
