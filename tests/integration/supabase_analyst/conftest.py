"""The Supabase-like lab on the real PostgreSQL: one template per session, a clone per test or
module, each named fault scenario injected by its own SQL file (labs/supabase/faults/)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

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
