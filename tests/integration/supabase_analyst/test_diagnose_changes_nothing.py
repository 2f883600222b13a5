"""Diagnosing changes nothing on the customer's database, sequences included: the sign-up probe
draws ids from a transaction-local restart of each sequence, and the rollback undoes it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import psycopg
import pytest

from helpers.supabase_cli_lab import CLI, LABS, LabSpec, checksum
from helpers.supabase_lab import context_for, drop_database
from support_mcp.agents.supabase_analyst import supabase_checks
from support_mcp.agents.supabase_analyst.base import supabase_runner


@pytest.fixture(scope="module", params=LABS, ids=lambda spec: spec.name)
def lab(request: pytest.FixtureRequest) -> Iterator[tuple[LabSpec, str]]:
    spec: LabSpec = request.param
    template = spec.create_template()
    name, dsn = spec.clone(template, None)
    yield spec, dsn
    drop_database(name)
    drop_database(template)


def _sequences(dsn: str) -> list[tuple[str, int | None]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("select schemaname || '.' || sequencename, last_value from pg_sequences "
                            "where schemaname in ('public', 'auth') order by 1").fetchall()


async def test_a_whole_diagnose_leaves_rows_catalog_and_sequences_as_they_were(lab: tuple[LabSpec, str]) -> None:
    spec, dsn = lab
    target = spec.target(dsn)
    before, sequences = checksum(dsn), _sequences(dsn)
    ctx, _ = context_for(target)
    async with supabase_runner(target) as runner:
        groups = await asyncio.gather(*(c.run(ctx) for c in supabase_checks(target, runner)))
    findings = [f for g in groups for f in g]
    signup = [f for f in findings if f.check == "signup_path"]
    assert signup and signup[0].status == "ok", [(f.status, f.title) for f in signup]  # the probe really signed up
    assert _sequences(dsn) == sequences
    assert checksum(dsn) == before


def test_the_probe_would_advance_a_sequence_without_the_shield() -> None:
    """The check above is not vacuous: on the CLI lab a plain rolled-back sign-up moves the
    sequence of user_plans' identity id."""
    template = CLI.create_template()
    name, dsn = CLI.clone(template, None)
    try:
        sequences = _sequences(dsn)
        with psycopg.connect(dsn) as conn:
            conn.execute("insert into auth.users (id, email, email_confirmed_at) values "
                         "('00000000-5a5a-4a5a-8a5a-00000000beef', 'shield-test@example.invalid', now())")
            conn.rollback()
        assert _sequences(dsn) != sequences
    finally:
        drop_database(name)
        drop_database(template)
