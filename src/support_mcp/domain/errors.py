"""The one exception hierarchy of Support MCP.

    SupportMCPError                  base: a fault of the system or of the caller
    ├── InvalidInput                 the caller sent something malformed (bad id, bad argument)
    │   └── PolicyViolation          well-formed but refused by policy (unsafe SQL, argv, scope)
    ├── NotFound                     a ticket, run, section or suggestion that does not exist
    ├── Conflict                     the state does not allow it (run locked, plan hash mismatch)
    ├── StoreUnavailable             the database cannot be reached or migrated
    └── ExecutionError               an executor could not run a command at all (not: exit != 0)

A failed check is a Finding, never an exception.
"""

from __future__ import annotations


class SupportMCPError(Exception):
    """Base class of every error Support MCP raises on purpose."""

    exit_code = 1


class InvalidInput(SupportMCPError):
    """The caller sent something malformed; the message says what and how to fix it."""

    exit_code = 2


class PolicyViolation(InvalidInput):
    """Well-formed input refused by policy (read-only SQL, command allowlist, agent scope)."""

    exit_code = 3


class NotFound(SupportMCPError):
    """A referenced object does not exist."""

    exit_code = 4


class Conflict(SupportMCPError):
    """The current state does not allow the operation."""

    exit_code = 5


class StoreUnavailable(SupportMCPError):
    """The database cannot be reached, started or migrated."""

    exit_code = 6


class ExecutionError(SupportMCPError):
    """An executor could not run a command at all (missing binary, timeout, lost connection)."""

    exit_code = 7
