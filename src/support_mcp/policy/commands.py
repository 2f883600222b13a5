"""Typed operations: a command is built from validated arguments into an argv list, never a
shell string. Each builder checks its arguments against the configured targets."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    """One validated command: its name, rendered argv, the target it runs on, and its limits."""

    name: str
    argv: tuple[str, ...]
    target: str = "local"
    timeout_s: float = 20.0
    writes: bool = False

    def display(self) -> str:
        return " ".join(self.argv)
