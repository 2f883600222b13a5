"""npm and workspace operations render an allowlisted argv; everything else is refused."""

from __future__ import annotations

import pytest

from support_mcp.agents.frontend_diagnostics.repairs import patched_files
from support_mcp.domain.errors import InvalidInput, PolicyViolation
from support_mcp.policy import npm_commands
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
