"""What counts as a secret in data: column and key names, and values by their shape.

The SQL executor applies this to every row before a result leaves it (so neither an MCP client
nor a ticket note ever sees `auth.users.encrypted_password` or `auth.refresh_tokens.token`), and
`policy.redaction` uses the same value shapes in free text. It lives in the domain layer because
both sides of the layer below the agents need it and neither may import the other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

# Words that make a column or key a secret wherever they stand in its name.
_SECRET_WORDS = frozenset({
    "password", "passwd", "passphrase", "pwd", "secret", "secrets", "token", "tokens", "apikey", "credential",
    "credentials", "otp", "totp", "salt", "nonce", "privkey", "jwt", "cookie", "passcode", "pin",
})
# Prefixes that make the whole name secret ("recovery_token", "recovery_code"), except where the
# name goes on with a word of the list below ("recovery_sent_at" is a time).
_SECRET_PREFIXES = frozenset({"recovery", "reauthentication"})
# "<something>_code" that signs someone in (flow_state.auth_code, backup codes of MFA).
_SECRET_CODES = frozenset({"auth", "authorization", "recovery", "verification", "confirmation", "backup", "reset",
                           "otp", "login", "invite", "activation"})
# "<something>_key" is a secret unless <something> says what kind of key it is in a schema.
_HARMLESS_KEYS = frozenset({
    "primary", "foreign", "sort", "partition", "idempotency", "cache", "dedup", "dedupe", "lookup", "natural",
    "unique", "group", "order", "shard", "routing", "row", "composite", "surrogate", "i18n", "translation",
    "message", "storage", "object", "s3", "bucket", "file", "path", "setting", "config", "feature", "flag",
    "event", "queue", "job", "lock", "map", "hash", "index", "public",
})
# A name ending in one of these describes a secret (its time, count, kind), it does not hold one.
_DESCRIPTIVE_TAILS = frozenset({
    "at", "on", "time", "date", "count", "counts", "type", "types", "kind", "status", "state", "id", "ids",
    "length", "len", "min", "max", "expires", "expiry", "ttl", "version", "policy", "hint", "enabled", "required",
    "changed", "set", "updated", "created", "sent", "reset", "attempts", "strength", "algorithm", "algo", "used",
    "revoked", "scopes", "scope", "name", "label", "provider", "format", "valid", "is", "claim", "claims",
})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)
def name_tokens(name: str) -> tuple[str, ...]:
    return tuple(t for t in _SPLIT.split(_CAMEL.sub("_", name).lower()) if t)


@lru_cache(maxsize=4096)
def is_secret_column(name: str) -> bool:
    """Whether a column (or JSON key) named so holds a secret: encrypted_password, token,
    confirmation_token, phone_change_token, email_change_token_new, recovery_token, api_key,
    client_secret, totp_secret, password_hash — not recovery_sent_at, token_type, key_count."""
    tokens = name_tokens(name)
    if not tokens or tokens[-1] in _DESCRIPTIVE_TAILS or tokens[0] == "is":
        return False
    if tokens[0] in _SECRET_PREFIXES:
        return True
    for i, token in enumerate(tokens):
        if token in _SECRET_WORDS or token.endswith(("password", "secret", "token", "apikey")):
            return True
        if token in ("key", "keys") and (i == 0 or tokens[i - 1] not in _HARMLESS_KEYS) and len(tokens) > 1:
            return True
        if token == "hash" and i > 0 and tokens[i - 1] in _SECRET_WORDS | {"password", "token", "key", "code"}:
            return True
        if token == "code" and i > 0 and tokens[i - 1] in _SECRET_CODES:
            return True
    return False


# Password hashes and verifiers, recognisable wherever they stand.
HASH_SHAPES: tuple[tuple[str, str], ...] = (
    (r"\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}", "bcrypt-hash"),
    (r"\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{8,}={0,2}\$[A-Za-z0-9+/]{16,}={0,2}",
     "argon2-hash"),
    (r"\$scrypt\$[^\s$]{1,200}\$[A-Za-z0-9+/=.]{8,}\$[A-Za-z0-9+/=.]{16,}", "scrypt-hash"),
    (r"\$pbkdf2(?:-sha\d+)?\$\d+\$[A-Za-z0-9+/=.]{4,}\$[A-Za-z0-9+/=.]{16,}", "pbkdf2-hash"),
    (r"pbkdf2_sha\d+\$\d+\$[A-Za-z0-9+/=]{4,}\$[A-Za-z0-9+/=]{16,}", "pbkdf2-hash"),
    (r"\$[56]\$(?:rounds=\d+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{43,86}", "sha-crypt-hash"),
    (r"\$y\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{1,64}\$[./A-Za-z0-9]{43}", "yescrypt-hash"),
    (r"SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]{8,}\$[A-Za-z0-9+/=]{16,}:[A-Za-z0-9+/=]{16,}", "scram-verifier"),
    (r"\bmd5[0-9a-f]{32}\b", "md5-password-hash"),
)
_HASH = re.compile("|".join(f"(?P<k{i}>{p})" for i, (p, _) in enumerate(HASH_SHAPES)))
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")


def marker(kind: str) -> str:
    return f"[REDACTED:{kind}]"


def redact_hashes(text: str) -> str:
    """Password hashes (bcrypt, argon2, scrypt, pbkdf2, crypt, SCRAM, md5) replaced by a marker."""
    if "$" not in text and "md5" not in text:
        return text
    return _HASH.sub(lambda m: marker(HASH_SHAPES[int(str(m.lastgroup)[1:])][1]), text)


def secret_value(value: Any) -> Any:
    """A value as it may leave: hashes and JWTs in strings masked, JSON objects by their keys."""
    if isinstance(value, str):
        return _JWT.sub(marker("jwt"), redact_hashes(value))
    if isinstance(value, Mapping):
        return {k: (marker("secret-field") if isinstance(k, str) and is_secret_column(k) and _holds_secret(v)
                    else secret_value(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(secret_value(v) for v in value)
    return value


def _holds_secret(value: Any) -> bool:
    """Text, bytes and structures can hold a secret; NULL, '' (that a token is unset is a finding),
    booleans, numbers and times cannot (`count(*) AS refresh_tokens` stays a count)."""
    if isinstance(value, str):
        return value != ""
    return isinstance(value, bytes | bytearray | memoryview | Mapping | list | tuple) and len(value) > 0


SECRET_COLUMN = marker("secret-column")


# Columns whose names say nothing but whose values are secrets, as schema.table.column.
SECRET_TABLE_COLUMNS = frozenset({
    "auth.refresh_tokens.parent",  # the refresh token this one replaced
})


def is_secret_source(source: str) -> bool:
    """Whether a table column (`schema.table.column`, or a bare column name) holds secrets."""
    return source in SECRET_TABLE_COLUMNS or is_secret_column(source.rsplit(".", 1)[-1])


def redact_rows(columns: Sequence[str], rows: list[tuple[Any, ...]],
                sources: Sequence[str | None] = ()) -> list[tuple[Any, ...]]:
    """Rows with every value of a secret-named column masked — named so in the result or in the
    table it was read from (`sources`, None for an expression) — and every other value passed
    through `secret_value`."""
    origin = list(sources) + [None] * (len(columns) - len(sources))
    secret = [is_secret_column(c) or (o is not None and is_secret_source(o)) for c, o in zip(columns, origin,
                                                                                          strict=False)]
    return [tuple(SECRET_COLUMN if s and _holds_secret(v) else secret_value(v)
                  for s, v in zip(secret, row, strict=False)) for row in rows]
