"""The hetzner-ops repairs on the lab: plan → dry-run → fingerprint → apply → validate."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpers.hetzner_lab import HetznerLab, check_context, deployment_event
from support_mcp.agents.hetzner_ops.file_repairs import ConfigFixRepair, DeployRepair
from support_mcp.agents.hetzner_ops.repairs import CaddyReloadRepair, Pm2RestartRepair
from support_mcp.domain.errors import Conflict
from support_mcp.domain.models import CheckStatus
from support_mcp.executors.ssh import SSHExecutor


async def test_pm2_restart_brings_a_stopped_app_back(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    healthy.inject_stopped()
    repair = Pm2RestartRepair(healthy.host_target())
    ctx, recorder = check_context(ssh)
    steps = await repair.plan(ctx, {"app": healthy.app})
    assert [s.display for s in steps] == [f"PM2_HOME={healthy.pm2_home} pm2 restart {healthy.app} --update-env"]
    dry = await repair.dry_run(ctx, steps)
    assert dry.ok and f"would run:\nPM2_HOME={healthy.pm2_home} pm2 restart {healthy.app} --update-env" in dry.output
    assert "status=stopped" in dry.output
    assert ("pm2", "restart", healthy.app, "--update-env") not in recorder.commands  # dry-run ran nothing
    assert await repair.fingerprint(ctx, steps) == dry.fingerprint
    result = await repair.apply(ctx, steps)
    assert result.ok, result.output
    findings = await repair.validate(ctx, {})
    assert all(f.status == CheckStatus.OK for f in findings), findings
    assert healthy.http_status() == 200


async def test_config_fix_backs_up_shows_diff_and_fixes_the_crash_loop(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    healthy.inject_crash_loop()
    env = healthy.env_file  # asked for where the app reads it; written where it really is (a link on the second lab)
    repair = ConfigFixRepair(healthy.host_target())
    ctx, _ = check_context(ssh)
    steps = await repair.plan(ctx, {"path": str(healthy.frontend / ".env.production"), "set": {"APP_MODE": "production"}})
    assert [s.kind for s in steps] == ["command", "file", "command"]
    assert steps[0].display.startswith(f"cp -p --remove-destination {env} {env}.bak-")
    assert "-APP_MODE=crash\n+APP_MODE=production" in steps[1].display
    dry = await repair.dry_run(ctx, steps)
    assert dry.ok and "git status: no git repository" in dry.output and "+APP_MODE=production" in dry.output
    result = await repair.apply(ctx, steps)
    assert result.ok, result.output
    assert env.read_text() == healthy.default_env
    assert Path(steps[1].payload["backup"]).read_text() == healthy.default_env.replace("APP_MODE=production",
                                                                                      "APP_MODE=crash")
    assert all(f.status == CheckStatus.OK for f in await repair.validate(ctx, {}))


async def test_config_fix_that_breaks_the_app_is_restored_from_the_backup(healthy: HetznerLab,
                                                                          ssh: SSHExecutor) -> None:
    env = healthy.env_file
    repair = ConfigFixRepair(healthy.host_target())
    ctx, _ = check_context(ssh)
    steps = await repair.plan(ctx, {"path": str(env), "content": "APP_MODE=maintenance\n"})
    result = await repair.apply(ctx, steps)
    assert not result.ok and "restored from the backup" in result.output.replace(
        "aus dem Backup", "restored from the backup")
    assert env.read_text() == healthy.default_env
    assert healthy.pm2_state().get("status") == "online"


async def test_fingerprint_changes_when_the_file_changed_since_the_dry_run(healthy: HetznerLab,
                                                                           ssh: SSHExecutor) -> None:
    env = healthy.env_file
    repair = ConfigFixRepair(healthy.host_target())
    ctx, _ = check_context(ssh)
    steps = await repair.plan(ctx, {"path": str(env), "set": {"FEATURE_X": "1"}})
    dry = await repair.dry_run(ctx, steps)
    healthy.write_env("APP_MODE=production\nOTHER=2\n")
    assert await repair.fingerprint(ctx, steps) != dry.fingerprint


async def test_deploy_rebuilds_logs_exit_codes_and_restarts(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    healthy.inject_stale_deploy()
    before = (healthy.frontend / ".next" / "BUILD_ID").read_text()
    repair = DeployRepair(healthy.host_target())
    ctx, recorder = check_context(ssh, deploy_events=[deployment_event(datetime.now(UTC) - timedelta(minutes=5))])
    steps = await repair.plan(ctx, {"reason": "stale"})
    assert [s.payload["operation"] for s in steps] == ["npm_install", "npm_build", "npm_prune", "pm2_restart"]
    dry = await repair.dry_run(ctx, steps)
    assert "npm --prefix" in dry.output and "current build:" in dry.output
    result = await repair.apply(ctx, steps)
    assert result.ok, result.output
    assert result.output.count("(exit 0,") == 4  # install, build, prune, restart
    assert (healthy.frontend / ".next" / "BUILD_ID").read_text() != before
    findings = await repair.validate(ctx, {})
    assert [f.status for f in findings] == [CheckStatus.OK] * 3, findings


async def test_caddy_reload_applies_the_config_on_disk(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    healthy.inject_stale_proxy_config()
    repair = CaddyReloadRepair(healthy.host_target())
    ctx, _ = check_context(ssh)
    steps = await repair.plan(ctx, {"unit": "caddy"})
    assert [s.payload["operation"] for s in steps] == ["caddy_validate", "caddy_reload"]
    dry = await repair.dry_run(ctx, steps)
    assert dry.ok and "Valid configuration" in dry.output
    assert (await repair.apply(ctx, steps)).ok
    assert healthy.http_status() == 200


async def test_a_config_fix_plan_holds_the_edit_and_a_redacted_diff_never_the_env_file(
        healthy: HetznerLab, ssh: SSHExecutor) -> None:
    """The plan's steps reach its row, every client and the ticket: the env file's other secrets
    must not. Apply re-makes the content from the edit and writes exactly what was hashed."""
    secret = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlLXNlY3JldA"
    healthy.write_env(healthy.default_env + f"SUPABASE_SERVICE_ROLE_KEY={secret}\nSTRIPE_SECRET_KEY=sk_live_51Hzzzzzzzzzz\n")
    repair = ConfigFixRepair(healthy.host_target())
    ctx, _ = check_context(ssh)
    steps = await repair.plan(ctx, {"path": str(healthy.env_file), "set": "FEATURE_X=1"})
    shown = json.dumps([(s.display, s.payload) for s in steps])
    assert secret not in shown and "sk_live_51Hzzzzzzzzzz" not in shown
    assert "+FEATURE_X=1" in shown
    assert (await repair.dry_run(ctx, steps)).ok

    result = await repair.apply(ctx, steps)
    assert result.ok, result.output
    written = healthy.env_file.read_text()
    assert "FEATURE_X=1" in written and f"SUPABASE_SERVICE_ROLE_KEY={secret}" in written
    assert secret not in result.output


async def test_apply_refuses_content_other_than_the_approved(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    repair = ConfigFixRepair(healthy.host_target())
    ctx, _ = check_context(ssh)
    steps = await repair.plan(ctx, {"path": str(healthy.env_file), "set": {"FEATURE_X": "1"}})
    file_step = next(s for s in steps if s.kind == "file")
    tampered = {**file_step.payload, "set": {"FEATURE_X": "2"}}  # a row edited after the approval
    with pytest.raises(Conflict):
        await repair.approved_content(ctx, tampered)
