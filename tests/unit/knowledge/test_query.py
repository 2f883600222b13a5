"""Query parsing for the knowledge search (pure): websearch syntax without the implicit AND."""

from __future__ import annotations

import re

from support_mcp.services.knowledge.search import (
    build_concepts,
    index_text,
    normalize_for_search,
    parse_query,
)


def test_free_words_are_optional_and_quotes_or_negation_keep_their_meaning() -> None:
    parsed = parse_query('pm2 "bad gateway" -supabase -"edge functions"')
    assert parsed.words == ("pm2",)
    assert parsed.required == (("bad gateway",),)
    assert parsed.excluded == ("supabase", "edge functions")


def test_or_between_phrases_makes_them_alternatives() -> None:
    assert parse_query('"pm2 restart" OR "systemctl reload"').required == (("pm2 restart", "systemctl reload"),)


def test_hostile_text_leaves_only_plain_words() -> None:
    assert parse_query("'); drop table x; --").words == ("drop", "table", "x")
    assert parse_query("&|!:*").is_empty


def test_prefixes_are_built_from_alphanumeric_words_only() -> None:
    concepts = build_concepts(parse_query("deploy it's x'y:* neustart"))
    prefixes = [p for c in concepts for p in c.prefixes]
    assert {"'deploy':*", "'neustart':*"} <= set(prefixes)
    assert all(re.fullmatch(r"'[^\W_]+':\*", p) for p in prefixes)


def test_synonyms_add_lower_weighted_concepts() -> None:
    concepts = build_concepts(parse_query("502 bad gateway"))
    extra = [c for c in concepts if c.weight < 1]
    assert extra and "Caddy" in extra[0].alternatives


def test_non_breaking_hyphen_and_paths_are_normalised() -> None:
    assert normalize_for_search("Tier\u20112") == normalize_for_search("Tier-2") == "Tier 2"
    assert normalize_for_search("Nginx/Caddy auth.users") == "Nginx Caddy auth users"
    assert "verify Otp" in index_text("`verifyOtp()`")
