"""labs/supabase_cli/: the auth schema the Supabase auth server leaves, a customer's own app
schema, seed users that can "sign in", and every fault scenario of labs/supabase/faults/ in this
schema's own terms, each visible to an independent SQL query (no analyst code involved)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import psycopg
import pytest

from helpers.supabase_cli_lab import (
    CLI,
    CLI_BOTS,
    CLI_CONFIRMED_USERS,
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
from helpers.supabase_faults import ADVISOR, CLI_FAULT_VISIBLE, JONAS, MARA, claims_from_db, query, scalar
from helpers.supabase_lab import SCENARIOS, drop_database


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

def test_every_scenario_has_a_probe() -> None:
    assert set(CLI_FAULT_VISIBLE) == set(CLI_SCENARIOS)


@pytest.mark.parametrize("scenario", sorted(CLI_FAULT_VISIBLE))
def test_fault_is_visible_to_an_independent_query(healthy: str, cli_lab: Callable[[str | None], str],
                                                   scenario: str) -> None:
    assert not CLI_FAULT_VISIBLE[scenario](healthy), "the healthy lab must not look like the fault"
    assert CLI_FAULT_VISIBLE[scenario](cli_lab(scenario))
