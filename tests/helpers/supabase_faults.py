"""Independent probes for the fault scenarios of both Supabase labs: plain SQL against the lab
database, no analyst code involved.

`PROBES[lab][scenario](dsn)` is True while *any* trace of that fault is left (the effect a
customer sees, or the catalog state that causes it) and False on the healthy lab. A test asserts
it True after injecting the fault and False after the analyst's repair was applied; a partial
repair therefore still counts as "fault there".

    from helpers.supabase_faults import PROBES
    assert PROBES["supabase_cli"]["trigger_dropped"](dsn)

`CLI_FAULT_VISIBLE` / `OURS_FAULT_VISIBLE` are the per-lab tables; `ADVISOR` holds our own
catalog queries for the lints Supabase's advisor reports at WARN/ERROR (CLI lab's schemas).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg

from helpers.supabase_cli_lab import (
    CLI_CONFIRMED_USERS,
    CLI_LATE_SIGNUP,
    CLI_USERS,
    as_role,
    jwt_claims,
    signup,
)

Probe = Callable[[str], bool]

MARA, JONAS, LEA, TOBIAS = (CLI_USERS[e] for e in CLI_CONFIRMED_USERS)

# labs/supabase/03_seed.sql: anna is the oldest; carla is the one orphaned_profiles deletes.
OURS_USERS: dict[str, str] = {
    "anna@example.com": "11111111-1111-4111-8111-111111111111",
    "ben@example.com": "22222222-2222-4222-8222-222222222222",
    "carla@example.com": "33333333-3333-4333-8333-333333333333",
    "dana@example.com": "44444444-4444-4444-8444-444444444444",
    "emil@example.com": "55555555-5555-4555-8555-555555555555",
}
ANNA = OURS_USERS["anna@example.com"]
# The user trigger_disabled / trigger_dropped insert after breaking the trigger (labs/supabase).
OURS_LATE_SIGNUP = ("fritz@example.com", "66666666-6666-4666-8666-666666666666")


# ---------------------------------------------------------------------------- small SQL helpers

def query(dsn: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, params).fetchall()


def scalar(dsn: str, sql: str, params: Any = None) -> Any:
    return query(dsn, sql, params)[0][0]


def claims_from_db(dsn: str, user_id: str) -> dict[str, Any]:
    """The JWT the auth server would issue: app/user metadata from the user's row."""
    email, app_meta, user_meta = query(dsn, "select email, raw_app_meta_data, raw_user_meta_data "
                                            "from auth.users where id = %s", (user_id,))[0]
    return jwt_claims(user_id, email, app_metadata=app_meta, user_metadata=user_meta)


def sqlstate_as(dsn: str, sql: str, user_id: str = MARA, role: str = "authenticated") -> str | None:
    """None when `sql` runs as the signed-in user, else the SQLSTATE it fails with."""
    try:
        as_role(dsn, sql, role=role, claims=claims_from_db(dsn, user_id) if role == "authenticated" else
                {"role": role})
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


def anon_rows(dsn: str, table: str) -> int | None:
    """Rows the anon key reads from `table` through the Data API; None when it may not read it
    (no grant, no table)."""
    try:
        rows = as_role(dsn, f"select count(*) from {table}", role="anon", claims={"role": "anon"})
    except psycopg.Error:
        return None
    return int(rows[0][0])


def blocked_users_with_live_sessions(dsn: str) -> list[str]:
    """E-mails of banned or deleted users that still hold a live session or an unrevoked
    refresh token (both labs' auth schemas)."""
    return [e for (e,) in query(dsn, """
        select u.email from auth.users u
        where (u.banned_until > now() or u.deleted_at is not null)
          and (exists (select 1 from auth.sessions s where s.user_id = u.id
                         and (s.not_after is null or s.not_after > now()))
               or exists (select 1 from auth.refresh_tokens r where r.user_id = u.id::text and not r.revoked))
        order by 1""")]


def definer_unpinned(dsn: str, function: str) -> bool:
    """`function` (a regprocedure) is SECURITY DEFINER without a pinned search_path."""
    rows = query(dsn, "select prosecdef, proconfig from pg_proc where oid = to_regprocedure(%s)", (function,))
    if not rows:
        return False
    secdef, config = rows[0]
    return bool(secdef) and not any(c.startswith("search_path=") for c in config or ())


def user_metadata_policies(dsn: str) -> list[str]:
    """Policies of the public schema that read the user-editable user_metadata."""
    return [p for (p,) in query(dsn, "select policyname from pg_policies where schemaname = 'public' and "
                                     "(coalesce(qual, '') || coalesce(with_check, '')) like '%%user_metadata%%' "
                                     "order by 1")]


def orphaned_profiles(dsn: str) -> list[str]:
    return [i for (i,) in query(dsn, "select p.id::text from public.profiles p left join auth.users u "
                                     "on u.id = p.id where u.id is null order by 1")]


def profiles_fkey_missing(dsn: str) -> bool:
    return scalar(dsn, "select count(*) from pg_constraint where conrelid = 'public.profiles'::regclass "
                       "and contype = 'f' and confrelid = 'auth.users'::regclass") == 0


def own_profile_hidden(dsn: str, user_id: str) -> bool:
    """The user's profile row exists, but signed in they read none."""
    exists = scalar(dsn, "select count(*) from public.profiles where id = %s", (user_id,))
    seen = as_role(dsn, "select count(*) from public.profiles where id = %s", (user_id,),
                   claims=claims_from_db(dsn, user_id))
    return exists == 1 and seen == [(0,)]


def select_policies(dsn: str, table: str) -> int:
    return int(scalar(dsn, "select count(*) from pg_policy where polrelid = %s::regclass and polcmd in ('r', '*')",
                      (table,)))


def tables_without_rls(dsn: str) -> list[str]:
    return [t for (t,) in query(dsn, "select relname from pg_class where relnamespace = 'public'::regnamespace "
                                     "and relkind = 'r' and not relrowsecurity order by 1")]


def signup_trigger_enabled(dsn: str, function: str = "public.handle_new_user()") -> bool:
    """An enabled trigger on auth.users runs `function`."""
    return scalar(dsn, "select count(*) from pg_trigger where tgrelid = 'auth.users'::regclass "
                       "and not tgisinternal and tgenabled in ('O', 'A') and tgfoid = to_regprocedure(%s)",
                       (function,)) > 0


def user_incomplete(dsn: str, user_id: str, subscriptions: str) -> bool:
    """The auth user exists but lacks their profile or subscription row (`subscriptions`: the
    lab's table)."""
    rows = query(dsn, f"select (select count(*) from public.profiles where id = u.id), "
                      f"(select count(*) from {subscriptions} where user_id = u.id) from auth.users u "
                      f"where u.id = %s", (user_id,))
    return bool(rows) and rows[0] != (1, 1)


def ours_signup(dsn: str, email: str = "probe@example.com",
                user_id: str = "99999999-9999-4999-8999-999999999999") -> tuple[int, int]:
    """A sign-up on labs/supabase as its seed does it, rolled back; returns (profiles,
    subscriptions) the trigger made. Errors ("Database error saving new user") propagate."""
    with psycopg.connect(dsn) as conn:
        try:
            conn.execute("insert into auth.users (id, email, email_confirmed_at, raw_user_meta_data) "
                         "values (%s, %s, now(), %s)", (user_id, email, json.dumps({"full_name": "Probe"})))
            row = conn.execute("select (select count(*) from public.profiles where id = %s), "
                               "(select count(*) from public.subscriptions where user_id = %s)",
                               (user_id, user_id)).fetchone()
            assert row is not None
            return int(row[0]), int(row[1])
        finally:
            conn.rollback()


def signup_incomplete(sign_up: Callable[[str], tuple[int, int]], dsn: str) -> bool:
    """A new user does not end up with exactly one profile and one subscription."""
    try:
        return sign_up(dsn) != (1, 1)
    except psycopg.Error:
        return True


# ---------------------------------------------------------------------------- advisor (CLI lab)

# Our own catalog queries for what Supabase's advisor reports at WARN/ERROR (public schema).
ADVISOR: dict[str, str] = {
    "rls_disabled_in_public": """
        select c.relname from pg_class c where c.relnamespace = 'public'::regnamespace
        and c.relkind = 'r' and not c.relrowsecurity""",
    "rls_enabled_no_policy": """
        select c.relname from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
        and c.relrowsecurity and not exists (select 1 from pg_policy p where p.polrelid = c.oid)""",
    "function_search_path_mutable": """
        select p.proname from pg_proc p where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
        and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%%')
        and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')""",
    "rls_references_user_metadata": """
        select policyname from pg_policies where schemaname = 'public'
        and (qual like '%%user_metadata%%' or with_check like '%%user_metadata%%')""",
    "rls_policy_always_true": """
        select p.polname from pg_policy p join pg_class c on c.oid = p.polrelid
        where c.relnamespace = 'public'::regnamespace and p.polpermissive
        and (p.polroles = array[0::oid] or p.polroles && array['anon'::regrole::oid, 'authenticated'::regrole::oid])
        and ((p.polcmd in ('w', 'd', '*') and coalesce(pg_get_expr(p.polqual, p.polrelid), 'true') = 'true')
          or coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') = 'true'
          or (p.polcmd = 'a' and p.polwithcheck is null))""",
    "multiple_permissive_policies": """
        select c.relname || ':' || r.rolname || ':' || cmd from pg_policy p join pg_class c on c.oid = p.polrelid
        join pg_roles r on p.polroles @> array[r.oid] or p.polroles = array[0::oid],
        unnest(case p.polcmd when 'r' then array['SELECT'] when 'a' then array['INSERT']
               when 'w' then array['UPDATE'] when 'd' then array['DELETE']
               else array['SELECT', 'INSERT', 'UPDATE', 'DELETE'] end) cmd
        where c.relnamespace = 'public'::regnamespace and p.polpermissive and not r.rolbypassrls
        and r.rolname not like 'pg\\_%%'
        group by 1 having count(*) > 1""",
    "auth_rls_initplan": """
        select policyname from pg_policies where schemaname = 'public' and (
          (qual ~ 'auth\\.(uid|jwt|role|email)\\(\\)' and lower(qual) !~ 'select auth\\.(uid|jwt|role|email)\\(\\)')
          or (with_check ~ 'auth\\.(uid|jwt|role|email)\\(\\)'
              and lower(with_check) !~ 'select auth\\.(uid|jwt|role|email)\\(\\)'))""",
    "security_definer_function_executable": """
        select p.proname || ':' || r from pg_proc p, unnest(array['anon', 'authenticated']) r
        where p.pronamespace = 'public'::regnamespace and p.prosecdef
        and has_function_privilege(r, p.oid, 'EXECUTE')""",
}


# ---------------------------------------------------------------------------- labs/supabase_cli

def _cli_always_true(dsn: str) -> bool:
    # any signed-in user may rewrite the plans' limits, or an always-true write policy is left
    try:
        rows = as_role(dsn, "update public.billing_plans set max_bots = 1000 where id = 'free' returning id",
                       claims=claims_from_db(dsn, JONAS))
    except psycopg.Error:
        rows = []
    return bool(rows) or query(dsn, ADVISOR["rls_policy_always_true"]) != []


def _cli_definer_search_path(dsn: str) -> bool:
    return (definer_unpinned(dsn, "public.create_user_plan(uuid, text)")
            or query(dsn, ADVISOR["function_search_path_mutable"]) != [])


def _cli_metadata_policy(dsn: str) -> bool:
    # lea gave herself role=admin in her own metadata; with that JWT she reads every plan
    plans = as_role(dsn, "select count(*) from public.user_plans", claims=claims_from_db(dsn, LEA))
    return plans != [(1,)] or query(dsn, ADVISOR["rls_references_user_metadata"]) != []


def _cli_recursive_policy(dsn: str) -> bool:
    return any(sqlstate_as(dsn, sql, MARA) is not None for sql in (
        "select count(*) from public.bots", "select count(*) from public.bot_members",
        "select count(*) from public.bot_stats", "select * from public.get_my_bots()"))


def _cli_table_without_rls(dsn: str) -> bool:
    # the project's default privileges granted the new table to anon: the anon key reads the secrets
    return tables_without_rls(dsn) != [] or (anon_rows(dsn, "public.bot_webhooks") or 0) > 0


def _cli_trigger(dsn: str) -> bool:
    return (not signup_trigger_enabled(dsn) or user_incomplete(dsn, CLI_LATE_SIGNUP[1], "public.user_plans")
            or signup_incomplete(signup, dsn))


CLI_FAULT_VISIBLE: dict[str, Probe] = {
    "always_true_policy": _cli_always_true,
    "banned_sessions": lambda dsn: blocked_users_with_live_sessions(dsn) != [],
    "definer_search_path": _cli_definer_search_path,
    "metadata_policy": _cli_metadata_policy,
    "orphaned_profiles": lambda dsn: orphaned_profiles(dsn) != [] or profiles_fkey_missing(dsn),
    "recursive_policy": _cli_recursive_policy,
    "rls_no_policy": lambda dsn: own_profile_hidden(dsn, MARA) or select_policies(dsn, "public.profiles") == 0,
    "rpc_authenticated_only": lambda dsn: sqlstate_as(dsn, "select * from public.get_my_bots()", MARA) is not None,
    "subscription_fails": lambda dsn: signup_incomplete(signup, dsn),
    "table_without_rls": _cli_table_without_rls,
    "trigger_disabled": _cli_trigger,
    "trigger_dropped": _cli_trigger,
}


# ---------------------------------------------------------------------------- labs/supabase

def _ours_always_true(dsn: str) -> bool:
    # the anon key reads profiles, or a policy on profiles is still USING (true)
    return (anon_rows(dsn, "public.profiles") or 0) > 0 or scalar(
        dsn, "select count(*) from pg_policies where schemaname = 'public' and tablename = 'profiles' "
             "and lower(qual) in ('true', '(true)')") > 0


def _ours_metadata_policy(dsn: str) -> bool:
    # anna calls updateUser({data: {role: 'admin'}}): with that JWT she must still read only her own row
    claims = jwt_claims(ANNA, "anna@example.com", user_metadata={"role": "admin"})
    seen = as_role(dsn, "select count(*) from public.subscriptions", claims=claims)
    return seen != [(1,)] or user_metadata_policies(dsn) != []


def _ours_recursive_policy(dsn: str) -> bool:
    return any(sqlstate_as(dsn, sql, ANNA) is not None for sql in (
        "select count(*) from public.team_members", "select count(*) from public.teams"))


def _ours_table_without_rls(dsn: str) -> bool:
    return tables_without_rls(dsn) != [] or (anon_rows(dsn, "public.api_keys") or 0) > 0


def _ours_trigger(dsn: str) -> bool:
    return (not signup_trigger_enabled(dsn) or user_incomplete(dsn, OURS_LATE_SIGNUP[1], "public.subscriptions")
            or signup_incomplete(ours_signup, dsn))


OURS_FAULT_VISIBLE: dict[str, Probe] = {
    "always_true_policy": _ours_always_true,
    "banned_sessions": lambda dsn: blocked_users_with_live_sessions(dsn) != [],
    "definer_search_path": lambda dsn: definer_unpinned(dsn, "public.handle_new_user()"),
    "metadata_policy": _ours_metadata_policy,
    "orphaned_profiles": lambda dsn: orphaned_profiles(dsn) != [] or profiles_fkey_missing(dsn),
    "recursive_policy": _ours_recursive_policy,
    "rls_no_policy": lambda dsn: own_profile_hidden(dsn, ANNA) or select_policies(dsn, "public.profiles") == 0,
    "rpc_authenticated_only": lambda dsn: sqlstate_as(dsn, "select * from public.get_dashboard_stats()",
                                                      ANNA) is not None,
    "subscription_fails": lambda dsn: signup_incomplete(ours_signup, dsn),
    "table_without_rls": _ours_table_without_rls,
    "trigger_disabled": _ours_trigger,
    "trigger_dropped": _ours_trigger,
}

# lab name (LabSpec.name) -> scenario -> probe
PROBES: dict[str, dict[str, Probe]] = {"supabase": OURS_FAULT_VISIBLE, "supabase_cli": CLI_FAULT_VISIBLE}
