"""The Supabase target is read from SUPPORT_MCP_SUPABASE_* in one place; the token never shows."""

from __future__ import annotations

from pathlib import Path

from support_mcp.agents.registry import checks_for, repairs_for
from support_mcp.bootstrap.settings import Settings


def test_supabase_target_from_env() -> None:
    settings = Settings.from_env({
        "SUPPORT_MCP_SUPABASE_DB_URL": "postgresql://postgres:pw@db.example.supabase.co:5432/postgres",
        "SUPPORT_MCP_SUPABASE_MIGRATIONS_DIR": "/srv/app/supabase/migrations",
        "SUPPORT_MCP_SUPABASE_DRAFTS_DIR": "/srv/support-mcp/tmp/sql",
        "SUPPORT_MCP_SUPABASE_MONITORING_URL": "https://app.example.com/api/monitoring/snapshot",
        "SUPPORT_MCP_SUPABASE_PROJECT_REF": "abcdefghijklmnopqrst",
        "SUPPORT_MCP_SUPABASE_ACCESS_TOKEN": "sbp_secret",
        "SUPPORT_MCP_SUPABASE_EXPOSED_SCHEMAS": "public, api",
    })
    target = settings.targets.supabase
    assert target is not None
    assert target.migrations_dir == Path("/srv/app/supabase/migrations")
    assert target.exposed_schemas == ("public", "api")
    assert "sbp_secret" not in repr(target) and ":pw@" not in repr(target)
    assert {c.name for c in checks_for("supabase-analyst-agent", settings.targets)} >= {
        "health", "auth_consistency", "functions", "signup_path", "rls_policies", "reproduce_rpc", "migration_renames",
        "lock_holders"}
    repairs = {r.name for r in repairs_for("supabase-analyst-agent", settings.targets)}
    assert len(repairs) == 13 and "terminate_lock_holder" in repairs, sorted(repairs)


def test_no_db_url_means_no_target() -> None:
    assert Settings.from_env({}).targets.supabase is None
