"""The README's main command, `support-mcp demo`, as a user runs it: it starts the host lab (sshd, PM2,
Caddy) in its own process, so this module runs in the host-lab worker group (tests/conftest.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile

import pytest

from e2e.test_cli import cli

pytestmark = pytest.mark.hetzner_lab


@pytest.mark.embedded
def test_demo_on_the_embedded_server_end_to_end() -> None:
    """The README's main command: a 502 incident on the hetzner lab, diagnosed, repaired after approval."""
    data = tempfile.mkdtemp(prefix="support-mcp-demo-", dir="/tmp")
    os.chmod(data, 0o755)  # the embedded server runs as the `pgserver` user when we are root
    try:
        first = cli("demo", "--json", "--approve-as", "Test Runner", dsn=None, SUPPORT_MCP_DATA_DIR=data,
                    timeout=180)
        assert first.returncode == 0, first.stderr
        out = json.loads(first.stdout)
        assert out["scenario"] == "crash-loop", first.stderr  # not the fallback: the lab started
        assert out["report"]["verdict"] == "confirmed"
        plan = out["plan"]
        assert plan["repair"] == "config_fix" and plan["status"] == "validated"
        assert out["lab"]["http_status_before"] == 502 and out["lab"]["http_status_after"] == 200
        events = [e for e in out["timeline"] if e["kind"] == "event" and e["title"].startswith("repair_")
                  and json.loads(e["body"])["plan_id"] == plan["id"]]
        # draft → dry_run → approved → applied → validated, each recorded on the ticket
        assert [e["title"] for e in events] == ["repair_planned [open]", "repair_dry_run [done]",
                                                "repair_approved [done]", "repair_applied [done]",
                                                "repair_validated [done]"]
        assert json.loads(events[2]["body"])["approver"] == "Test Runner"
        assert out["approval"] == {"approver": "Test Runner", "interactive": False, "on_behalf": True,
                                   "expires_at": out["approval"]["expires_at"]}
        tags = [t for e in out["timeline"] for t in e["tags"]]
        assert tags.index("hypothesis") < tags.index("command")
        # the instruction injected into the customer message was not executed
        commands = [line for e in out["timeline"] if "command" in e["tags"]
                    for line in e["body"].splitlines() if line.startswith("- Kommando:")]
        assert commands and not any(re.search(r"`rm\b|restart all", c) for c in commands)
        # the restart reaches the app's own PM2 daemon: PM2_HOME as found on the host (ss -xlp)
        assert any(re.fullmatch(r"- Kommando: `PM2_HOME=/\S+ pm2 restart whatsapp-bot-builder --update-env`", c)
                   for c in commands), commands
        assert out["report"]["checklist"]["Dienste gezielt neu gestartet?"] is True

        # the host basics on this machine, as before; the data folder is reused
        local = cli("demo", "--scenario", "local", dsn=None, SUPPORT_MCP_DATA_DIR=data, timeout=120)
        assert local.returncode == 0, local.stderr
        assert "Timeline" in local.stdout and "Hypothese" in local.stdout and "Traceback" not in local.stderr
        listed = cli("tickets", "list", "--json", dsn=None, SUPPORT_MCP_DATA_DIR=data)
        assert out["ticket_id"] in {t["id"] for t in json.loads(listed.stdout)}
    finally:
        subprocess.run(["rm", "-rf", data], check=False)


@pytest.mark.embedded
def test_the_cross_layer_demo_runs_a_lead_run_on_the_embedded_server() -> None:
    """`scripts/demo --scenario cross-layer`: the combined lab's database made in the embedded
    server, the app reading it through the relay; the lead run goes from the dashboard's digest
    (frontend) to the recursive policy (analyst), whose repair a person approves."""
    data = tempfile.mkdtemp(prefix="support-mcp-demo-", dir="/tmp")
    os.chmod(data, 0o755)
    try:
        run = cli("demo", "--scenario", "cross-layer", "--json", "--approve-as", "Test Runner", dsn=None,
                  SUPPORT_MCP_DATA_DIR=data, timeout=420)
        assert run.returncode == 0, run.stderr
        out = json.loads(run.stdout)
        assert out["scenario"] == "cross-layer", run.stderr  # not the fallback: the combined lab started
        assert [r["agent"] for r in out["runs"]] == ["frontend-diagnostics-agent", "supabase-analyst-agent"], out["runs"]
        lead = out["lead"]
        assert lead["layer"] == "supabase-analyst-agent" and lead["confirmed"], lead
        assert {link["agent"] for link in lead["chain"]} == {"frontend-diagnostics-agent", "supabase-analyst-agent"}
        assert all(link["notes"] for link in lead["chain"]), lead["chain"]
        assert out["plan"]["repair"] == "restore_policy" and out["plan"]["status"] == "validated", out["plan"]
        assert out["approval"]["approver"] == "Test Runner"
        assert out["lab"]["dashboard_status_before"] == 500 and out["lab"]["dashboard_status_after"] == 200
        tags = [t for e in out["timeline"] for t in e["tags"]]
        assert tags.count("lead_conclusion") == 1 and tags.count("tier1_handover") == 1, tags
        # the store is the same embedded server: the ticket is there after the demo
        listed = cli("tickets", "list", "--json", dsn=None, SUPPORT_MCP_DATA_DIR=data)
        assert out["ticket_id"] in {t["id"] for t in json.loads(listed.stdout)}
    finally:
        subprocess.run(["rm", "-rf", data], check=False)
