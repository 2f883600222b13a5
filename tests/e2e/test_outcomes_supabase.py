"""The outcome matrix, supabase part: every fault scenario of both Supabase labs through the
real command line (`support-mcp run` as a subprocess), twice: once with the scenario's own customer
text, once with a neutral ticket that says nothing about the fault. Each run exits 0 without a
traceback, names the cause in a warn/fail finding and in its conclusion, and leaves the next steps
(playbook 1.5) and either the Tier-1 handover (1.6) or the manual follow-up (5) on the ticket
(`helpers.outcomes.assert_outcome`).

The host and frontend parts are test_outcomes_hetzner.py and test_outcomes_frontend.py: modules of
their own, so that the suite's workers run them side by side. Not covered by the matrix: the
host-basics pressure fixtures (disk/memory from recorded output, tests/helpers/replay.py) — they are
no lab state a CLI run on a real target could observe. `SUPPORT_MCP_OUTCOMES_FILE=out.jsonl` appends
one line per run (see tests/helpers/outcomes.py).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from e2e.test_supabase_both_labs import incident
from e2e.test_supabase_incidents import INCIDENTS
from helpers.outcomes import NEUTRAL, TICKETS, Cause, Cli, assert_outcome, cli_env
from helpers.supabase_cli_lab import CLI
from helpers.supabase_lab import SCENARIOS, clone_lab, create_lab_template, drop_database, lab_target
from support_mcp.domain.targets import SupabaseTarget, Targets

pytestmark = pytest.mark.outcomes

# --- supabase: one lab clone per run ------------------------------------------------------------

SUPABASE = "supabase-analyst"


@pytest.fixture(scope="module")
def supabase_template() -> Iterator[str]:
    name = create_lab_template()
    yield name
    drop_database(name)


@pytest.fixture
def supabase_lab(supabase_template: str, tmp_path: Path) -> Iterator[Callable[[str], SupabaseTarget]]:
    """`supabase_lab(scenario)`: a clone of the lab with the fault injected, and the project's
    migrations folder with the initial schema (what the repairs restore definitions from)."""
    made: list[str] = []

    def make(fault: str) -> SupabaseTarget:
        name, dsn = clone_lab(supabase_template, fault)
        made.append(name)
        return lab_target(dsn, tmp_path / "supabase" / "migrations", tmp_path / "tmp" / "sql")

    yield make
    for name in made:
        drop_database(name)


@pytest.mark.parametrize("ticket", TICKETS)
@pytest.mark.parametrize("fault", sorted(INCIDENTS))
def test_supabase_fault_is_named_through_the_cli(supabase_lab, fresh_dsn: str, fault: str,  # type: ignore[no-untyped-def]
                                                  ticket: str) -> None:
    message, code, _ = INCIDENTS[fault]
    cli = Cli(cli_env(fresh_dsn, Targets(supabase=supabase_lab(fault))))
    subject, body = (message[:60], message) if ticket == "scenario" else NEUTRAL
    outcome = cli.run_ticket(("supabase", fault, ticket), SUPABASE, subject, body)
    assert_outcome(outcome, Cause(None, {"code": code}))


@pytest.fixture(scope="module")
def supabase_cli_template() -> Iterator[str]:
    name = CLI.create_template()
    yield name
    drop_database(name)


@pytest.mark.parametrize("ticket", TICKETS)
@pytest.mark.parametrize("fault", sorted(INCIDENTS))
def test_supabase_cli_lab_fault_is_named_through_the_cli(supabase_cli_template: str, fresh_dsn: str, fault: str,
                                                          ticket: str, tmp_path: Path) -> None:
    """The same on the lab built from the Supabase CLI's schema (labs/supabase_cli)."""
    message, code, _ = incident(CLI, fault)
    name, dsn = CLI.clone(supabase_cli_template, fault)
    try:
        migrations = tmp_path / "supabase" / "migrations"
        migrations.mkdir(parents=True)
        shutil.copy(CLI.initial_migration, migrations / "20250101000000_initial_schema.sql")
        target = CLI.target(dsn, migrations_dir=migrations, drafts_dir=tmp_path / "tmp" / "sql")
        cli = Cli(cli_env(fresh_dsn, Targets(supabase=target)))
        subject, body = (message[:60], message) if ticket == "scenario" else NEUTRAL
        outcome = cli.run_ticket(("supabase_cli", fault, ticket), SUPABASE, subject, body)
    finally:
        drop_database(name)
    assert_outcome(outcome, Cause(None, {"code": code}))


def test_every_supabase_fault_is_run_here() -> None:
    assert set(SCENARIOS) == set(INCIDENTS), "a supabase lab fault without a ticket text and a cause"
    assert set(CLI.scenarios) == set(INCIDENTS), "a supabase_cli lab fault without a ticket text and a cause"
