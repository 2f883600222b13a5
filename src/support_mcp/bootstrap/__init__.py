"""The one wiring point: settings in, services out. The MCP server, the CLI and the portal all
call `open_services` (or, for the knowledge base alone, `open_knowledge`); nothing else opens
connections or reads the environment.

The package itself imports only the settings: `open_services` and `Services` (every agent,
executor and store) are loaded on first use, so that a command that needs the knowledge base
alone never loads SSH, the browser or the agents (PEP 562 module `__getattr__`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from support_mcp.bootstrap.settings import Settings

if TYPE_CHECKING:
    from support_mcp.bootstrap.knowledge import KnowledgeServices, open_database, open_knowledge
    from support_mcp.bootstrap.services import Services, open_services, ssh_executors

__all__ = ["KnowledgeServices", "Services", "Settings", "open_database", "open_knowledge", "open_services",
           "ssh_executors"]

_LAZY = {"Services": "services", "open_services": "services", "ssh_executors": "services",
         "KnowledgeServices": "knowledge", "open_knowledge": "knowledge", "open_database": "knowledge"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'support_mcp.bootstrap' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"support_mcp.bootstrap.{_LAZY[name]}"), name)
