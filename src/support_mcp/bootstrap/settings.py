"""Configuration as explicit values; the environment is read here and nowhere else."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.models import Language
from support_mcp.domain.targets import Targets

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
            tokens[token.strip()] = agent.strip()
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
        )
