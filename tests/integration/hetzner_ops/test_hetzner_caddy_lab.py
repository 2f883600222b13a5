"""The Caddy repairs on the lab: restore the newest Caddyfile backup that validates, and start a
Caddy that is down. Fault → checks → proposal → plan → dry-run → apply → validate → 200."""

from __future__ import annotations

from helpers.hetzner_lab import HetznerLab, check_context
from support_mcp.agents.hetzner_ops import checks as c
from support_mcp.agents.hetzner_ops.caddy_repairs import CaddyRestoreRepair, CaddyStartRepair
from support_mcp.agents.hetzner_ops.file_repairs import hetzner_repairs
from support_mcp.domain.models import CheckStatus, Finding
from support_mcp.executors.ssh import SSHExecutor


def proposals(lab: HetznerLab, findings: list[Finding]) -> dict[str, object]:
    return {r.name: params for r in hetzner_repairs(lab.host_target()) if (params := r.proposes(findings))}


async def test_caddy_restore_picks_the_newest_backup_that_validates(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    healthy.remove_caddy_backups()
    original = healthy.inject_invalid_caddyfile()
    [good] = healthy.caddy_backups()
    newest_but_broken = healthy.caddyfile.with_name("Caddyfile.bak-20990101T000000Z")
    newest_but_broken.write_text("http://127.0.0.1:1 {\n\treverse_prxy 127.0.0.1:2\n}\n")
    host = healthy.host_target()
    ctx, recorder = check_context(ssh, language="en")
    try:
        [invalid] = await c.CaddyCheck(host).run(ctx)
        assert invalid.status == CheckStatus.FAIL and invalid.data["last_valid_backup"] == str(good)
        assert invalid.data["backups_tried"] == [str(newest_but_broken), str(good)]
        assert proposals(healthy, [invalid]) == {"caddy_restore": {"backup": str(good)}}
        repair = CaddyRestoreRepair(host)
        steps = await repair.plan(ctx, {"backup": str(good)})
        assert [s.payload.get("operation", s.kind) for s in steps] == ["cp", "file", "caddy_validate", "caddy_reload"]
        assert steps[0].display.startswith(f"cp -p --remove-destination {healthy.caddyfile} {healthy.caddyfile}.bak-")
        [broken] = set(healthy.caddyfile.read_text().splitlines()) - set(original.splitlines())
        [fixed] = set(original.splitlines()) - set(healthy.caddyfile.read_text().splitlines())
        assert f"-{broken}" in steps[1].display and f"+{fixed}" in steps[1].display
        dry = await repair.dry_run(ctx, steps)
        assert dry.ok, dry.output
        assert "Valid configuration" in dry.output and f"restore {good}" in dry.output
        assert healthy.caddyfile.read_text() != original  # the dry-run changed nothing
        assert await repair.fingerprint(ctx, steps) == dry.fingerprint
        result = await repair.apply(ctx, steps)
        assert result.ok, result.output
        assert healthy.caddyfile.read_text() == original
        broken_copy = steps[1].payload["backup"]
        assert broken in open(broken_copy).read()  # the broken file is kept for the post-mortem
        assert ("caddy", "reload", "--config", str(healthy.caddyfile), "--adapter", "caddyfile") in recorder.commands
        findings = await repair.validate(ctx, {})
        assert all(f.status == CheckStatus.OK for f in findings), findings
        assert healthy.http_status() == 200
    finally:
        healthy.caddyfile.write_text(original)
        healthy.remove_caddy_backups()


async def test_caddy_restore_fingerprint_changes_when_the_backup_changed(healthy: HetznerLab,
                                                                         ssh: SSHExecutor) -> None:
    healthy.remove_caddy_backups()
    original = healthy.inject_invalid_caddyfile()
    [good] = healthy.caddy_backups()
    repair = CaddyRestoreRepair(healthy.host_target())
    ctx, _ = check_context(ssh)
    try:
        steps = await repair.plan(ctx, {"backup": str(good)})
        dry = await repair.dry_run(ctx, steps)
        good.write_text(good.read_text() + "# edited after the dry-run\n")
        assert await repair.fingerprint(ctx, steps) != dry.fingerprint
    finally:
        healthy.caddyfile.write_text(original)
        healthy.remove_caddy_backups()


async def test_no_valid_backup_nothing_is_proposed(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    healthy.remove_caddy_backups()
    original = healthy.inject_invalid_caddyfile(backup=False)
    broken = healthy.caddyfile.with_name("Caddyfile.bak-20200101T000000Z")
    broken.write_text(healthy.caddyfile.read_text())
    ctx, _ = check_context(ssh, language="en")
    try:
        [invalid] = await c.CaddyCheck(healthy.host_target()).run(ctx)
        assert invalid.status == CheckStatus.FAIL and invalid.data["last_valid_backup"] is None
        assert invalid.detail == "No valid backup of the Caddy configuration (1 checked)"
        assert proposals(healthy, [invalid]) == {}
    finally:
        healthy.caddyfile.write_text(original)
        healthy.remove_caddy_backups()


# Known gap: over SSH, `caddy start` leaves its daemon holding the session's stdout/stderr, so sshd
# keeps the channel open until the operation times out, and once the channel closes the daemon dies
# of SIGPIPE at its next log line. Fixing it needs the executor (a pty for this operation) or a
# detacher in the policy (`start-stop-daemon --background`, refused today after `--`); see the report.
async def test_caddy_start_brings_a_stopped_caddy_back(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    healthy.inject_caddy_down()
    host = healthy.host_target()
    ctx, recorder = check_context(ssh)
    try:
        findings = [*await c.CaddyCheck(host).run(ctx), *await c.HttpSmokeCheck(host).run(ctx),
                    *await c.Pm2StatusCheck(host).run(ctx), *await c.AppPortCheck(host).run(ctx)]
        assert proposals(healthy, findings) == {"caddy_start": {"unit": "caddy"}}
        repair = CaddyStartRepair(host)
        steps = await repair.plan(ctx, {"unit": "caddy"})
        start = ("caddy", "start", "--config", str(healthy.caddyfile), "--adapter", "caddyfile")
        assert [tuple(s.payload["argv"]) for s in steps] == [start]  # no systemd in the lab
        dry = await repair.dry_run(ctx, steps)
        assert dry.ok and "Valid configuration" in dry.output and "Caddy läuft: False" in dry.output
        assert start not in recorder.commands and healthy.http_status() is None  # nothing started
        assert await repair.fingerprint(ctx, steps) == dry.fingerprint
        result = await repair.apply(ctx, steps)
        assert result.ok, result.output
        assert all(f.status == CheckStatus.OK for f in await repair.validate(ctx, {}))
        assert healthy.http_status() == 200
        # the state the plan was made for is gone: a second apply would be refused by the gate
        assert await repair.fingerprint(ctx, steps) != dry.fingerprint
    finally:
        healthy.stop_daemon_caddy()
