"""Repairs render catalog names the way psycopg quotes them: names made in the Supabase
dashboard (spaces, capitals), quotes, umlauts and a hostile name stay one identifier each."""

from __future__ import annotations

import pytest
from pglast import ast, parse_sql

from support_mcp.agents.supabase_analyst.fixes import FIXES, ident, qname

NAMES = ["Enable read access for all users", "Users can update own profile", 'say "hi"', "Größe_prüfen",
         "x; drop table public.profiles; --", "UPPER"]


@pytest.mark.parametrize("name", NAMES)
def test_a_policy_name_is_one_quoted_identifier(name: str) -> None:
    fix = next(f for f in FIXES if f.name == "drop_always_true_policy")
    sql = fix.sql({"policy": name, "table": "public.Bot Stats", "roles": ["authenticated"]})
    [stmt] = [r.stmt for r in parse_sql(sql)]
    assert isinstance(stmt, ast.DropStmt)
    # pglast gives back the names exactly as the catalog holds them
    assert [getattr(p, "sval", None) for p in stmt.objects[0]] == ["public", "Bot Stats", name]


def test_alter_policy_and_grant_quote_every_name() -> None:
    metadata = next(f for f in FIXES if f.name == "policy_use_app_metadata")
    sql = metadata.sql({"policy": "Users see team rows", "table": "public.Team Members",
                        "expression": "(auth.jwt() -> 'user_metadata' ->> 'team') = team"})
    assert sql.startswith('ALTER POLICY "Users see team rows" ON "public"."Team Members"')
    assert "app_metadata" in sql and "user_metadata" not in sql
    grant = next(f for f in FIXES if f.name == "grant_table_privilege")
    assert grant.sql({"table": "public.bot_stats", "role": "authenticated"}) == \
        'GRANT SELECT ON "public"."bot_stats" TO "authenticated";'


def test_a_search_path_repair_accepts_only_a_function_signature() -> None:
    pin = next(f for f in FIXES if f.name == "pin_search_path")
    assert pin.sql({"function": "x", "regprocedure": '"public"."Größe"(p_user uuid, "My Type")'}) == \
        'ALTER FUNCTION "public"."Größe"(p_user uuid, "My Type") SET search_path = \'\';'
    with pytest.raises(ValueError, match="unexpected function signature"):
        pin.sql({"function": "public.f() SET search_path = ''; DROP TABLE public.profiles; --"})


def test_identifiers_quote_and_refuse_nul() -> None:
    assert ident('say "hi"') == '"say ""hi"""' and qname("profiles") == '"public"."profiles"'
    with pytest.raises(ValueError):
        ident("bad\x00name")
