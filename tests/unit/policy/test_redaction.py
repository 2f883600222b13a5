"""Redaction: a corpus of realistic secrets and clean log lines, mappings, capping, and speed."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from support_mcp.domain.errors import InvalidInput
from support_mcp.policy.redaction import cap_output, is_secret_name, prepare_output, redact, redact_mapping

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "redaction"
SECRETS: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "secrets.yaml").read_text(encoding="utf-8"))
CLEAN = [line for line in (FIXTURES / "clean.txt").read_text(encoding="utf-8").splitlines() if line]
GENEROUS_S = 5.0  # a bound for "finishes", not a benchmark: catastrophic backtracking takes minutes

OMISSION = re.compile(r"\n… \[(\d+) bytes omitted\] …\n")


def _jwt(payload: dict[str, object]) -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.{part('fake-signature-0123456789')}"


SERVICE_ROLE = _jwt({"iss": "supabase", "ref": "qwertyuiopasdfghjklz", "role": "service_role", "iat": 1718000000})


def _pieces(secret: str, size: int = 12) -> list[str]:
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


# --- the corpus ---


def test_the_corpus_is_large_enough_to_mean_something() -> None:
    assert len(SECRETS) >= 40
    assert len(CLEAN) >= 30


@pytest.mark.parametrize("entry", SECRETS, ids=lambda e: e["text"][:48])
def test_every_secret_of_the_corpus_is_removed_and_its_kind_named(entry: dict[str, Any]) -> None:
    out = redact(entry["text"])

    for secret in entry["secrets"]:
        assert secret not in out
    assert f"[REDACTED:{entry['kind']}]" in out
    for context in entry.get("keep", []):
        assert context in out


@pytest.mark.parametrize("line", CLEAN)
def test_a_clean_log_line_passes_unchanged(line: str) -> None:
    assert redact(line) == line


def test_the_clean_corpus_passes_unchanged_as_one_text() -> None:
    text = "\n".join(CLEAN) + "\n"
    assert redact(text) == text


def test_redacting_twice_changes_nothing() -> None:
    for entry in SECRETS:
        once = redact(entry["text"])
        assert redact(once) == once


# --- single rules ---


def test_a_database_url_keeps_user_and_host() -> None:
    assert (
        redact("postgres://app_rw:S3cr3t-pw@db.internal:5432/app")
        == "postgres://app_rw:[REDACTED:postgres-password]@db.internal:5432/app"
    )
    assert redact("redis://:pa55word@cache:6379/0") == "redis://:[REDACTED:redis-password]@cache:6379/0"


def test_an_unencoded_at_sign_in_a_url_password_leaks_nothing() -> None:
    out = redact("DATABASE_URL=postgresql://postgres:p@ss@w0rd@db.example.de:5432/postgres")

    assert out == "DATABASE_URL=postgresql://postgres:[REDACTED:postgres-password]@db.example.de:5432/postgres"


@pytest.mark.parametrize(
    "dsn",
    [
        "host=db port=5432 dbname=app user=app_rw password=Xy7_pQ9 sslmode=require",
        "password='Xy7_pQ9' host=db dbname=app",
        "dbname=app\tuser=app_rw\tpassword=Xy7_pQ9",
    ],
)
def test_a_libpq_password_is_named_a_postgres_password(dsn: str) -> None:
    out = redact(dsn)

    assert "Xy7_pQ9" not in out
    assert "[REDACTED:postgres-password]" in out


def test_a_bearer_token_in_prose_is_removed_but_the_word_bearer_is_not() -> None:
    assert redact("retrying with Bearer 7f3a9c2e1b4d6f8a0c2e4b6d") == "retrying with Bearer [REDACTED:bearer-token]"
    assert redact("Bearer authentication required") == "Bearer authentication required"


@pytest.mark.parametrize(
    "text",
    [
        "password: ********",
        'DB_PASSWORD="${DB_PASSWORD}"',
        "SUPABASE_SERVICE_ROLE_KEY=<your-service-role-key>",
        'secret = "env(SUPABASE_AUTH_EXTERNAL_GITHUB_SECRET)"',
        "token=null refresh_token=undefined",
        "Please reset the password: the old one was used on another site.",
        "the token: expired at 08:14, the client asked for a new one",
    ],
)
def test_masks_placeholders_and_prose_stay(text: str) -> None:
    assert redact(text) == text


def test_a_password_pasted_into_a_sentence_is_removed() -> None:
    out = redact("Kunde schreibt: mein password: Sommer2024! funktioniert nicht mehr")

    assert "Sommer2024!" not in out
    assert "[REDACTED:password]" in out


@pytest.mark.parametrize("label", ["RSA", "EC", "OPENSSH", "ENCRYPTED", "DSA", ""])
def test_a_pem_private_key_block_is_removed_whole(label: str) -> None:
    kind = f"{label} PRIVATE KEY" if label else "PRIVATE KEY"
    body = ["Proc-Type: 4,ENCRYPTED", "DEK-Info: AES-128-CBC,3F2A9C0B7E1D5A44", ""] if label == "RSA" else []
    body += ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" + "a" * 12, "Zm9vYmFyYmF6cXV4" * 4]
    text = "before\n" + "\n".join([f"-----BEGIN {kind}-----", *body, f"-----END {kind}-----"]) + "\nafter"

    assert redact(text) == "before\n[REDACTED:private-key]\nafter"


def test_half_a_pem_block_is_removed_and_the_lines_around_it_stay() -> None:
    lines = ["MIIEpAIBAAKCAQEAx2Yf8Q" + "b" * 42, "c" * 64, "d" * 20]
    head_only = "key:\n-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(lines)
    tail_only = "… [900 bytes omitted] …\n" + "\n".join(lines) + "\n-----END RSA PRIVATE KEY-----\ndone"

    assert redact(head_only) == "key:\n[REDACTED:private-key]"
    assert redact(tail_only) == "… [900 bytes omitted] …\n[REDACTED:private-key]\ndone"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("DB_PASSWORD", True), ("PGPASSWORD", True), ("serviceRoleKey", True), ("SUPABASE_ANON_KEY", True),
        ("x-api-key", True), ("HCLOUD_TOKEN", True), ("client_secret", True), ("authorization", True),
        ("aws_secret_access_key", True), ("_authToken", True), ("STRIPE_WEBHOOK_SECRET", True),
        ("PASSWORD_MIN_LENGTH", False), ("token_type", False), ("max_tokens", False), ("tokenizer", False),
        ("sort_key", False), ("AWS_ACCESS_KEY_ID", False), ("password_file", False), ("user", False),
        ("secretary", False), ("token_expires_at", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


# --- mappings ---


def test_redact_mapping_replaces_the_whole_value_under_a_secret_key() -> None:
    config = {
        "db": {"host": "10.0.0.5", "user": "app_rw", "password": "hunter2-XY", "port": 5432},
        "supabase": {"url": "https://qwertyuiopasdfghjklz.supabase.co", "service_role_key": SERVICE_ROLE},
        "headers": [{"Authorization": "Bearer abc"}, {"Accept": "*/*"}],
        "credentials": {"user": "admin", "pin": 1234},
    }

    out = redact_mapping(config)

    assert out["db"] == {"host": "10.0.0.5", "user": "app_rw", "password": "[REDACTED:password]", "port": 5432}
    assert out["supabase"]["url"] == "https://qwertyuiopasdfghjklz.supabase.co"
    assert out["supabase"]["service_role_key"] == "[REDACTED:service-role-key]"
    assert out["headers"] == [{"Authorization": "[REDACTED:credentials]"}, {"Accept": "*/*"}]
    assert out["credentials"] == "[REDACTED:credentials]"


def test_redact_mapping_redacts_strings_everywhere_and_leaves_other_values() -> None:
    row = {"id": 42, "note": f"customer pasted {SERVICE_ROLE}", "tags": ("a", "DATABASE_URL=postgres://u:pw9@h/d"),
           "token": None, "api_key": "", "secret": "********", "ok": True}

    out = redact_mapping(row)

    assert out == {"id": 42, "note": "customer pasted [REDACTED:jwt]",
                   "tags": ("a", "DATABASE_URL=postgres://u:[REDACTED:postgres-password]@h/d"),
                   "token": None, "api_key": "", "secret": "********", "ok": True}


def test_redact_mapping_leaves_its_input_alone() -> None:
    original = {"password": "hunter2-XY", "nested": [{"token": "t0ken-123"}]}
    snapshot = json.dumps(original)

    redact_mapping(original)

    assert json.dumps(original) == snapshot


# --- capping ---


def _split_capped(out: str) -> tuple[str, int, str]:
    match = OMISSION.search(out)
    assert match is not None
    return out[: match.start()], int(match[1]), out[match.end() :]


def test_cap_output_leaves_text_within_the_budget_alone() -> None:
    assert cap_output("short output\n", 1000) == ("short output\n", False)


def test_cap_output_keeps_whole_lines_of_head_and_tail_and_counts_what_is_gone() -> None:
    text = "".join(f"2024-06-10T08:14:{i % 60:02d} line {i:05d}\n" for i in range(5000))

    out, truncated = cap_output(text, 2000)

    assert truncated
    assert len(out.encode()) <= 2000
    head, omitted, tail = _split_capped(out)
    assert text.startswith(head + "\n") and text.endswith(tail)
    assert re.search(r"line \d{5}$", head) and tail.startswith("2024-06-10T")  # whole lines only
    assert len(head.encode()) + omitted + len(tail.encode()) == len(text.encode())


@pytest.mark.parametrize("max_bytes", range(64, 200, 7))
def test_cap_output_never_splits_a_character(max_bytes: int) -> None:
    text = "Prüfung fehlgeschlagen: Größe überschritten 🚨€" * 40  # no line breaks, few delimiters

    out, truncated = cap_output(text, max_bytes)

    assert truncated
    assert len(out.encode()) <= max_bytes
    head, _, tail = _split_capped(out)
    assert text.startswith(head) and text.endswith(tail)


def test_cap_output_refuses_a_budget_smaller_than_its_marker() -> None:
    with pytest.raises(InvalidInput):
        cap_output("x" * 100, 10)
    with pytest.raises(InvalidInput):
        prepare_output("x" * 100, 0)


def test_50_megabytes_are_capped_and_prepared_quickly() -> None:
    line = f"2024-06-10T08:14:02Z web[1234]: GET /api/tickets 200 apikey={SERVICE_ROLE}\n"
    text = line * (50_000_000 // len(line))

    started = time.perf_counter()
    capped, capped_truncated = cap_output(text, 64_000)
    prepared, prepared_truncated = prepare_output(text, 64_000)
    elapsed = time.perf_counter() - started

    assert elapsed < GENEROUS_S
    assert capped_truncated and prepared_truncated
    assert len(capped.encode()) <= 64_000 and len(prepared.encode()) <= 64_000
    assert SERVICE_ROLE not in prepared and "apikey=[REDACTED:jwt]" in prepared


# --- prepare_output: the cut and the redaction together ---


def test_prepare_output_redacts_output_within_the_budget() -> None:
    assert prepare_output(f"key={SERVICE_ROLE}\n", 4096) == ("key=[REDACTED:jwt]\n", False)


def test_prepare_output_stays_within_the_budget_when_markers_are_longer_than_secrets() -> None:
    text = "".join(f"password={i:04d}\n" for i in range(60))  # 14 bytes a line, 37 once redacted

    out, truncated = prepare_output(text, 600)

    assert truncated
    assert len(out.encode()) <= 600
    assert not re.search(r"password=\d", out)


def _assert_no_piece_of(secret: str, out: str) -> None:
    leaked = [piece for piece in _pieces(secret) if piece in out]
    assert not leaked, f"pieces of the secret survived: {leaked[:3]}"


def test_a_jwt_straddling_either_cut_leaves_no_recognisable_piece() -> None:
    filler = [f"0|web  | GET /api/tickets/{i} 200 in {i % 97}ms" for i in range(60)]
    text = "\n".join([*filler, f"SUPABASE_SERVICE_ROLE_KEY={SERVICE_ROLE}", *filler,
                      f"> apikey: {SERVICE_ROLE}", *filler]) + "\n"

    # Sweep the budget so that both the head cut and the tail cut pass through each JWT line.
    for max_bytes in range(300, len(text.encode()), 11):
        out, _ = prepare_output(text, max_bytes)
        assert len(out.encode()) <= max_bytes
        _assert_no_piece_of(SERVICE_ROLE, out)


def test_a_jwt_straddling_the_cut_of_one_long_json_line_leaves_no_recognisable_piece() -> None:
    env = {f"VAR_{i:03d}": f"value-{i}" for i in range(80)}
    env["SUPABASE_SERVICE_ROLE_KEY"] = SERVICE_ROLE
    env.update({f"ZZZ_{i:03d}": f"value-{i}" for i in range(80)})
    text = json.dumps([{"name": "web", "pm2_env": {"env": env}}], separators=(",", ":"))  # like pm2 jlist

    for max_bytes in range(200, len(text.encode()), 13):
        out, _ = prepare_output(text, max_bytes)
        assert len(out.encode()) <= max_bytes
        _assert_no_piece_of(SERVICE_ROLE, out)


def test_a_jwt_cut_without_any_delimiter_loses_its_head() -> None:
    # Past the snap window a cut may land inside a token; the JWT header alone is still recognised.
    assert redact(f"...{SERVICE_ROLE[:40]}") == "...[REDACTED:jwt]"


# --- speed and pathological input ---


def test_a_megabyte_of_logs_is_redacted_quickly() -> None:
    block = "\n".join(CLEAN + [entry["text"] for entry in SECRETS[:10]]) + "\n"
    text = block * (1_000_000 // len(block) + 1)

    started = time.perf_counter()
    out = redact(text)

    assert time.perf_counter() - started < GENEROUS_S
    assert SERVICE_ROLE not in out and "[REDACTED:" in out


@pytest.mark.parametrize(
    "text",
    [
        "a://b:" * 200_000,
        "postgres://u:p" * 70_000,
        "postgres://u:" + "@" * 1_000_000,
        "eyJ" * 300_000,
        '"password":"' * 100_000,
        "x:" * 500_000,
        "password=" * 120_000,
        "Cookie: " + "a=b;" * 250_000,
        "Authorization: " * 70_000,
        "sk-" + "A1" * 500_000,
        "-----BEGIN PRIVATE KEY-----\n" * 40_000 + "-----END PRIVATE KEY-----",
        ("A" * 64 + "\n") * 20_000 + "-----END PRIVATE KEY-----\n",
        "a" * 1_000_000,
    ],
    ids=lambda text: repr(text[:16]),
)
def test_pathological_input_finishes(text: str) -> None:
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < GENEROUS_S


def test_lone_surrogates_from_undecodable_output_do_not_break_capping() -> None:
    text = b"caf\xe9 password=hunter2-XY\n".decode("utf-8", "surrogateescape") * 3

    short, _ = prepare_output(text, 4096)
    long, truncated = prepare_output(text * 100, 256)

    assert short == "caf? password=[REDACTED:password]\n" * 3
    assert truncated and len(long.encode()) <= 256 and "hunter2" not in long
    assert cap_output(text, 4096)[0].encode()
