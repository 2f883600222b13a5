"""Support MCP: Tier-2 incident agents (MCP server, CLI, internal portal)."""

__version__ = "0.1.0"
