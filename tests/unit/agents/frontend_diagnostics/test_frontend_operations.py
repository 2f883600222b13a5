"""npm and workspace operations render an allowlisted argv; everything else is refused."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from support_mcp.agents.base import CheckContext, RepairStep
from support_mcp.agents.frontend_diagnostics.repairs import (
    HotfixDeployRepair,
    patched_files,
    restart_operation,
)
from support_mcp.domain.errors import InvalidInput, PolicyViolation
from support_mcp.domain.targets import FrontendTarget, HostTarget, Targets
from support_mcp.policy import host_commands, npm_commands
from support_mcp.policy.commands import validate_argv


def test_npm_run_only_for_scripts_the_project_has() -> None:
    op = npm_commands.npm_run("build", "/srv/ws", {"build", "start"})
    assert op.argv == ("npm", "--prefix", "/srv/ws", "run", "build")
    with pytest.raises(PolicyViolation, match="no script 'lint'"):
        npm_commands.npm_run("lint", "/srv/ws", {"build"})
    with pytest.raises(PolicyViolation):
        npm_commands.npm_run("postinstall", "/srv/ws", {"postinstall"})


def test_install_is_production_only_and_marked_as_write() -> None:
    op = npm_commands.npm_install("/srv/ws")
    assert "--omit=dev" in op.argv and "--legacy-peer-deps" in op.argv and op.writes


def test_header_reader_and_rsync_are_allowlisted() -> None:
    assert npm_commands.read_next_headers("/srv/ws").argv[:2] == ("node", "-e")
    with pytest.raises(PolicyViolation):
        validate_argv(["node", "-e", "require('child_process').exec('id')", "/srv/ws"])
    sync = npm_commands.sync_workspace("/srv/app", "/srv/ws")
    assert sync.argv[-2:] == ("/srv/app/", "/srv/ws/")
    deploy = npm_commands.deploy_rsync("/srv/ws", "/var/www/app", dry_run=False)
    assert deploy.writes and "--dry-run" not in deploy.argv
    with pytest.raises(PolicyViolation):
        npm_commands.deploy_rsync("/srv/ws", "/var/www/../etc", dry_run=True)
    with pytest.raises(PolicyViolation):
        validate_argv(["rsync", "-a", "-e", "sh", "/a/", "/b/"])


def test_patch_paths_stay_inside_the_project() -> None:
    diff = "--- a/app/page.tsx\n+++ b/app/page.tsx\n@@ -1 +1 @@\n-x\n+y\n"
    assert patched_files(diff) == ["app/page.tsx"]
    with pytest.raises(PolicyViolation):
        patched_files("--- a/../etc/passwd\n+++ b/../etc/passwd\n")
    with pytest.raises(InvalidInput):
        patched_files("just text")


def test_pm2_restart_names_only_the_configured_app() -> None:
    op = npm_commands.pm2_restart("shop", "shop")
    assert op.argv == ("pm2", "restart", "shop", "--update-env") and op.writes and op.target == "local"
    home = npm_commands.pm2_restart("shop", "shop", pm2_home="/srv/pm2", target="web-1")
    assert home.argv == ("pm2", "restart", "shop", "--update-env")
    assert home.env == (("PM2_HOME", "/srv/pm2"),) and home.target == "web-1"
    for other in ("all", "0", "other", "shop --update-env", "-s"):
        with pytest.raises(PolicyViolation):
            npm_commands.pm2_restart(other, "shop")
    for configured in ("all", "7", "delete"):  # a configured name that addresses other processes
        with pytest.raises(PolicyViolation):
            npm_commands.pm2_restart(configured, configured)
    with pytest.raises(PolicyViolation, match="no PM2 app configured"):
        npm_commands.pm2_restart("shop", None)
    with pytest.raises(PolicyViolation):
        npm_commands.pm2_restart("shop", "shop", pm2_home="/srv/../root/.pm2")
    with pytest.raises(PolicyViolation):  # `env` runs whatever follows it: never a program of its own
        validate_argv(["env", "PM2_HOME=/srv/pm2", "pm2", "restart", "shop", "--update-env"])


def test_operation_environment_is_allowlisted_and_checked() -> None:
    from support_mcp.policy.commands import Operation

    for name, value in (("PATH", "/tmp"), ("LD_PRELOAD", "/tmp/x.so"), ("BASH_ENV", "/tmp/x"),
                        ("PM2_HOME", "relative/dir"), ("PM2_HOME", "/srv/../root"), ("NODE_ENV", "a b"),
                        ("NODE_ENV", "x;rm -rf /"), ("HOME", "/srv/$(id)")):
        with pytest.raises(PolicyViolation):
            Operation(name="x", argv=("pm2", "jlist"), env=((name, value),))
    ok = Operation(name="x", argv=("pm2", "jlist"), env=(("PM2_HOME", "/srv/pm2"),))
    assert ok.display() == "PM2_HOME=/srv/pm2 pm2 jlist"


def test_restart_on_a_configured_host_is_the_host_agents_operation() -> None:
    host = HostTarget(name="web-1", host="203.0.113.7", app="shop")
    frontend = FrontendTarget(source_dir=Path("/srv/app"), pm2_app="shop", restart_target="web-1")
    op = restart_operation(frontend, Targets(hosts=(host,), frontend=frontend))
    assert op == host_commands.pm2_restart(host)
    assert restart_operation(replace(frontend, pm2_app=None), Targets()) is None
    with pytest.raises(PolicyViolation):
        restart_operation(frontend, Targets(hosts=(host,)), "other")
    with pytest.raises(PolicyViolation):  # the frontend's app is not the host's app
        restart_operation(replace(frontend, pm2_app="blog"), Targets(hosts=(host,)))


async def test_apply_refuses_a_stored_restart_step_naming_another_app(tmp_path: Path) -> None:
    target = FrontendTarget(source_dir=tmp_path / "app", workspace_dir=tmp_path / "ws",
                            deploy_dir=tmp_path / "deploy", pm2_app="shop")
    repair = HotfixDeployRepair(target)
    ran: list[object] = []

    async def record(agent: str, op: object, result: object) -> None:
        ran.append(op)

    ctx = CheckContext(ticket_id=uuid.uuid4(), agent="frontend-diagnostics-agent", executors={}, record=record)
    tampered = npm_commands.pm2_restart("other", "other")
    steps = [RepairStep("file", "local", "diff", {"patch_file": str(tmp_path / "p.patch"), "files": ["a.ts"]}),
             RepairStep("command", "local", tampered.display(),
                        {"operation": "pm2_restart", "argv": list(tampered.argv), "app": "shop"})]
    result = await repair.apply(ctx, steps)
    assert not result.ok and "restart step refused" in result.output and ran == []
    assert not (tmp_path / "ws").exists()  # nothing ran, not even the workspace sync
