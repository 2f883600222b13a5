"""The Supabase-like lab on the real PostgreSQL: one template per session, a clone per test or
module, each named fault scenario injected by its own SQL file (labs/supabase/faults/)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers.supabase_cli_lab import CLI_INITIAL_MIGRATION, cli_target, clone_cli_lab, create_cli_lab_template
from helpers.supabase_lab import clone_lab, create_lab_template, drop_database, lab_target
from support_mcp.domain.targets import SupabaseTarget


@pytest.fixture(scope="session")
def lab_template() -> Iterator[str]:
    name = create_lab_template()
    yield name
    drop_database(name)


LabFactory = Callable[..., SupabaseTarget]


@pytest.fixture
def lab(lab_template: str, tmp_path: Path) -> Iterator[LabFactory]:
    """`lab("trigger_disabled")` → a target on a fresh clone with that fault (None: healthy), with
    a migrations folder holding the project's initial migration and an empty drafts folder."""
    made: list[str] = []

    def make(scenario: str | None = None) -> SupabaseTarget:
        name, dsn = clone_lab(lab_template, scenario)
        made.append(name)
        return lab_target(dsn, tmp_path / f"migrations_{len(made)}", tmp_path / "tmp" / "sql")

    yield make
    for name in made:
        drop_database(name)


@pytest.fixture(scope="module")
def healthy_lab(lab_template: str) -> Iterator[SupabaseTarget]:
    """One healthy clone shared by a module's read-only tests (never connect to the template)."""
    name, dsn = clone_lab(lab_template)
    yield SupabaseTarget(database_url=dsn)
    drop_database(name)


@pytest.fixture(scope="module", params=["ours", "supabase_cli"])
def either_lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SupabaseTarget]:
    """A healthy clone of our lab, then of the CLI lab (built from the auth server's schema), each
    with a migrations folder holding its initial schema: a module's tests run on both."""
    work = tmp_path_factory.mktemp(request.param)
    if request.param == "ours":
        template = create_lab_template()
        name, dsn = clone_lab(template)
        target = lab_target(dsn, work / "migrations", work / "drafts")
    else:
        template = create_cli_lab_template()
        name, dsn = clone_cli_lab(template)
        (work / "migrations").mkdir()
        (work / "migrations" / "20240101000000_initial_schema.sql").write_bytes(CLI_INITIAL_MIGRATION.read_bytes())
        target = dataclasses.replace(cli_target(dsn), migrations_dir=work / "migrations", drafts_dir=work / "drafts")
    yield target
    drop_database(name)
    drop_database(template)
