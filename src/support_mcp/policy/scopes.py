"""Who may do what: identities (the three Tier-2 agents, a Tier-2 lead, Tier 1) and their scopes.

An MCP client is one identity: over HTTP its bearer token names it, over stdio the server's
configuration does. Each tool needs one scope; an identity sees only the tools it may call,
and an agent identity acts only as itself (it cannot write notes in another agent's name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from support_mcp.domain.errors import InvalidInput, PolicyViolation
from support_mcp.domain.models import AGENTS

TICKETS_READ = "tickets:read"
TICKETS_WRITE = "tickets:write"
KB_READ = "kb:read"
KB_SUGGEST = "kb:suggest"
RUNS_READ = "runs:read"
RUNS_EXECUTE = "runs:execute"
KB_REVIEW = "kb:review"  # accept or reject knowledge suggestions (playbook 7)
# Approve a repair plan: people only (the Tier-2 lead). No agent identity holds it, so an agent's
# session is never asked to approve (MCP elicitation) and never approves a plan it drafted.
APPROVER = "approver"
# Guarded read-only SQL and rolled-back reproductions on the customer's Supabase database; only the
# supabase-analyst-agent and the Tier-2 lead hold it (not part of ALL_SCOPES on purpose).
SUPABASE_SQL = "supabase:sql"
# Typed diagnostic operations on the Hetzner host (journal search, logs, grep/du under the deploy
# folder, ports, health path); only the hetzner-ops-agent and the Tier-2 lead hold it.
HOST_DIAGNOSE = "host:diagnose"
# Report a deployment (no ticket): what a CI pipeline holds, and nothing else.
DEPLOYMENTS_WRITE = "deployments:write"

ALL_SCOPES = frozenset({TICKETS_READ, TICKETS_WRITE, KB_READ, KB_SUGGEST, RUNS_READ, RUNS_EXECUTE, APPROVER,
                        KB_REVIEW})
# Agents do not review knowledge changes they proposed themselves, nor approve repairs.
_AGENT_SCOPES = ALL_SCOPES - {KB_REVIEW, APPROVER}

ROLE_SCOPES: Mapping[str, frozenset[str]] = {
    **{agent: _AGENT_SCOPES for agent in AGENTS},
    "supabase-analyst-agent": _AGENT_SCOPES | {SUPABASE_SQL},
    "hetzner-ops-agent": _AGENT_SCOPES | {HOST_DIAGNOSE},
    "tier2-lead": ALL_SCOPES | {SUPABASE_SQL, HOST_DIAGNOSE, DEPLOYMENTS_WRITE},
    # A CI pipeline: reports its deployments (the hetzner-ops deploy_age check reads them).
    "ci": frozenset({DEPLOYMENTS_WRITE}),
    # Tier 1 reads context and knowledge and proposes knowledge updates; it runs nothing.
    "tier1": frozenset({TICKETS_READ, KB_READ, RUNS_READ, KB_SUGGEST}),
}


@dataclass(frozen=True)
class Identity:
    name: str
    scopes: frozenset[str]

    @property
    def is_agent(self) -> bool:
        return self.name in AGENTS

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise PolicyViolation(f"identity {self.name!r} lacks scope {scope!r}")

    def acting_agent(self, requested: str | None) -> str:
        """The agent name to act as: an agent identity is always itself."""
        if self.is_agent:
            if requested not in (None, "", self.name):
                raise PolicyViolation(f"identity {self.name!r} cannot act as {requested!r}")
            return self.name
        if not requested:
            raise InvalidInput(f"identity {self.name!r} must name the agent it acts for")
        return requested


def identity(name: str) -> Identity:
    """The identity of a role name; unknown roles are refused, never given default scopes."""
    if name not in ROLE_SCOPES:
        raise InvalidInput(f"unknown identity {name!r}; known: {', '.join(sorted(ROLE_SCOPES))}")
    return Identity(name, ROLE_SCOPES[name])
