"""The supabase-analyst-agent (playbook section 2): checks, safe SQL and gated migrations."""

from __future__ import annotations

from support_mcp.agents.supabase_analyst.base import SupabaseCheck
from support_mcp.agents.supabase_analyst.checks import (
    AuthConsistencyCheck,
    FunctionsCheck,
    HealthCheck,
    MonitoringSnapshotCheck,
    SignupPathCheck,
    SupabaseLogsCheck,
)
from support_mcp.agents.supabase_analyst.locks import LockHoldersCheck
from support_mcp.agents.supabase_analyst.renames import MigrationRenamesCheck
from support_mcp.agents.supabase_analyst.rls_checks import ReproduceCheck, RlsPoliciesCheck
from support_mcp.domain.targets import SupabaseTarget
from support_mcp.executors.sql import SqlRunner

AGENT = "supabase-analyst-agent"


def supabase_checks(target: SupabaseTarget | None = None,
                    runner: SqlRunner | None = None) -> tuple[SupabaseCheck, ...]:
    """The agent's checks in playbook order (2.1 steps 1 to 4); independent, so they may run
    concurrently. All of them share `runner` (the caller's, which it closes) when given."""
    return (HealthCheck(target, runner), MonitoringSnapshotCheck(target, runner), SupabaseLogsCheck(target, runner),
            AuthConsistencyCheck(target, runner), FunctionsCheck(target, runner), SignupPathCheck(target, runner),
            RlsPoliciesCheck(target, runner), ReproduceCheck(target, runner=runner), MigrationRenamesCheck(target, runner),
            LockHoldersCheck(target, runner))
