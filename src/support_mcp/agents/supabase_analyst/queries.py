"""The catalog and consistency queries the checks run (read-only, parameterised, no user input
in the SQL text). Kept apart from the judging code so a reviewer can read them in one place."""

from __future__ import annotations

from psycopg import sql as pgsql

from support_mcp.domain.targets import SupabaseTarget, table_name

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

# name -> query; each is run with a small row cap: total_rows is the count, rows the examples.
# {profiles} and {subscriptions} are the target's tables (see `consistency`).
CONSISTENCY: dict[str, str] = {
    "users_without_profile": """
        select u.id, u.email, u.created_at from auth.users u
        left join {profiles} p on p.id = u.id
        where p.id is null and u.deleted_at is null order by u.created_at, u.id""",
    "orphaned_profiles": """
        select p.id, p.email, p.created_at from {profiles} p
        left join auth.users u on u.id = p.id where u.id is null order by p.created_at, p.id""",
    "profile_email_mismatch": """
        select p.id, p.email as profile_email, u.email as user_email from {profiles} p
        join auth.users u on u.id = p.id where p.email is distinct from u.email order by p.id""",
    "users_without_subscription": """
        select u.id, u.email, u.created_at from auth.users u
        left join {subscriptions} s on s.user_id = u.id
        where s.user_id is null and u.deleted_at is null order by u.created_at, u.id""",
    "banned_user_sessions": """
        select s.id as session_id, u.id as user_id, u.email, u.banned_until, u.deleted_at,
               (select count(*) from auth.refresh_tokens r where r.session_id = s.id and not r.revoked)
                 as refresh_tokens
        from auth.sessions s join auth.users u on u.id = s.user_id
        where (u.banned_until > now() or u.deleted_at is not null)
          and (s.not_after is null or s.not_after > now())
        order by u.email, s.id""",
}

# the sign-up probe's profile and subscription, by the probe user's id
SIGNUP_MADE = """select (select count(*) from {profiles} where id = %(id)s) as profiles,
       (select count(*) from {subscriptions} where user_id = %(id)s) as subscriptions"""


def app_tables(target: SupabaseTarget) -> dict[str, pgsql.Identifier]:
    """The target's profiles and subscriptions tables as quoted identifiers."""
    return {"profiles": pgsql.Identifier(*table_name(target.profiles_table)),
            "subscriptions": pgsql.Identifier(*table_name(target.subscriptions_table))}


def with_tables(query: str, target: SupabaseTarget) -> str:
    """`query` with {profiles} and {subscriptions} replaced by the target's quoted table names."""
    return pgsql.SQL(query).format(**app_tables(target)).as_string()  # type: ignore[arg-type]


def consistency(target: SupabaseTarget) -> dict[str, str]:
    return {code: with_tables(query, target) for code, query in CONSISTENCY.items()}


SIGNUP_FUNCTIONS = """
select p.proname as name, p.prosecdef as security_definer, p.proconfig as config,
       pg_get_function_identity_arguments(p.oid) as args
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname = 'public' and p.proname in ('handle_new_user', 'create_free_subscription')
"""

SIGNUP_TRIGGER = """
select t.tgname as name, t.tgenabled::text as enabled, p.proname as function
from pg_trigger t join pg_proc p on p.oid = t.tgfoid
where t.tgrelid = 'auth.users'::regclass and not t.tgisinternal
"""

MUTABLE_SEARCH_PATH = """
select n.nspname as schema, p.proname as name, pg_get_function_identity_arguments(p.oid) as args,
       p.prosecdef as security_definer,
       format('%%I.%%I(%%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) as regprocedure
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname = any(%(schemas)s) and p.prokind = 'f'
  and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%%')
order by 1, 2, 3
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
