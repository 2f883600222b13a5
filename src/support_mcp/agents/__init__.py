"""Tier-2 agents: one package per agent with its checks, pure parsers and repairs."""
