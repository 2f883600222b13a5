"""HTTP tokens from SUPPORT_MCP_HTTP_TOKENS (issue 15): one token per identity, none short."""

from __future__ import annotations

import pytest

from support_mcp.bootstrap import Settings
from support_mcp.domain.errors import InvalidInput

LONG_A = "a1b2c3d4e5f60718293a4b5c6d7e8f90aa"
LONG_B = "0f9e8d7c6b5a49382716f5e4d3c2b1a0bb"


def _settings(tokens: str) -> Settings:
    return Settings.from_env({"SUPPORT_MCP_HTTP_TOKENS": tokens})


def test_each_identity_gets_its_token() -> None:
    assert dict(_settings(f"tier1={LONG_A},tier2-lead={LONG_B}").http_tokens) == {LONG_A: "tier1", LONG_B: "tier2-lead"}


def test_one_token_under_two_identities_is_refused_without_showing_it() -> None:
    with pytest.raises(InvalidInput, match="both 'tier1' and 'tier2-lead'") as caught:
        _settings(f"tier1={LONG_A},tier2-lead={LONG_A}")
    assert LONG_A not in str(caught.value)


def test_the_same_pair_twice_is_one_entry() -> None:
    assert dict(_settings(f"tier1={LONG_A},tier1={LONG_A}").http_tokens) == {LONG_A: "tier1"}


@pytest.mark.parametrize("token", ["x", "secret", "a" * 31])
def test_a_token_shorter_than_32_characters_is_refused(token: str) -> None:
    with pytest.raises(InvalidInput, match="at least 32") as caught:
        _settings(f"tier1={token}")
    assert f"={token}" not in str(caught.value) and "'tier1'" in str(caught.value)

