"""Configuration as explicit values; the environment is read here and nowhere else."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.parsing import Language
from support_mcp.domain.targets import FrontendTarget, HostTarget, SupabaseTarget, Targets

ENV_PREFIX = "SUPPORT_MCP_"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "support-mcp"


@dataclass(frozen=True)
class Settings:
    """Everything the bootstrap needs; build it with `Settings.from_env()` or directly in tests."""

    database_url: str | None = None
    data_dir: Path = field(default_factory=default_data_dir)
    knowledge_globs: tuple[str, ...] = ()
    include_playbook: bool = True
    language: Language = "de"
    output_cap_bytes: int = 16_384
    context_messages: int = 10
    # who gets `assigned_agent` when a run escalates (playbook 5.3); None: escalate only
    oncall_assignee: str | None = None
    # token -> agent identity for `serve --http`
    # identity of a stdio client (a desktop client is one person or agent)
    stdio_identity: str = "tier2-lead"
    http_tokens: Mapping[str, str] = field(default_factory=dict)
    http_allowed_hosts: tuple[str, ...] = ("127.0.0.1:*", "localhost:*", "[::1]:*")
    # stateful HTTP sessions: how many one identity may hold open, and after how many idle seconds
    # one ends (the SDK's defaults were 10,000 for everyone together and 30 minutes)
    http_sessions_per_identity: int = 16
    http_session_idle_seconds: float = 600.0
    targets: Targets = field(default_factory=Targets)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(ENV_PREFIX + name)
            return value if value not in (None, "") else None

        language = get("LANGUAGE") or "de"
        if language not in ("de", "en"):
            raise InvalidInput(f"{ENV_PREFIX}LANGUAGE must be 'de' or 'en', not {language!r}")
        tokens: dict[str, str] = {}
        for pair in (get("HTTP_TOKENS") or "").split(","):
            if not pair.strip():
                continue
            agent, sep, token = pair.partition("=")
            if not sep or not token.strip():
                raise InvalidInput(f"{ENV_PREFIX}HTTP_TOKENS entries look like 'agent=token'")
            token, agent = token.strip(), agent.strip()
            if tokens.get(token, agent) != agent:
                raise InvalidInput(f"{ENV_PREFIX}HTTP_TOKENS gives one token to both {tokens[token]!r} and "
                                   f"{agent!r}; each identity needs its own token")
            tokens[token] = agent
        check_http_tokens(tokens)
        globs = tuple(g for g in (get("KNOWLEDGE_GLOBS") or "").split(os.pathsep) if g)
        hosts = get("HTTP_ALLOWED_HOSTS")
        return cls(
            database_url=get("DATABASE_URL"),
            data_dir=Path(get("DATA_DIR") or default_data_dir()),
            knowledge_globs=globs,
            include_playbook=(get("INCLUDE_PLAYBOOK") or "1") not in ("0", "false", "no"),
            language=language,  # type: ignore[arg-type]
            oncall_assignee=get("ONCALL"),
            stdio_identity=get("IDENTITY") or "tier2-lead",
            http_tokens=tokens,
            http_allowed_hosts=tuple(hosts.split(",")) if hosts else cls.http_allowed_hosts,
            http_sessions_per_identity=_positive(get, "HTTP_SESSIONS_PER_IDENTITY", cls.http_sessions_per_identity),
            http_session_idle_seconds=float(_positive(get, "HTTP_SESSION_IDLE_SECONDS", cls.http_session_idle_seconds)),
            targets=Targets(supabase=supabase_target_from_env(get), hosts=host_targets_from_env(get),
                            frontend=frontend_target_from_env(get, Path(get("DATA_DIR") or default_data_dir()))),
        )


def supabase_target_from_env(get: Callable[[str], str | None]) -> SupabaseTarget | None:
    """The supabase-analyst-agent's target from `SUPPORT_MCP_SUPABASE_*`; None without a DB URL.
    `_PROFILES_TABLE` / `_SUBSCRIPTIONS_TABLE` rename the app's tables (`schema.table`)."""
    url = get("SUPABASE_DB_URL")
    if url is None:
        return None
    schemas = tuple(s.strip() for s in (get("SUPABASE_EXPOSED_SCHEMAS") or "public").split(",") if s.strip())
    migrations, drafts = get("SUPABASE_MIGRATIONS_DIR"), get("SUPABASE_DRAFTS_DIR")
    return SupabaseTarget(
        database_url=url,
        migrations_dir=Path(migrations) if migrations else None,
        drafts_dir=Path(drafts) if drafts else None,
        monitoring_url=get("SUPABASE_MONITORING_URL"),
        project_ref=get("SUPABASE_PROJECT_REF"),
        management_token=get("SUPABASE_ACCESS_TOKEN"),
        management_api_url=get("SUPABASE_MANAGEMENT_API_URL") or "https://api.supabase.com",
        exposed_schemas=schemas,
        profiles_table=get("SUPABASE_PROFILES_TABLE") or "public.profiles",
        subscriptions_table=get("SUPABASE_SUBSCRIPTIONS_TABLE") or "public.subscriptions",
    )


def frontend_target_from_env(get: Callable[[str], str | None], data_dir: Path) -> FrontendTarget | None:
    """The frontend-diagnostics-agent's target from `SUPPORT_MCP_FRONTEND_*`; None without a folder.
    Workspace copies (and screenshots) live under the data dir unless FRONTEND_WORKSPACE_DIR says otherwise.
    `_PM2_APP`, `_RESTART_TARGET` (default "local") and `_PM2_HOME` name the PM2 restart after a deploy."""
    source = get("FRONTEND_DIR")
    if source is None:
        return None
    deploy, log, workspace = get("FRONTEND_DEPLOY_DIR"), get("FRONTEND_SERVER_LOG"), get("FRONTEND_WORKSPACE_DIR")
    pages = tuple(p.strip() for p in (get("FRONTEND_PAGES") or "/").split(",") if p.strip())
    return FrontendTarget(
        source_dir=Path(source),
        workspace_dir=Path(workspace) if workspace else data_dir / "frontend-workspaces",
        base_url=get("FRONTEND_URL"),
        deploy_dir=Path(deploy) if deploy else None,
        chromium_path=Path(get("CHROMIUM") or "/usr/bin/chromium"),
        pages=pages,
        server_log=Path(log) if log else None,
        pm2_app=get("FRONTEND_PM2_APP"),
        restart_target=get("FRONTEND_RESTART_TARGET") or "local",
        pm2_home=Path(pm2_home) if (pm2_home := get("FRONTEND_PM2_HOME")) else None,
    )


def host_targets_from_env(get: Callable[[str], str | None]) -> tuple[HostTarget, ...]:
    """The hetzner-ops-agent's SSH host from `SUPPORT_MCP_HOST`, `_SSH_PORT`, `_SSH_USER`, `_SSH_KEY`,
    `_SSH_KNOWN_HOSTS` (required: the pinned host key), `_APP`, `_APP_PORT`, `_DEPLOY_ROOT`,
    `_PUBLIC_URL`, `_CADDYFILE`, `_CADDY_LOG`, `_HEALTH_PATH`, `_HOST_NAME`, `_PM2_HOME` and `_APP_DIR`
    (both discovered on the host when unset); empty without a host."""
    host = get("HOST")
    if host is None:
        return ()
    known_hosts, key = get("SSH_KNOWN_HOSTS"), get("SSH_KEY")
    if known_hosts is None:
        raise InvalidInput(f"{ENV_PREFIX}SSH_KNOWN_HOSTS is required with {ENV_PREFIX}HOST (the pinned host key)")
    try:
        port, app_port = int(get("SSH_PORT") or 22), int(get("APP_PORT") or 3000)
    except ValueError:
        raise InvalidInput(f"{ENV_PREFIX}SSH_PORT and {ENV_PREFIX}APP_PORT must be numbers") from None
    app = get("APP") or "whatsapp-bot-builder"
    return (HostTarget(
        name=get("HOST_NAME") or "hetzner-prod", host=host, port=port, user=get("SSH_USER") or "deploy",
        key_path=Path(key) if key else None, known_hosts_path=Path(known_hosts), app=app, app_port=app_port,
        units=(app, "caddy"), deploy_root=Path(get("DEPLOY_ROOT") or f"/var/www/{app}"),
        public_url=get("PUBLIC_URL"), caddyfile=Path(get("CADDYFILE") or "/etc/caddy/Caddyfile"),
        caddy_log=Path(caddy_log) if (caddy_log := get("CADDY_LOG")) else None,
        health_path=_health_path(health) if (health := get("HEALTH_PATH")) else None,
        pm2_home=Path(pm2_home) if (pm2_home := get("PM2_HOME")) else None,
        app_dir=Path(app_dir) if (app_dir := get("APP_DIR")) else None,
    ),)


def _health_path(value: str) -> str:
    # The host command policy loads on demand: `kb` commands read settings too, and never a host.
    from support_mcp.policy.host_diagnostics import checked_health_path

    return checked_health_path(value)


MIN_TOKEN_CHARS = 32


def check_http_tokens(tokens: Mapping[str, str]) -> None:
    """Refuse tokens a guess or a typo could reach: each at least MIN_TOKEN_CHARS characters
    (`openssl rand -hex 24` gives 48). The message names the identity, never the token."""
    for token, name in tokens.items():
        if len(token) < MIN_TOKEN_CHARS:
            raise InvalidInput(f"the HTTP token of {name!r} has {len(token)} characters; at least "
                               f"{MIN_TOKEN_CHARS} are required (e.g. `openssl rand -hex 24`)")


def _positive(get: Callable[[str], str | None], name: str, default: float) -> int:
    raw = get(name)
    if raw is None:
        return int(default)
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{ENV_PREFIX}{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise InvalidInput(f"{ENV_PREFIX}{name} must be at least 1")
    return value
