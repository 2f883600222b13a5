"""The redaction wall for SQL rows, on both Supabase labs (ours and the one built from the
Supabase CLI's schema): secrets seeded into auth.users, auth.refresh_tokens and a JSONB column are
read through `supabase_query` by the real MCP client and through the analyst's checks; no secret
value reaches the client, a ticket note or an automation event, while harmless columns (id,
email, times, counts) still do."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from mcp.client import Client
from mcp.types import TextContent

from helpers.supabase_cli_lab import LABS, LabSpec
from helpers.supabase_lab import drop_database
from support_mcp.bootstrap import Services, Settings, open_services
from support_mcp.domain.targets import Targets
from support_mcp.mcp.server import build_server
from support_mcp.policy.scopes import identity

BCRYPT = "$2a$10$Zk3vQp8Lr2YtWmNc5XbHdeu7TgS1oKjF4aPiE6yRcVqM0nBxL9wUi"
ARGON2 = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHktc2FsdC0xMjM$Qk9Yb3hCZWFjaE1hbmdvVHJlZUZpc2hTa3k"
REFRESH = "r7fk2ndw9xqp"  # GoTrue refresh tokens are short random strings: no shape gives them away
PARENT = "p3xq8mzt1vbn"  # refresh_tokens.parent: the token this one replaced, under a harmless name
CONFIRMATION = "4e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b"
PROVIDER_TOKEN = "gho_7TqLm2VxR9sK4pWd8ZnB3cF6hJ1yA5eG0uIo"
SECRETS = (BCRYPT, ARGON2, REFRESH, PARENT, CONFIRMATION, PROVIDER_TOKEN, "7TqLm2VxR9sK4pWd8ZnB3cF6")

# An expression over a secret column would carry its value past the column masking: refused.
REFUSED = (
    "select string_agg(encrypted_password, ',') as list from auth.users",
    "select upper(token) as t from auth.refresh_tokens",
    "select (select token from auth.refresh_tokens limit 1) as t",
    "select json_build_object('t', confirmation_token) from auth.users",
)

QUERIES = (
    "select id, email, encrypted_password from auth.users order by email",
    "select token, user_id, revoked from auth.refresh_tokens",
    "select parent as previous, user_id from auth.refresh_tokens",
    "select email, encrypted_password as pw, confirmation_token as c from auth.users order by email",
    "select email, raw_app_meta_data from auth.users order by email",
    "select email, raw_app_meta_data->>'provider_token' as p from auth.users order by email",
    "select json_agg(u) as everything from auth.users u",
    "select count(*) as refresh_tokens, min(created_at) as first_at from auth.refresh_tokens",
)


def _seed(dsn: str) -> str:
    """Known secrets on the lab's first user; returns that user's e-mail."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("select id, email from auth.users order by email limit 1").fetchone()
        assert row is not None
        user_id, email = row
        # GoTrue's column; our lab's auth.users is smaller than upstream's, the CLI lab has it
        conn.execute("alter table auth.users add column if not exists confirmation_token varchar(255)")
        conn.execute("update auth.users set encrypted_password = %s, confirmation_token = %s,"
                     " raw_app_meta_data = coalesce(raw_app_meta_data, '{}'::jsonb) || %s::jsonb where id = %s",
                     (BCRYPT, CONFIRMATION, json.dumps({"provider_token": PROVIDER_TOKEN, "provider": "github"}),
                      user_id))
        conn.execute("update auth.users set encrypted_password = %s where id <> %s", (ARGON2, user_id))
        columns = {r[0] for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'auth'"
            " and table_name = 'refresh_tokens'")}
        values = {"token": REFRESH, "parent": PARENT, "user_id": str(user_id), "revoked": False}
        if "instance_id" in columns:
            values["instance_id"] = "00000000-0000-0000-0000-000000000000"
        names = [n for n in values if n in columns]
        conn.execute(f"insert into auth.refresh_tokens ({', '.join(names)}) values ({', '.join(['%s'] * len(names))})",
                     [values[n] for n in names])
    return str(email)


@pytest.fixture(scope="module")
def templates() -> Iterator[dict[str, str]]:
    made: dict[str, str] = {}
    yield made
    for name in made.values():
        drop_database(name)


@pytest.fixture(params=LABS, ids=[lab.name for lab in LABS])
async def seeded(request: pytest.FixtureRequest, templates: dict[str, str], fresh_dsn: str,
                 tmp_path: Path) -> AsyncIterator[tuple[Services, str]]:
    spec: LabSpec = request.param
    if spec.name not in templates:
        templates[spec.name] = spec.create_template()
    name, dsn = spec.clone(templates[spec.name])
    try:
        email = _seed(dsn)
        target = spec.target(dsn, drafts_dir=tmp_path / "sql")
        async with open_services(Settings(database_url=fresh_dsn, targets=Targets(supabase=target))) as services:
            yield services, email
    finally:
        drop_database(name)


def _text(result: object) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))  # type: ignore[attr-defined]


async def _everything_stored(services: Services, ticket_id: object) -> str:
    messages = await services.tickets.messages(ticket_id, internal_only=True, limit=500)  # type: ignore[arg-type]
    events = await services.tickets.events(ticket_id)  # type: ignore[arg-type]
    return "\n".join([m.body for m in messages] + [json.dumps(m.metadata, default=str) for m in messages]
                     + [json.dumps(e.payload, default=str) for e in events])


async def test_no_secret_of_a_sql_row_reaches_the_client_a_note_or_an_event(seeded: tuple[Services, str]) -> None:
    services, email = seeded
    ticket = await services.tickets.create_ticket(subject="Login geht nicht", customer="acme")
    shown: list[str] = []
    async with Client(build_server(services, default_identity=identity("supabase-analyst-agent"))) as client:
        for sql in QUERIES:
            result = await client.call_tool("supabase_query", {"ticket_id": str(ticket.id), "sql": sql})
            assert not result.is_error, _text(result)
            shown.append(_text(result))
        for sql in REFUSED:
            result = await client.call_tool("supabase_query", {"ticket_id": str(ticket.id), "sql": sql})
            assert result.is_error and "holds secrets" in _text(result), (sql, _text(result))
            shown.append(_text(result))
    by_query = dict(zip(QUERIES, shown, strict=False))
    client_view = "\n".join(shown)
    stored = await _everything_stored(services, ticket.id)
    for where, text in (("MCP client", client_view), ("ticket", stored)):
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} reached the {where}"
        assert email in text and "[REDACTED:" in text, where
    # harmless columns and numbers stay: the count of tokens is a count, the time a time
    counted = by_query["select count(*) as refresh_tokens, min(created_at) as first_at from auth.refresh_tokens"]
    assert re.search(r"refresh_tokens\tfirst_at\n[1-9][0-9]*\t20\d\d-", counted), counted
    metadata = by_query["select email, raw_app_meta_data from auth.users order by email"]
    assert '"provider": "github"' in metadata or "'provider': 'github'" in metadata, metadata
    # by name, by the table column behind an alias (parent AS previous: auth.refresh_tokens.parent)
    for sql in QUERIES[:4]:
        assert "[REDACTED:secret-column]" in by_query[sql], by_query[sql]
    # inside a whole row as JSON: by key
    assert "[REDACTED:secret-field]" in by_query["select json_agg(u) as everything from auth.users u"]


async def test_the_analysts_own_checks_leave_no_secret_on_the_ticket(seeded: tuple[Services, str]) -> None:
    services, email = seeded
    ticket = await services.tickets.create_ticket(subject="Login geht nicht", customer="acme")
    await services.tickets.add_message(ticket.id, body=f"Ich ({email}) komme nicht mehr rein.",
                                       author_kind="customer", internal_only=False)  # type: ignore[arg-type]
    await services.runner.run(ticket.id, "supabase-analyst-agent")
    stored = await _everything_stored(services, ticket.id)
    for secret in SECRETS:
        assert secret not in stored
