"""Configured targets the agents work on: plain values, validated once, read by checks and repairs.

Each agent owns its target type. Settings (bootstrap) reads them from the environment; tests and
labs build them directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from support_mcp.domain.errors import InvalidInput

# `schema.table` as the catalog spells both (case-sensitive); quoted as identifiers where used.
_QUALIFIED_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}\.[A-Za-z_][A-Za-z0-9_]{0,62}")


def table_name(qualified: str) -> tuple[str, str]:
    """(schema, table) of a `schema.table` name, or InvalidInput."""
    if not isinstance(qualified, str) or not _QUALIFIED_TABLE.fullmatch(qualified):
        raise InvalidInput(f"{qualified!r} is not a table name of the form schema.table "
                           "(letters, digits and _ only)")
    schema, _, table = qualified.partition(".")
    return schema, table


@dataclass(frozen=True)
class SupabaseTarget:
    """The customer's Supabase project as the supabase-analyst-agent sees it."""

    # a role that may read the catalog and auth schema; never shown (repr, notes, errors)
    database_url: str = field(repr=False)
    migrations_dir: Path | None = None  # the project's `supabase/migrations`
    drafts_dir: Path | None = None  # where migration drafts go (the playbook's tmp/sql/…)
    monitoring_url: str | None = None  # the app's getMonitoringSnapshot endpoint
    project_ref: str | None = None  # Management API (logs)
    management_token: str | None = field(default=None, repr=False)
    management_api_url: str = "https://api.supabase.com"
    exposed_schemas: tuple[str, ...] = ("public",)
    # the app's tables the sign-up trigger fills: one profile and one subscription per auth user
    profiles_table: str = "public.profiles"
    subscriptions_table: str = "public.subscriptions"

    def __post_init__(self) -> None:
        table_name(self.profiles_table)
        table_name(self.subscriptions_table)


@dataclass(frozen=True)
class HostTarget:
    """The Hetzner host of the hetzner-ops-agent, reached over SSH (host key pinned)."""

    name: str
    host: str
    port: int = 22
    user: str = "deploy"
    key_path: Path | None = None
    known_hosts_path: Path | None = None  # pinned host key
    app: str = "whatsapp-bot-builder"  # the PM2 app; the only one that may be named
    app_port: int = 3000
    units: tuple[str, ...] = ("whatsapp-bot-builder", "caddy")
    deploy_root: Path = Path("/var/www/whatsapp-bot-builder")
    public_url: str | None = None  # through Caddy, for the smoke check
    caddyfile: Path = Path("/etc/caddy/Caddyfile")  # `caddy validate`/`caddy reload` and config fixes
    systemd: bool | None = None  # None: detect (`systemctl` answers); False: PM2/Caddy logs instead
    caddy_log: Path | None = None  # Caddy's log file (`log { output file … }`), tailed by diagnostics
    health_path: str | None = None  # the app's health endpoint through Caddy, e.g. "/api/health"
    # Where PM2 keeps its daemon (PM2_HOME) and where the app runs. None: discovered on the host
    # (the PM2 daemon's process title names its PM2_HOME; `pm2 jlist` names the app's cwd and PORT).
    pm2_home: Path | None = None
    app_dir: Path | None = None


@dataclass(frozen=True)
class FrontendTarget:
    """The Next.js app of the frontend-diagnostics-agent: source workspace and deployed URL."""

    source_dir: Path  # the project's frontend folder (never built in place)
    workspace_dir: Path | None = None  # where copies are built; default under the data dir
    base_url: str | None = None  # the running app, for CSP, assets and the browser smoke test
    deploy_dir: Path | None = None  # rsync destination of an approved deployment
    chromium_path: Path = Path("/usr/bin/chromium")
    pages: tuple[str, ...] = ("/",)
    server_log: Path | None = None  # output of `next start` (PM2 log), searched for digests
    # How the deployed app runs: the PM2 app the hotfix plan restarts after the rsync (the only
    # app it may name), the configured target whose executor runs `pm2 restart` (a host of the
    # hetzner-ops-agent or "local"), and that PM2's PM2_HOME where its default does not apply
    # (the local executor passes neither HOME nor PM2_HOME). Without `pm2_app`, no restart step.
    pm2_app: str | None = None
    restart_target: str = "local"
    pm2_home: Path | None = None


@dataclass(frozen=True)
class Targets:
    supabase: SupabaseTarget | None = None
    hosts: tuple[HostTarget, ...] = ()
    frontend: FrontendTarget | None = None
