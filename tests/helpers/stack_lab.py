"""The combined lab for the tests (`support_mcp.labs.stack`): its database — a Supabase lab that
keeps its name while each test gets it fresh from the template, with a fault injected — and the
targets of all three agents on it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from helpers.supabase_lab import (
    ADMIN_DSN,
    create_lab_template,
    drop_database,
    dsn_for,
    inject,
    lab_target,
    new_database_name,
)
from support_mcp.domain.targets import Targets
from support_mcp.labs.stack import StackLab


@dataclass
class StackDatabase:
    template: str
    name: str

    @property
    def dsn(self) -> str:
        return dsn_for(self.name)

    @classmethod
    def create(cls) -> StackDatabase:
        template = create_lab_template()
        db = cls(template, new_database_name("stack"))
        db.reset()
        return db

    def reset(self, fault: str | None = None) -> None:
        """The database healthy again (the app's connections are ended), then `fault` injected."""
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{self.name}" with (force)')  # type: ignore[arg-type]
            conn.execute(f'create database "{self.name}" template "{self.template}"')  # type: ignore[arg-type]
        if fault is not None:
            inject(self.dsn, fault)

    def migrate(self, migrations: Path, name: str, sql: str) -> Path:
        """A deploy's migration: the file in the project's migrations folder (Supabase's
        `<version>_<name>.sql`, the version newer than the folder's newest), applied to the database."""
        versions = [p.name.split("_", 1)[0] for p in migrations.glob("*.sql")]
        version = max([time.strftime("%Y%m%d%H%M%S", time.gmtime()), *(str(int(v) + 1) for v in versions if v.isdigit())])
        path = migrations / f"{version}_{name}.sql"
        path.write_text(sql)
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]
        return path

    def drop(self) -> None:
        drop_database(self.name)
        drop_database(self.template)


def stack_targets(lab: StackLab, db: StackDatabase, work: Path) -> Targets:
    """What a customer configures for the three agents (`StackLab.targets`), the Supabase target
    with the project's migrations folder."""
    return lab.targets(lab_target(db.dsn, work / "supabase" / "migrations", work / "tmp" / "sql"), work)
