"""labs/supabase_cli/: the auth schema the Supabase auth server leaves, a customer's own app
schema, seed users that can "sign in", and every fault scenario of labs/supabase/faults/ in this
schema's own terms, each visible to an independent SQL query (no analyst code involved)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from helpers.supabase_cli_lab import (
    CLI,
    CLI_BOTS,
    CLI_CONFIRMED_USERS,
    CLI_LATE_SIGNUP,
    CLI_SCENARIOS,
    CLI_USERS,
    LABS,
    OURS,
    as_role,
    checksum,
    clone_cli_lab,
    create_cli_lab_template,
    jwt_claims,
    signup,
)
from helpers.supabase_lab import SCENARIOS, drop_database

MARA, JONAS, LEA, TOBIAS = (CLI_USERS[e] for e in CLI_CONFIRMED_USERS)


@pytest.fixture(scope="module")
def cli_template() -> Iterator[str]:
    name = create_cli_lab_template()
    yield name
    drop_database(name)


@pytest.fixture(scope="module")
def healthy(cli_template: str) -> Iterator[str]:
    """DSN of one healthy clone shared by the module's read-only tests."""
    name, dsn = clone_cli_lab(cli_template)
    yield dsn
    drop_database(name)


@pytest.fixture
def cli_lab(cli_template: str) -> Iterator[Callable[[str | None], str]]:
    """`cli_lab("trigger_dropped")` → DSN of a fresh clone with that fault (None: healthy)."""
    made: list[str] = []

    def make(scenario: str | None = None) -> str:
        name, dsn = clone_cli_lab(cli_template, scenario)
        made.append(name)
        return dsn

    yield make
    for name in made:
        drop_database(name)


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


# ---------------------------------------------------------------------------- platform shape

def test_scenarios_are_the_same_as_our_labs() -> None:
    assert CLI_SCENARIOS == SCENARIOS
    assert CLI.scenarios == OURS.scenarios
    assert [spec.name for spec in LABS] == ["supabase", "supabase_cli"]


UPSTREAM_COLUMNS: dict[str, set[str]] = {
    "users": {"instance_id", "id", "aud", "role", "email", "encrypted_password", "email_confirmed_at",
              "invited_at", "confirmation_token", "confirmation_sent_at", "recovery_token", "recovery_sent_at",
              "email_change_token_new", "email_change", "email_change_sent_at", "last_sign_in_at",
              "raw_app_meta_data", "raw_user_meta_data", "is_super_admin", "created_at", "updated_at", "phone",
              "phone_confirmed_at", "phone_change", "phone_change_token", "phone_change_sent_at", "confirmed_at",
              "email_change_token_current", "email_change_confirm_status", "banned_until",
              "reauthentication_token", "reauthentication_sent_at", "is_sso_user", "deleted_at", "is_anonymous"},
    "identities": {"provider_id", "user_id", "identity_data", "provider", "last_sign_in_at", "created_at",
                   "updated_at", "email", "id"},
    "sessions": {"id", "user_id", "created_at", "updated_at", "factor_id", "aal", "not_after", "refreshed_at",
                 "user_agent", "ip", "tag", "oauth_client_id", "refresh_token_hmac_key", "refresh_token_counter",
                 "scopes"},
    "refresh_tokens": {"instance_id", "id", "token", "user_id", "revoked", "created_at", "updated_at", "parent",
                       "session_id"},
    "mfa_factors": {"id", "user_id", "friendly_name", "factor_type", "status", "secret", "phone",
                    "last_challenged_at", "web_authn_credential", "web_authn_aaguid"},
    "mfa_challenges": {"id", "factor_id", "created_at", "verified_at", "ip_address", "otp_code",
                       "web_authn_session_data"},
    "mfa_amr_claims": {"session_id", "created_at", "updated_at", "authentication_method", "id"},
    "audit_log_entries": {"instance_id", "id", "payload", "created_at", "ip_address"},
    "instances": {"id", "uuid", "raw_base_config", "created_at", "updated_at"},
    "flow_state": {"id", "user_id", "auth_code", "code_challenge_method", "code_challenge", "provider_type",
                   "provider_access_token", "provider_refresh_token", "authentication_method",
                   "auth_code_issued_at"},
    "one_time_tokens": {"id", "user_id", "token_type", "token_hash", "relates_to", "created_at", "updated_at"},
    "schema_migrations": {"version"},
    "sso_providers": {"id", "resource_id", "disabled"},
    "saml_providers": {"id", "sso_provider_id", "entity_id", "metadata_xml", "name_id_format"},
}


def test_auth_tables_have_the_upstream_columns(healthy: str) -> None:
    rows = query(healthy, "select c.relname, a.attname from pg_attribute a join pg_class c on c.oid = a.attrelid "
                          "where c.relnamespace = 'auth'::regnamespace and c.relkind = 'r' and a.attnum > 0 "
                          "and not a.attisdropped")
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table, set()).add(column)
    for table, expected in UPSTREAM_COLUMNS.items():
        assert expected <= columns.get(table, set()), (table, expected - columns.get(table, set()))
    assert set(columns["users"]) == UPSTREAM_COLUMNS["users"]  # all of them, nothing of ours


def test_auth_column_details_are_upstreams(healthy: str) -> None:
    def col(table: str, column: str) -> tuple[str, str | None, bool, str]:
        row = query(healthy, "select format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid), "
                             "a.attnotnull, a.attgenerated::text from pg_attribute a left join pg_attrdef d "
                             "on d.adrelid = a.attrelid and d.adnum = a.attnum "
                             "where a.attrelid = %s::regclass and a.attname = %s", (f"auth.{table}", column))
        return row[0]

    assert col("users", "id") == ("uuid", None, True, "")  # the server makes the id
    assert col("users", "confirmed_at")[3] == "s"  # generated: least(email_confirmed_at, phone_confirmed_at)
    assert col("users", "is_anonymous") == ("boolean", "false", True, "")
    assert col("users", "phone")[0] == "text"
    assert col("identities", "email")[3] == "s"
    assert col("refresh_tokens", "id")[0] == "bigint"
    assert "nextval" in (col("refresh_tokens", "id")[1] or "")
    assert col("refresh_tokens", "user_id")[0] == "character varying(255)"
    assert col("sessions", "aal")[0] == "auth.aal_level"
    assert col("sessions", "refreshed_at")[0] == "timestamp without time zone"
    assert col("audit_log_entries", "ip_address") == ("character varying(64)", "''::character varying", True, "")
    # the e-mail is unique only for non-SSO users
    assert scalar(healthy, "select indexdef from pg_indexes where schemaname = 'auth' "
                           "and indexname = 'users_email_partial_key'").endswith("WHERE (is_sso_user = false)")
    assert scalar(healthy, "select count(*) from auth.schema_migrations") == 77


def test_auth_functions_read_both_claim_settings(healthy: str) -> None:
    claims = jwt_claims(MARA, "mara@example.de")
    row = as_role(healthy, "select auth.uid()::text, auth.role(), auth.email(), auth.jwt() ->> 'aud'",
                  claims=claims)[0]
    assert row == (MARA, "authenticated", "mara@example.de", "authenticated")
    with psycopg.connect(healthy) as conn:  # the legacy per-claim setting wins
        conn.execute("select set_config('request.jwt.claim.sub', %s, true), "
                     "set_config('request.jwt.claims', %s, true)", (JONAS, json.dumps(claims)))
        assert conn.execute("select auth.uid()::text").fetchone() == (JONAS,)
        conn.rollback()
        assert conn.execute("select auth.uid(), auth.jwt()").fetchone() == (None, None)


def test_roles_grants_and_ownership_are_supabases(healthy: str) -> None:
    roles = {r for (r,) in query(healthy, "select rolname from pg_roles")}
    assert {"anon", "authenticated", "service_role", "authenticator", "supabase_admin",
            "supabase_auth_admin"} <= roles
    assert scalar(healthy, "select array_agg(r order by r) from unnest(array['anon', 'authenticated', "
                           "'service_role']) r where pg_has_role('authenticator', r, 'member')") == [
        "anon", "authenticated", "service_role"]
    assert scalar(healthy, "select rolbypassrls from pg_roles where rolname = 'service_role'") is True
    for role in ("anon", "authenticated", "service_role"):
        assert scalar(healthy, "select has_schema_privilege(%s, 'auth', 'USAGE')", (role,)) is True
        assert scalar(healthy, "select has_table_privilege(%s, 'auth.users', 'SELECT')", (role,)) is False
        assert scalar(healthy, "select has_function_privilege(%s, 'auth.uid()', 'EXECUTE')", (role,)) is True
    owners = {o for (o,) in query(healthy, "select distinct pg_get_userbyid(relowner) from pg_class "
                                           "where relnamespace = 'auth'::regnamespace and relkind = 'r'")}
    assert owners == {"supabase_auth_admin"}
    assert scalar(healthy, "select relrowsecurity from pg_class where oid = 'auth.users'::regclass") is True
    # Supabase's default privileges: every public table is granted to the API roles
    assert scalar(healthy, "select has_table_privilege('anon', 'public.bots', 'DELETE')") is True
    assert scalar(healthy, "select count(*) from pg_namespace where nspname = 'supabase_migrations'") == 0


def test_public_schema_is_the_customers_not_ours(healthy: str) -> None:
    profile_columns = [c for (c,) in query(healthy, "select column_name from information_schema.columns where "
                                                    "table_schema = 'public' and table_name = 'profiles' "
                                                    "order by ordinal_position")]
    assert profile_columns == ["id", "updated_at", "username", "display_name", "website"]
    tables = {t for (t,) in query(healthy, "select tablename from pg_tables where schemaname = 'public'")}
    assert tables == {"profiles", "billing_plans", "user_plans", "bots", "bot_members", "bot_stats"}
    functions = {f for (f,) in query(healthy, "select proname from pg_proc where pronamespace = "
                                              "'public'::regnamespace")}
    assert functions == {"handle_new_user", "create_user_plan", "get_my_bots", "get_my_plan"}
    policies = {p for (p,) in query(healthy, "select policyname from pg_policies where schemaname = 'public'")}
    assert {"Enable read access for all users", "Users can view own profile", "Users can update own profile",
            "Users can view own bots"} <= policies
    assert scalar(healthy, "select tgenabled::text from pg_trigger where tgname = 'on_auth_user_created' "
                           "and tgrelid = 'auth.users'::regclass") == "O"


def test_seed_users_signed_up_like_real_ones(healthy: str) -> None:
    rows = query(healthy, """
        select u.email, u.email_confirmed_at is not null, u.confirmed_at is not null,
               (select count(*) from auth.identities i where i.user_id = u.id and i.provider = 'email'),
               (select count(*) from auth.sessions s where s.user_id = u.id
                  and (s.not_after is null or s.not_after > now())),
               (select count(*) from auth.refresh_tokens r where r.user_id = u.id::text and not r.revoked),
               (select count(*) from public.profiles p where p.id = u.id),
               (select plan_id from public.user_plans up where up.user_id = u.id),
               u.encrypted_password <> ''
                 and u.encrypted_password = extensions.crypt('lab-password', u.encrypted_password)
        from auth.users u order by u.created_at""")
    assert rows == [
        ("mara@example.de", True, True, 1, 1, 1, 1, "pro", True),
        ("jonas@example.de", True, True, 1, 1, 1, 1, "free", True),
        ("lea@example.de", True, True, 1, 1, 1, 1, "free", True),
        ("tobias@example.de", True, True, 1, 1, 1, 1, "business", True),
        ("nina@example.de", False, False, 1, 0, 0, 1, "free", False),
    ]
    assert scalar(healthy, "select identity_data ->> 'email' = email from auth.identities "
                           "where user_id = %s", (MARA,)) is True


@pytest.mark.parametrize("email", CLI_CONFIRMED_USERS)
def test_a_signed_in_user_reads_only_their_own_profile(healthy: str, email: str) -> None:
    me = CLI_USERS[email]
    claims = claims_from_db(healthy, me)
    assert as_role(healthy, "select id::text from public.profiles", claims=claims) == [(me,)]
    others = [uid for uid in CLI_USERS.values() if uid != me]
    assert as_role(healthy, "select count(*) from public.profiles where id = any(%s::uuid[])", (others,),
                   claims=claims) == [(0,)]
    assert as_role(healthy, "select count(*) from public.user_plans", claims=claims) == [(1,)]


def test_anon_reads_plans_but_nothing_personal(healthy: str) -> None:
    for table, rows in (("billing_plans", 3), ("profiles", 0), ("user_plans", 0), ("bots", 0), ("bot_stats", 0)):
        assert as_role(healthy, f"select count(*) from public.{table}", role="anon", claims={"role": "anon"}) == [
            (rows,)], table


def test_rpcs_and_team_visibility(healthy: str) -> None:
    mara, jonas = claims_from_db(healthy, MARA), claims_from_db(healthy, JONAS)
    assert [r[1] for r in as_role(healthy, "select * from public.get_my_bots()", claims=mara)] == [
        "Salon Terminbot", "Salon Bewertungen"]
    assert as_role(healthy, "select plan_id, max_bots, bots_used from public.get_my_plan()", claims=mara) == [
        ("pro", 5, 2)]
    # jonas owns one bot and is on mara's team: he sees both, his RPC lists his own
    assert {r[0] for r in as_role(healthy, "select name from public.bots", claims=jonas)} == {
        "Fahrradladen Support", "Salon Terminbot"}
    assert as_role(healthy, "select count(*) from public.bot_stats", claims=jonas) == [(1,)]
    assert [r[1] for r in as_role(healthy, "select * from public.get_my_bots()", claims=jonas)] == [
        "Fahrradladen Support"]
    # jonas cannot change mara's bot
    assert as_role(healthy, "update public.bots set name = 'x' where id = %s returning id",
                   (CLI_BOTS["Salon Terminbot"],), claims=jonas) == []


def test_sign_up_as_the_auth_server_makes_profile_and_plan(healthy: str) -> None:
    assert signup(healthy, user_metadata={"username": "probe_user"}) == (1, 1)


# ---------------------------------------------------------------------------- advisor: healthy is clean

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


@pytest.mark.parametrize("lint", sorted(ADVISOR))
def test_healthy_lab_gives_the_advisor_nothing(healthy: str, lint: str) -> None:
    assert query(healthy, ADVISOR[lint]) == []


def test_clones_are_identical_and_a_fault_changes_the_checksum(cli_lab: Callable[[str | None], str]) -> None:
    first, second = cli_lab(None), cli_lab(None)
    assert checksum(first) == checksum(second)
    before = checksum(first)
    signup(first)  # rolled back, but the identity sequence of user_plans moved on
    assert checksum(first) != before
    assert checksum(cli_lab("always_true_policy")) != checksum(second)


# ---------------------------------------------------------------------------- faults

def _always_true(dsn: str) -> bool:
    # any signed-in user may rewrite the plans' limits
    rows = as_role(dsn, "update public.billing_plans set max_bots = 1000 where id = 'free' returning id",
                   claims=claims_from_db(dsn, JONAS))
    return bool(rows) and query(dsn, ADVISOR["rls_policy_always_true"]) == [
        ("Enable update for authenticated users only",)]


def _banned_sessions(dsn: str) -> bool:
    rows = query(dsn, """
        select u.email, count(distinct s.id), count(r.id) filter (where not r.revoked)
        from auth.users u join auth.sessions s on s.user_id = u.id
        left join auth.refresh_tokens r on r.session_id = s.id
        where (u.banned_until > now() or u.deleted_at is not null)
          and (s.not_after is null or s.not_after > now())
        group by u.email order by u.email""")
    return rows == [("jonas@example.de", 1, 1), ("tobias@example.de", 1, 2)]


def _definer_search_path(dsn: str) -> bool:
    row = query(dsn, "select prosecdef, proconfig from pg_proc where oid = "
                     "'public.create_user_plan(uuid, text)'::regprocedure")[0]
    return row == (True, None) and query(dsn, ADVISOR["function_search_path_mutable"]) == [("create_user_plan",)]


def _metadata_policy(dsn: str) -> bool:
    # lea gave herself role=admin in her own metadata; with that JWT she reads every plan
    plans = as_role(dsn, "select count(*) from public.user_plans", claims=claims_from_db(dsn, LEA))
    return plans == [(5,)] and query(dsn, ADVISOR["rls_references_user_metadata"]) == [
        ("Admins can view all plans",)]


def _orphaned_profiles(dsn: str) -> bool:
    orphans = query(dsn, "select p.id::text from public.profiles p left join auth.users u on u.id = p.id "
                         "where u.id is null")
    fk = scalar(dsn, "select count(*) from pg_constraint where conrelid = 'public.profiles'::regclass "
                     "and contype = 'f' and confrelid = 'auth.users'::regclass")
    return orphans == [(LEA,)] and fk == 0


def _recursive_policy(dsn: str) -> bool:
    return all(sqlstate_as(dsn, sql) == "42P17" for sql in (
        "select count(*) from public.bots", "select count(*) from public.bot_members",
        "select * from public.get_my_bots()"))


def _rls_no_policy(dsn: str) -> bool:
    seen = as_role(dsn, "select count(*) from public.profiles where id = %s", (MARA,),
                   claims=claims_from_db(dsn, MARA))
    exists = scalar(dsn, "select count(*) from public.profiles where id = %s", (MARA,))
    select_policies = scalar(dsn, "select count(*) from pg_policy where polrelid = 'public.profiles'::regclass "
                                  "and polcmd in ('r', '*')")
    return seen == [(0,)] and exists == 1 and select_policies == 0


def _rpc_authenticated_only(dsn: str) -> bool:
    as_user = sqlstate_as(dsn, "select * from public.get_my_bots()")
    as_service = sqlstate_as(dsn, "select * from public.get_my_bots()", role="service_role")
    return as_user == "42501" and as_service is None


def _subscription_fails(dsn: str) -> bool:
    try:
        signup(dsn)
    except psycopg.errors.ForeignKeyViolation as exc:
        return exc.diag.constraint_name == "user_plans_plan_id_fkey"
    return False


def _table_without_rls(dsn: str) -> bool:
    if query(dsn, ADVISOR["rls_disabled_in_public"]) != [("bot_webhooks",)]:
        return False
    # the project's default privileges granted the new table to anon: the anon key reads the secrets
    return as_role(dsn, "select count(*) from public.bot_webhooks where signing_secret is not null",
                   role="anon", claims={"role": "anon"}) == [(2,)]


def _late_signup_has_nothing(dsn: str) -> bool:
    return query(dsn, "select (select count(*) from public.profiles where id = u.id), "
                      "(select count(*) from public.user_plans where user_id = u.id) from auth.users u "
                      "where u.email = %s", (CLI_LATE_SIGNUP[0],)) == [(0, 0)]


def _trigger_disabled(dsn: str) -> bool:
    state = query(dsn, "select tgenabled::text from pg_trigger where tgrelid = 'auth.users'::regclass "
                       "and tgname = 'on_auth_user_created'")
    return state == [("D",)] and _late_signup_has_nothing(dsn)


def _trigger_dropped(dsn: str) -> bool:
    triggers = query(dsn, "select tgname from pg_trigger where tgrelid = 'auth.users'::regclass "
                          "and not tgisinternal")
    function = scalar(dsn, "select to_regprocedure('public.handle_new_user()') is not null")
    return triggers == [] and function and _late_signup_has_nothing(dsn)


FAULT_VISIBLE: dict[str, Callable[[str], bool]] = {
    "always_true_policy": _always_true,
    "banned_sessions": _banned_sessions,
    "definer_search_path": _definer_search_path,
    "metadata_policy": _metadata_policy,
    "orphaned_profiles": _orphaned_profiles,
    "recursive_policy": _recursive_policy,
    "rls_no_policy": _rls_no_policy,
    "rpc_authenticated_only": _rpc_authenticated_only,
    "subscription_fails": _subscription_fails,
    "table_without_rls": _table_without_rls,
    "trigger_disabled": _trigger_disabled,
    "trigger_dropped": _trigger_dropped,
}


def test_every_scenario_has_a_probe() -> None:
    assert set(FAULT_VISIBLE) == set(CLI_SCENARIOS)


@pytest.mark.parametrize("scenario", sorted(FAULT_VISIBLE))
def test_fault_is_visible_to_an_independent_query(healthy: str, cli_lab: Callable[[str | None], str],
                                                   scenario: str) -> None:
    assert not FAULT_VISIBLE[scenario](healthy), "the healthy lab must not look like the fault"
    assert FAULT_VISIBLE[scenario](cli_lab(scenario))
