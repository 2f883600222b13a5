"""Redaction of secrets in text and data, and capping of command output for tickets.

A secret becomes a marker naming its kind (``[REDACTED:jwt]``); its context (user, host, variable
name) stays. `prepare_output` is the one way command output reaches a ticket: cut to a byte budget
first, so 50 MB cost no more than the budget, then redacted piece by piece.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.secrets import redact_hashes

MIN_CAP_BYTES = 64
# How far a cut may move to land on a line break, else a delimiter; not scaled down for small budgets:
_SNAP_WINDOW = 4096  # showing less is better than cutting "Authorization: Bearer |token" in two
_DELIMITERS = tuple(bytes([c]) for c in b" \t,;&|{}[]()<>")

Replacement = Callable[[re.Match[str]], str]


def _marker(kind: str) -> str:
    return f"[REDACTED:{kind}]"  # the kind is named, the value is gone


# --- PEM private keys: whole blocks, and halves of a block that a cut or a log rotation left ---
_PEM_BEGIN = r"-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?-----"
_PEM_END = re.compile(r"-----END[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?-----")
# The body stops at the next "-----", so a BEGIN without END costs a scan to the next marker only.
_PEM_BLOCK = re.compile(_PEM_BEGIN + r"(?:[^-]|-(?!----)){0,20000}+" + _PEM_END.pattern)
# The body after a BEGIN without END: whole lines of base64 or `Proc-Type:` style headers, with
# real or JSON-escaped line breaks. Possessive so a long base64 dump cannot backtrack.
_PEM_ORPHAN_BEGIN = re.compile(
    _PEM_BEGIN + r"(?:(?:\r?\n|\\r?\\n)(?:[A-Za-z0-9+/=]{1,128}|[A-Za-z-]{1,20}:[^\n\\]{0,200})?"
    r"(?=\r?\n|\\r?\\n|\Z|\"))*+"
)
_PEM_BODY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\\\r\n")


def _redact_orphan_pem_ends(text: str) -> str:
    """Replace an END line and the key body before it whose BEGIN line is not in the text."""
    pieces: list[str] = []
    pos = 0
    for m in _PEM_END.finditer(text):
        # Walk back linearly over body characters; a regex anchored at END would be quadratic.
        start = m.start()
        while start > max(pos, m.start() - 20000) and text[start - 1] in _PEM_BODY_CHARS:
            start -= 1
        while start < m.start() and text[start] in "\r\n":  # keep the line break before the body
            start += 1
        pieces += [text[pos:start], _marker("private-key")]
        pos = m.end()
    pieces.append(text[pos:])
    return "".join(pieces)


# --- tokens recognisable by their own shape, wherever they stand ---
# Each pattern starts with a literal so the regex engine can skip ahead fast; that the token starts
# a word is checked in _shape() instead of by a leading \b, which would defeat that search.
_TOKEN_SHAPES: list[tuple[str, str]] = [
    # JWTs, among them Supabase anon and service_role keys. A header alone ("eyJ" + 8) is enough,
    # so a JWT cut in two by a cap still loses its head; base64 JSON blobs go the same way.
    (r"eyJ[A-Za-z0-9_\-+/]{8,8192}={0,2}(?:\.[A-Za-z0-9_\-+/=]{0,8192}){0,4}", "jwt"),
    (r"sb_secret_[A-Za-z0-9_\-]{8,256}", "supabase-secret-key"),
    (r"sb_publishable_[A-Za-z0-9_\-]{8,256}", "supabase-publishable-key"),
    (r"sbp_[A-Za-z0-9]{16,256}", "supabase-access-token"),
    (r"gh[porsu]_[A-Za-z0-9]{16,255}|github_pat_[A-Za-z0-9_]{16,255}", "github-token"),
    (r"glpat-[A-Za-z0-9_\-]{16,255}", "gitlab-token"),
    (r"[rs]k_(?:live|test)_[A-Za-z0-9]{10,255}", "stripe-key"),
    (r"whsec_[A-Za-z0-9+/=]{16,255}", "stripe-webhook-secret"),
    (r"xox[abposr]-[A-Za-z0-9\-]{10,255}", "slack-token"),
    (r"(?:AKIA|ASIA)[A-Z0-9]{16}\b", "aws-access-key-id"),
    # OpenAI / Anthropic keys; the digit and capital keep hostnames like sk-prod-... out.
    (r"sk-(?=[A-Za-z0-9_\-]{0,255}[0-9])(?=[A-Za-z0-9_\-]{0,255}[A-Z])[A-Za-z0-9_\-]{32,255}", "api-key"),
    (r"AIza[A-Za-z0-9_\-]{35}\b", "google-api-key"),
    (r"dop_v1_[a-f0-9]{64}\b", "digitalocean-token"),
    (r"npm_[A-Za-z0-9]{36}\b", "npm-token"),
    (r"SG\.[A-Za-z0-9_\-]{16,64}\.[A-Za-z0-9_\-]{16,64}", "sendgrid-key"),
]


def _starts_word(m: re.Match[str]) -> bool:
    return m.start() == 0 or not m.string[m.start() - 1].isalnum()


def _shape(kind: str) -> Replacement:
    marker = _marker(kind)
    return lambda m: marker if _starts_word(m) else m[0]


# --- passwords in URLs: keep scheme, user and host ---
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]{1,30})://(?P<user>[^\s:/@'\"`<>]{0,128}):"
    r"(?!\[REDACTED:)(?P<password>[^\s'\"`<>]{1,256})@(?P<host>[A-Za-z0-9\[\]._%\-]{1,253})"
)
_URL_KINDS = {"postgres": "postgres", "postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql", "redis": "redis",
              "rediss": "redis", "amqp": "amqp", "amqps": "amqp", "mongodb": "mongodb", "mongodb+srv": "mongodb"}


def _url_credentials(m: re.Match[str]) -> str:
    kind = _URL_KINDS.get(m["scheme"].lower(), "url") + "-password"
    return f"{m['scheme']}://{m['user']}:{_marker(kind)}@{m['host']}"


# --- values that are no secret: masks, placeholders, booleans, references to variables ---
_PLACEHOLDER = re.compile(
    r"(?:[*•]*|[x.\-_]{3,}|X{3,}|\[.*|<.*>|\(.*\)|redacted|hidden|masked|none|null|nil|undefined|true|false"
    r"|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%[A-Za-z_][A-Za-z0-9_]*%|\{\{.*\}\}|env\(.*\))",
    re.IGNORECASE,
)


def _is_placeholder(value: str) -> bool:
    return _PLACEHOLDER.fullmatch(value.strip()) is not None


# --- authorization headers, bare bearer tokens, cookies, curl -u ---
_SCHEMES = frozenset({"bearer", "basic", "token", "digest", "bot", "apikey"})
_AUTH_HEADER = re.compile(
    r"(?P<head>authorization[\"']?[ \t]*[:=][ \t]*\[?[ \t]*[\"']?[ \t]*)"
    r"(?P<scheme>(?:bearer|basic|token|digest|bot|apikey)[ \t]+)?(?P<cred>[^\s\"',;\]]{1,4096})",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<scheme>bearer[ \t]+)(?P<cred>[A-Za-z0-9\-._~+/]{16,4096}=*)", re.IGNORECASE)
_COOKIE_HEADER = re.compile(
    r"^(?P<head>[ \t]*[<>*]?[ \t]*(?P<name>set-cookie|cookie)[ \t]*:[ \t]*)(?P<value>[^\r\n]{1,8192})",
    re.IGNORECASE | re.MULTILINE,
)
_COOKIE_PAIR = re.compile(r"(?P<name>[^=;\s]{1,256})=(?P<value>[^;\r\n]*)")
_CURL_USER = re.compile(r"(?P<head>(?:-u|--user)[ \t]+[\"']?[^\s:\"']{1,128}:)(?P<password>[^\s\"']{1,256})")


def _auth_header(m: re.Match[str]) -> str:
    cred = m["cred"]
    if not _starts_word(m) or _is_placeholder(cred) or cred.lower() in _SCHEMES:
        return m[0]
    kind = "basic-auth" if (m["scheme"] or "").strip().lower() == "basic" else "bearer-token"
    return f"{m['head']}{m['scheme'] or ''}{_marker(kind)}"


def _bearer(m: re.Match[str]) -> str:
    # A digit tells a credential from prose such as "Bearer authentication required".
    return f"{m['scheme']}{_marker('bearer-token')}" if any(c.isdigit() for c in m["cred"]) else m[0]


# Cookie names that carry a session or a credential; other cookies (theme=dark, lang=de,
# consent=yes) keep short word-like values, and lose only values that look random.
_SESSION_COOKIE_WORDS = frozenset({"sess", "session", "sid", "sessid", "auth", "token", "jwt", "secret", "csrf",
                                   "xsrf", "remember", "login", "refresh", "access", "key", "pass", "password",
                                   "credential", "credentials", "identity", "user", "id"})
_SESSION_COOKIE_ENDS = ("token", "sid", "sessid", "session", "secret", "key", "auth", "pass", "jwt", "csrf")
_HARMLESS_COOKIE_VALUE = re.compile(r"[A-Za-z]{1,15}|[0-9]{1,10}|[A-Za-z]{2}(?:[-_][A-Za-z]{2})?")


def _secret_cookie(name: str, value: str) -> bool:
    words = [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]
    if any(w in _SESSION_COOKIE_WORDS or w.endswith(_SESSION_COOKIE_ENDS) or w.startswith(("sess", "auth"))
           for w in words):
        return True
    return _HARMLESS_COOKIE_VALUE.fullmatch(value.strip().strip('"')) is None


def _cookie_header(m: re.Match[str]) -> str:
    first_only = m["name"].lower() == "set-cookie"  # the rest of a Set-Cookie are attributes

    def pair(p: re.Match[str]) -> str:
        keep = _is_placeholder(p["value"]) or (first_only and p.start() > 0)
        keep = keep or not _secret_cookie(p["name"], p["value"])
        return p[0] if keep else f"{p['name']}={_marker('cookie')}"

    return m["head"] + _COOKIE_PAIR.sub(pair, m["value"])


# --- .pgpass lines (host:port:database:user:password), one per line ---
_PGPASS = re.compile(
    r"^(?P<head>[ \t]*(?:\*|[A-Za-z0-9][A-Za-z0-9.\-]{0,252}|\[[0-9a-fA-F:]+\]):(?:\*|\d{1,5}):"
    r"(?:\*|[^\s:]{1,63}):(?:\*|[^\s:]{1,63}):)(?P<password>(?!\[REDACTED:)[^\s]{1,256})[ \t]*$",
    re.MULTILINE,
)


def _pgpass(m: re.Match[str]) -> str:
    if m["head"].strip().split(":", 1)[0].isdigit():  # a clock ("10:00:00:…"), not a host
        return m[0]
    return f"{m['head']}{_marker('postgres-password')}"


# --- a secret as the argument after an option or a setting named like one ---
# --password VALUE, --client-secret VALUE, --token VALUE; `aws configure set aws_secret_access_key
# VALUE`, `git config … token VALUE`; `mysql -pVALUE`; `sshpass -p VALUE`.
_SECRET_OPTION = re.compile(
    r"(?<![\w-])(?P<head>--?(?P<name>[A-Za-z][A-Za-z0-9_\-]{1,60})[ \t]+)(?P<q>[\"']?)"
    r"(?P<value>(?!-)(?!\[REDACTED:)[^\s\"']{1,512})(?P=q)"
)
_SECRET_SETTING = re.compile(
    r"(?P<head>\b(?:(?:configure[ \t]+)?set|config(?:[ \t]+--(?:global|local|system))?)[ \t]+"
    r"(?P<name>[A-Za-z_][A-Za-z0-9_.\-]{1,80})[ \t]+)(?P<q>[\"']?)(?P<value>(?!-)(?!\[REDACTED:)[^\s\"']{1,512})(?P=q)"
)
_CLIENT_PASSWORD = re.compile(
    r"(?P<head>\b(?:mysql|mariadb|mysqldump|mysqladmin|mariadb-dump)\b[^\n]{0,200}?[ \t]-p)"
    r"(?P<value>(?!\[REDACTED:)[^\s]{2,256})"
    r"|(?P<head2>\bsshpass[ \t]+-p[ \t]*)(?P<value2>(?!\[REDACTED:)[^\s]{1,256})"
)
# Prose after an option ("--token is required", "--password prompt") is no secret.
_PROSE_WORD = re.compile(r"[a-z]{1,10}")


def _secret_argument(m: re.Match[str]) -> str:
    value = m["value"]
    if not is_secret_name(m["name"]) or _is_placeholder(value) or _PROSE_WORD.fullmatch(value):
        return m[0]
    return f"{m['head']}{m['q']}{_marker(_kind_for_name(m['name']))}{m['q']}"


def _client_password(m: re.Match[str]) -> str:
    if m["head"] is not None:
        return f"{m['head']}{_marker('mysql-password')}"
    return f"{m['head2']}{_marker('password')}"




def _curl_user(m: re.Match[str]) -> str:
    option = m.start() == 0 or m.string[m.start() - 1].isspace()
    return m[0] if not option or _is_placeholder(m["password"]) else f"{m['head']}{_marker('password')}"


# --- NAME=value, name: value, "name": "value" where the name says it is a secret ---
_ASSIGNMENT = re.compile(
    r"(?:(?<=[\s\"'`{(,;:&?|])|^)(?P<dash>--?)?(?P<q>[\"']?)(?P<name>[A-Za-z_][A-Za-z0-9_.\-]{0,79})(?P=q)"
    r"(?P<sep>[ \t]*[=:][ \t]*)",
    re.MULTILINE,
)
# The value is matched only after the name proved secret, and never consumed otherwise, so the scan
# goes on inside other values: "query":"grant_type=refresh_token&refresh_token=..." finds the pair.
# An unquoted value ends at "&" only where a query string goes on ("&next_name="), not in "pa&ss".
_AMP = r"&(?![A-Za-z_][A-Za-z0-9_.\-]{0,79}=)"
_VALUE = re.compile(
    rf"\"(?:[^\"\\\r\n]|\\.){{0,4096}}\"|'[^'\r\n]{{0,4096}}'|(?:[^\s\"'`&\[{{]|{_AMP})(?:[^\s\"'`&]|{_AMP}){{0,4095}}"
)
_SECRET_SUFFIXES = ("password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey",
                    "privatekey", "secretkey", "credential", "credentials", "pwd")
_SECRET_TOKENS = frozenset({"pass", "jwt", "auth", "authorization", "cookie"})
_KEY_QUALIFIERS = frozenset({"api", "access", "private", "secret", "signing", "encryption", "master", "anon",
    "role", "service", "session", "client", "license", "publishable", "webhook", "app", "auth", "ssh",
    "deploy", "hmac", "jwt", "admin"})
# After its last secret word a name may go on only with these ("SECRET_KEY_BASE", "DB_PASSWORD_PROD");
# anything else names a property of the secret (token_type, password_min_length, AUTH_URL).
_TRAILING_WORDS = frozenset({
    "key", "keys", "value", "base", "hash", "b64", "base64", "encoded", "raw", "plain", "pem", "json", "prod",
    "production", "staging", "stage", "dev", "development", "test", "live", "old", "new", "current", "next",
    "prev", "previous", "primary", "secondary", "backup", "main", "default", "local", "remote", "admin",
    "root", "ro", "rw", "readonly", "read", "write", "enc", "encrypted", "string", "str"
})
_LIBPQ_CONTEXT = re.compile(r"(?:^|\s)(?:host|hostaddr|dbname|port|user|sslmode)=\S")
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@lru_cache(maxsize=4096)
def _name_tokens(name: str) -> tuple[str, ...]:
    return tuple(t for t in re.split(r"[_.\-]+", _CAMEL.sub("_", name).lower()) if t)


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a variable, field or header name says its value is a secret (DB_PASSWORD, apiKey)."""
    tokens = _name_tokens(name)
    if tokens in (("pwd",), ("oldpwd",)):  # the shell's working directory, in every environment dump
        return False
    for i in range(len(tokens) - 1, -1, -1):
        token = tokens[i]
        # SOMETHING_KEY in an environment is a secret often enough; "sort_key" in prose is not.
        qualified = _ENV_NAME.fullmatch(name) is not None or (i > 0 and tokens[i - 1] in _KEY_QUALIFIERS)
        key = token in ("key", "keys") and qualified
        if key or token.endswith(_SECRET_SUFFIXES) or token in _SECRET_TOKENS:
            return all(t in _TRAILING_WORDS or t.lstrip("v").isdigit() for t in tokens[i + 1 :])
    return False


def _kind_for_name(name: str, line: str = "") -> str:
    tokens = _name_tokens(name)
    joined = "_".join(tokens)
    if "aws" in tokens and "secret" in tokens or joined.endswith("secret_access_key"):
        return "aws-secret-key"
    if "hcloud" in tokens or "hetzner" in tokens:
        return "hcloud-token"
    if any(t.endswith(("password", "passwd", "pwd")) or t == "pass" for t in tokens):
        postgres = tokens[0] in ("pg", "pgpassword", "postgres", "postgresql", "supabase")
        return "postgres-password" if postgres or _LIBPQ_CONTEXT.search(line) else "password"
    if "service" in tokens and "role" in tokens:
        return "service-role-key"
    for kind in ("token", "secret", "cookie"):
        if any(t.endswith(kind) for t in tokens):
            return kind
    if "auth" in tokens or "authorization" in tokens or "credentials" in tokens:
        return "credentials"
    return "api-key" if "api" in tokens or "apikey" in tokens else "key"


# How far around a match its line is looked at: a bounded window, so that a megabyte on one line
# with thousands of assignments costs linear time, not a scan to the line's ends per match.
_LINE_WINDOW = 512


def _line_start(text: str, pos: int) -> int:
    """Where the line holding `pos` starts, looking back at most `_LINE_WINDOW` characters."""
    lo = max(0, pos - _LINE_WINDOW)
    newline = text.rfind("\n", lo, pos)
    return newline + 1 if newline >= 0 else lo


def _assignment_value(m: re.Match[str], v: re.Match[str]) -> str | None:
    """The replacement of an assignment's value v, or None when the value is to stay."""
    name, value = m["name"], v[0]
    line_start = _line_start(m.string, m.start())
    line_head = m.string[line_start : m.start()]
    if name.lower() in ("cookie", "set-cookie") and not line_head.strip(" \t<>*"):
        return None  # a cookie header: its pairs are judged one by one (_cookie_header)
    quote, trail = "", ""
    if value[0] in "\"'":
        quote, value = value[0], value[1:-1]
    else:
        stripped = value.rstrip(",;)}]")
        value, trail = stripped, value[len(stripped) :]
    # Leave values an earlier, more precise rule has handled (markers, auth schemes) alone.
    if not value or _is_placeholder(value) or value.lower() in _SCHEMES or "[REDACTED:" in value:
        return None
    # "name: value" inside prose ("token: expired") needs a value that looks like a secret.
    if ":" in m["sep"] and not m["q"] and not quote and _ENV_NAME.fullmatch(name) is None:
        at_line_start = not m.string[line_start : m.start()].strip(" \t>-*#|")
        if not at_line_start and (len(value) < 6 or value.isalpha()):
            return None
    line_end = m.string.find("\n", v.end(), v.end() + _LINE_WINDOW)
    line = m.string[line_start : line_end + 1 if line_end >= 0 else v.end() + _LINE_WINDOW]
    return f"{quote}{_marker(_kind_for_name(name, line))}{quote}{trail}"


def _redact_assignments(text: str) -> str:
    pieces: list[str] = []
    pos = 0
    for m in _ASSIGNMENT.finditer(text):
        if m.start() < pos or not is_secret_name(m["name"]):  # inside a replaced value, or no secret
            continue
        value = _VALUE.match(text, m.end())
        replacement = _assignment_value(m, value) if value else None
        if value and replacement is not None:
            pieces += [text[pos : value.start()], replacement]
            pos = value.end()
    pieces.append(text[pos:])
    return "".join(pieces)


# Order matters: whole PEM blocks and shaped tokens first (their kind is the most precise), then
# URLs and headers, then names (_redact_assignments). Every rule leaves markers alone, so redact()
# is idempotent.
_RULES: list[tuple[re.Pattern[str], Replacement]] = [
    (_PEM_BLOCK, _shape("private-key")),
    (_PEM_ORPHAN_BEGIN, _shape("private-key")),
    *((re.compile(pattern), _shape(kind)) for pattern, kind in _TOKEN_SHAPES),
    (_URL_CREDENTIALS, _url_credentials),
    (_AUTH_HEADER, _auth_header),
    (_BEARER, _bearer),
    (_COOKIE_HEADER, _cookie_header),
    (_CURL_USER, _curl_user),
    (_PGPASS, _pgpass),
    (_CLIENT_PASSWORD, _client_password),
    (_SECRET_OPTION, _secret_argument),
    (_SECRET_SETTING, _secret_argument),
]


def redact(text: str) -> str:
    """Replace every secret recognised in text by a marker naming its kind, e.g. [REDACTED:jwt].
    Idempotent: redacting redacted text changes nothing."""
    text = redact_hashes(text)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return _redact_orphan_pem_ends(_redact_assignments(text))


def redact_mapping(obj: Any) -> Any:
    """Return a redacted copy of dicts, lists and tuples: strings are redacted, and the whole value
    under a key that names a secret (password, token, api_key, authorization...) becomes a marker."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, Mapping):
        return {key: _redact_entry(key, value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [redact_mapping(item) for item in obj]
    if isinstance(obj, tuple):
        return tuple(redact_mapping(item) for item in obj)
    return obj


def _redact_entry(key: object, value: Any) -> Any:
    empty = value is None or isinstance(value, bool) or (isinstance(value, list | dict | tuple) and not value)
    no_secret = _is_placeholder(value) if isinstance(value, str) else empty  # "" is a placeholder too
    if isinstance(key, str) and is_secret_name(key) and not no_secret:
        return _marker(_kind_for_name(key))
    return redact_mapping(value)


# --- capping ---


def _omission(omitted: int) -> str:
    return f"\n… [{omitted} bytes omitted] …\n"


def _encode_for_cap(text: str, max_bytes: int) -> bytes:
    if max_bytes < MIN_CAP_BYTES:
        raise InvalidInput(f"max_bytes must be at least {MIN_CAP_BYTES}, got {max_bytes}")
    return text.encode("utf-8", "replace")  # a lone surrogate (from surrogateescape) becomes "?"


def _budgets(total: int, max_bytes: int) -> tuple[int, int]:
    room = max_bytes - len(_omission(total).encode())
    head = room * 2 // 5  # the end of an output usually holds the error: give the tail more room
    return head, room - head


def _snap_back(data: bytes, pos: int) -> int:
    """The end of a head of at most pos bytes: at a line break, else a delimiter, else a character."""
    if pos >= len(data):
        return len(data)
    low = max(0, pos - _SNAP_WINDOW)
    for candidates in ((b"\n",), _DELIMITERS):
        best = max(data.rfind(d, low, pos + 1) for d in candidates)
        if best > 0:
            return best
    while pos > 0 and data[pos] & 0xC0 == 0x80:  # never split a UTF-8 sequence
        pos -= 1
    return pos


def _snap_forward(data: bytes, pos: int) -> int:
    """The start of a tail beginning at or after pos, by the same preferences as _snap_back."""
    if pos <= 0:
        return 0
    high = min(len(data), pos + _SNAP_WINDOW)
    for candidates in ((b"\n",), _DELIMITERS):
        found = [i for i in (data.find(d, pos - 1, high) for d in candidates) if i >= 0]
        if found:
            return min(found) + 1
    while pos < len(data) and data[pos] & 0xC0 == 0x80:
        pos += 1
    return pos


def _cut(data: bytes, head_budget: int, tail_budget: int) -> tuple[bytes, bytes]:
    return data[: _snap_back(data, head_budget)], data[_snap_forward(data, len(data) - tail_budget) :]


def cap_output(text: str, max_bytes: int) -> tuple[str, bool]:
    """Cap text at max_bytes of UTF-8, keeping head and tail around a `… [N bytes omitted] …` line.
    Cuts at line breaks where it can, never inside a character; returns (text, truncated)."""
    data = _encode_for_cap(text, max_bytes)
    if len(data) <= max_bytes:
        return data.decode(), False
    head, tail = _cut(data, *_budgets(len(data), max_bytes))
    return head.decode() + _omission(len(data) - len(head) - len(tail)) + tail.decode(), True


def prepare_output(text: str, max_bytes: int) -> tuple[str, bool]:
    """Cap and redact command output for a ticket: the one safe way to store what a command printed.
    Returns (text, truncated); the text is at most max_bytes of UTF-8."""
    data = _encode_for_cap(text, max_bytes)
    if len(data) <= max_bytes:
        redacted = redact(data.decode())
        if len(redacted.encode()) <= max_bytes:
            return redacted, False
        data = redacted.encode()  # markers made it longer than the budget: cut the redacted text
    head_budget, tail_budget = _budgets(len(data), max_bytes)
    head_raw, tail_raw = _cut(data, head_budget, tail_budget)
    omitted = len(data) - len(head_raw) - len(tail_raw)
    # Cut first, then redact each piece alone: the work is bounded by the budget. Cuts land on line
    # breaks or delimiters, so a secret is split only inside a very long unbroken token, and shape
    # rules (a JWT header alone, half a PEM block) catch the common pieces.
    head, tail = redact(head_raw.decode()).encode(), redact(tail_raw.decode()).encode()
    # A marker can be longer than the secret it replaced, so trim again. No second redaction is
    # needed: cutting text that is already redacted shows nothing that was not shown before.
    trimmed_head, trimmed_tail = _cut(head, head_budget, 0)[0], _cut(tail, 0, tail_budget)[1]
    omitted += len(head) - len(trimmed_head) + len(tail) - len(trimmed_tail)
    return trimmed_head.decode() + _omission(omitted) + trimmed_tail.decode(), True
