"""Secret columns and value shapes (domain.secrets): what the SQL executor masks in every row."""

from __future__ import annotations

import pytest

from support_mcp.domain.secrets import SECRET_COLUMN, is_secret_column, redact_rows

# GoTrue's own columns (auth.users, auth.refresh_tokens, auth.mfa_factors, auth.flow_state,
# auth.one_time_tokens, auth.identities) and ones a customer's schema commonly has.
SECRET = ["encrypted_password", "token", "confirmation_token", "recovery_token", "phone_change_token",
          "email_change_token_new", "email_change_token_current", "reauthentication_token", "secret",
          "totp_secret", "auth_code", "provider_access_token", "provider_refresh_token", "token_hash",
          "api_key", "anon_key", "service_role_key", "client_secret", "password_hash", "webhookSecret",
          "stripe_secret_key", "pin", "otp", "salt", "backup_code", "refresh_tokens"]
HARMLESS = ["id", "email", "recovery_sent_at", "confirmation_sent_at", "reauthentication_sent_at", "token_type",
            "key_count", "primary_key", "sort_key", "idempotency_key", "is_sso_user", "confirmed_at",
            "email_change_confirm_status", "secret_id", "secret_name", "password_min_length", "key",
            "raw_app_meta_data", "last_sign_in_at", "provider", "code_challenge_method", "revoked", "session_id"]


@pytest.mark.parametrize("name", SECRET)
def test_a_column_named_like_a_secret_is_secret(name: str) -> None:
    assert is_secret_column(name)


@pytest.mark.parametrize("name", HARMLESS)
def test_a_column_that_describes_a_secret_or_names_nothing_is_not(name: str) -> None:
    assert not is_secret_column(name)


def test_rows_lose_secret_values_but_keep_nulls_numbers_and_neighbours() -> None:
    bcrypt = "$2b$10$" + "a" * 53
    rows = [("u1", "anna@kunde.de", "gk3ldp2x9qaa", None, 4, {"provider": "github", "provider_token": "gho_x1"}),
            ("u2", "ben@kunde.de", "", bcrypt, 0, {"providers": ["email"]})]
    columns = ("id", "email", "token", "pw", "refresh_tokens", "raw_app_meta_data")
    out = redact_rows(columns, rows, (None, None, None, "encrypted_password", None, None))
    assert out[0][:2] == ("u1", "anna@kunde.de") and out[0][2] == SECRET_COLUMN
    assert out[0][3] is None and out[0][4] == 4  # an unset secret is a finding, a count is a count
    assert out[0][5] == {"provider": "github", "provider_token": "[REDACTED:secret-field]"}
    assert out[1][2] == "" and out[1][3] == SECRET_COLUMN  # alias "pw": judged by its table column
    assert redact_rows(("note",), [(f"reset to {bcrypt} by admin",)]) == [("reset to [REDACTED:bcrypt-hash] by admin",)]
