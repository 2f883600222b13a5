"""Connection faults told to clients (issue 15): by their kind, never with the server's text."""

from __future__ import annotations

import psycopg
import pytest

from support_mcp.store.database import fault_reason


@pytest.mark.parametrize(("message", "reason"), [
    ('connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  database "acme_prod" is '
     "not currently accepting connections", "the database refuses connections"),
    ('connection failed: FATAL:  password authentication failed for user "svc_acme"',
     "the database refuses the configured credentials"),
    ('connection failed: connection to server at "db.acme.internal" (10.0.0.5), port 5432 failed: Connection refused',
     "the database server cannot be reached (connection refused)"),
    ("consuming input failed: server closed the connection unexpectedly", "the database server closed the connection"),
])
def test_a_connection_fault_is_told_by_its_kind_without_the_servers_names(message: str, reason: str) -> None:
    told = fault_reason(psycopg.OperationalError(message))
    assert told == reason
    for name in ("acme_prod", "svc_acme", "10.0.0.5", "db.acme.internal"):
        assert name not in told
