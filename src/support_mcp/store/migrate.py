"""Plain-SQL migrations, applied in file order, recorded with a checksum, safe to re-run."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import psycopg

from support_mcp.domain.errors import Conflict, StoreUnavailable
from support_mcp.store.database import Database

# Any constant works; it only has to be the same in every process migrating one database.
_MIGRATION_LOCK = 0x5355_504D  # "SUPM"


@dataclass(frozen=True)
class Migration:
    version: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def bundled_migrations() -> list[Migration]:
    """The SQL files shipped in `support_mcp/store/migrations`, sorted by name."""
    folder = resources.files("support_mcp.store") / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [Migration(version=f.name.removesuffix(".sql"), sql=f.read_text("utf-8")) for f in files]


async def migrate(db: Database, migrations: list[Migration] | None = None) -> list[str]:
    """Apply pending migrations; returns the versions applied now (empty when up to date)."""
    pending = migrations if migrations is not None else bundled_migrations()
    applied_now: list[str] = []
    async with db.connection() as conn:
        # A session-level lock: several servers starting at once migrate one after the other.
        await conn.execute("select pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        try:
            await conn.execute(
                """create table if not exists support_mcp_schema_migrations (
                       version text primary key,
                       checksum text not null,
                       applied_at timestamptz not null default now())"""
            )
            cur = await conn.execute("select version, checksum from support_mcp_schema_migrations")
            done = {row["version"]: row["checksum"] for row in await cur.fetchall()}
            for migration in pending:
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise Conflict(
                            f"migration {migration.version} was changed after it was applied; "
                            "add a new migration file instead of editing an applied one"
                        )
                    continue
                try:
                    async with conn.transaction():
                        await conn.execute(migration.sql.encode())
                        await conn.execute(
                            "insert into support_mcp_schema_migrations (version, checksum) values (%s, %s)",
                            (migration.version, migration.checksum),
                        )
                except psycopg.Error as exc:
                    raise StoreUnavailable(f"migration {migration.version} failed: {exc}") from None
                applied_now.append(migration.version)
        finally:
            await conn.execute("select pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
    return applied_now
