"""The project's corpus of hostile host calls (tests/fixtures/hetzner_ops/hostile_host_calls.yaml)
through the real typed operations and repair-parameter checks: every entry refused for the reason
it names; every valid diagnostic call (valid_host_calls.yaml) expressible."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from support_mcp.domain.errors import PolicyViolation
from support_mcp.domain.targets import HostTarget
from support_mcp.policy import host_commands as hc
from support_mcp.policy import host_diagnostics as hd

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "hetzner_ops"
HOSTILE: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "hostile_host_calls.yaml").read_text("utf-8"))
VALID: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "valid_host_calls.yaml").read_text("utf-8"))
HOST = HostTarget(name="hetzner-prod", host="203.0.113.10")

OPERATIONS: dict[str, Callable[[dict[str, Any]], object]] = {
    "journal": lambda p: hd.journal(HOST, **p),
    "caddy_log_tail": lambda p: hd.caddy_log_tail(HOST, **p),
    "grep_file": lambda p: hd.grep_file(HOST, **p),
    "disk_usage": lambda p: hd.disk_usage(HOST, **p),
    "port_listeners": lambda p: hd.port_listeners(HOST, **p),
    "health_path": lambda p: hd.checked_health_path(p["path"]),
    "repair_path": lambda p: hc.checked_path(HOST, p["path"]),
    "pm2_restart": lambda p: hc.pm2_restart(HOST, p["app"]),
    "find_links": lambda p: hd.symlinks_under(HOST, **p),
}


def call(entry: dict[str, Any]) -> object:
    operation = OPERATIONS.get(entry["op"])
    if operation is None:
        raise PolicyViolation(f"unknown operation {entry['op']!r}; there is no such typed operation")
    return operation(dict(entry["params"]))


def test_the_corpora_are_large_and_mostly_real_operations() -> None:
    assert len(HOSTILE) >= 140 and len(VALID) >= 25
    assert sum(e["op"] not in OPERATIONS for e in HOSTILE) <= 5  # refused for a reason, not by absence


@pytest.mark.parametrize("entry", HOSTILE, ids=[f"{i}-{e['op']}" for i, e in enumerate(HOSTILE)])
def test_a_hostile_call_is_refused_for_its_reason(entry: dict[str, Any]) -> None:
    with pytest.raises(PolicyViolation) as refused:
        call(entry)
    assert re.search(entry["expect"], str(refused.value)), str(refused.value)


@pytest.mark.parametrize("entry", VALID, ids=[f"{i}-{e['op']}" for i, e in enumerate(VALID)])
def test_a_valid_diagnostic_call_is_expressible(entry: dict[str, Any]) -> None:
    result = call(entry)
    argv = getattr(result, "argv", None)
    assert argv is None or all("\n" not in a and not a.startswith(";") for a in argv)


def test_strict_numbers_refuse_what_python_would_coerce() -> None:
    for value in (True, 1.9, "1_0"):
        with pytest.raises(PolicyViolation, match="whole number"):
            hc.journalctl(HOST, "caddy", value)  # type: ignore[arg-type]
    assert hd.journal(HOST, "caddy", since_minutes="15").argv[-3] == "-15min" or "-15min" in hd.journal(
        HOST, "caddy", since_minutes="15").argv


def test_journal_search_is_literal_text() -> None:
    argv = hd.journal(HOST, "caddy", grep="dial tcp 127.0.0.1:3000 (x)").argv
    assert argv[-2:] == ("--grep", "dial tcp 127\\.0\\.0\\.1\\:3000 \\(x\\)")
