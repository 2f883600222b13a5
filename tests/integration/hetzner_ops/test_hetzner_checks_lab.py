"""The hetzner-ops checks over real SSH against the lab, one injected fault at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpers.hetzner_lab import HetznerLab, check_context, deployment_event
from support_mcp.agents.base import Check
from support_mcp.agents.hetzner_ops import checks as c
from support_mcp.agents.hetzner_ops.file_repairs import hetzner_repairs
from support_mcp.agents.registry import checks_for
from support_mcp.domain.models import CheckStatus, Finding
from support_mcp.domain.targets import Targets
from support_mcp.executors.ssh import SSHExecutor


async def run_checks(lab: HetznerLab, ssh: SSHExecutor, *checks: Check, **kw: object) -> dict[str, list[Finding]]:
    ctx, _ = check_context(ssh, **kw)  # type: ignore[arg-type]
    out: dict[str, list[Finding]] = {}
    for check in checks:
        out[check.name] = await check.run(ctx)
    return out


def proposals(lab: HetznerLab, findings: list[Finding]) -> dict[str, object]:
    return {r.name: params for r in hetzner_repairs(lab.host_target()) if (params := r.proposes(findings))}


async def test_healthy_host_all_checks_ok_and_journal_falls_back_with_reason(healthy: HetznerLab,
                                                                               ssh: SSHExecutor) -> None:
    checks = checks_for("hetzner-ops-agent", Targets(hosts=(healthy.host_target(),)))
    ctx, recorder = check_context(ssh, deploy_events=[deployment_event(datetime.now(UTC) - timedelta(days=1))])
    findings = {c.name: await c.run(ctx) for c in checks}
    statuses = {name: [str(f.status) for f in fs] for name, fs in findings.items()}
    for name in ("pm2_status", "pm2_logs", "port_3000", "caddy_status", "http_smoke", "deploy_age", "host.memory"):
        assert statuses[name] == ["ok"], (name, findings[name])
    assert statuses["journal"] == ["skipped"]
    assert "System has not been booted with systemd" in findings["journal"][0].title or \
        "No journal files" in findings["journal"][0].title
    assert "systemctl nicht verfügbar" in findings["caddy_status"][0].title
    assert statuses["host.load"][0] != "error" and statuses["host.disk"][0] != "error"
    assert ("pm2", "jlist") in recorder.commands and ("uptime",) in recorder.commands
    assert not proposals(healthy, [f for fs in findings.values() for f in fs])


async def test_crash_loop_shows_errored_restarts_and_the_log_line(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    healthy.inject_crash_loop()
    host = healthy.host_target()
    found = await run_checks(healthy, ssh, c.Pm2StatusCheck(host), c.Pm2LogsCheck(host), c.AppPortCheck(host),
                             c.HttpSmokeCheck(host), language="en")
    [status] = found["pm2_status"]
    assert status.status == CheckStatus.FAIL and status.data["restart_loop"] and status.data["restarts"] >= 3
    assert "restart-looping" in status.title
    [logs] = found["pm2_logs"]
    assert logs.status == CheckStatus.WARN
    [problem] = logs.data["env_problems"]  # in the app's own words, whatever shape they have
    assert (problem["key"], problem["got"]) == ("APP_MODE", "crash")
    assert logs.data["errors"][-1]["timestamp"] is not None
    assert found["port_3000"][0].status == CheckStatus.FAIL and not found["port_3000"][0].data.get("conflict")
    assert found["http_smoke"][0].data["status"] == 502
    proposed = proposals(healthy, [f for fs in found.values() for f in fs])
    assert proposed == {"config_fix": {"path": str(healthy.frontend / ".env.production"),  # where the app reads it
                                       "set": {"APP_MODE": "production"}}}


async def test_stopped_app_nothing_on_port_caddy_502(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    healthy.inject_stopped()
    host = healthy.host_target()
    found = await run_checks(healthy, ssh, c.Pm2StatusCheck(host), c.AppPortCheck(host), c.HttpSmokeCheck(host))
    assert found["pm2_status"][0].data["status"] == "stopped" and found["pm2_status"][0].status == CheckStatus.FAIL
    assert found["port_3000"][0].title == f"Auf Port {healthy.app_port} lauscht kein Prozess"
    assert found["http_smoke"][0].data["proxy_error"] and "502" in found["http_smoke"][0].title
    assert set(proposals(healthy, [f for fs in found.values() for f in fs])) == {"pm2_restart"}


async def test_port_conflict_names_the_foreign_process(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    healthy.inject_port_conflict()
    host = healthy.host_target()
    found = await run_checks(healthy, ssh, c.Pm2StatusCheck(host), c.Pm2LogsCheck(host), c.AppPortCheck(host))
    [port] = found["port_3000"]
    assert port.status == CheckStatus.FAIL and port.data["conflict"] and "EADDRINUSE" in port.title
    assert port.data["listeners"][0]["process"] == "node"
    pid = port.data["listeners"][0]["pid"]
    assert port.data["manual_followup"]["pid"] == pid and port.data["manual_followup"]["process"] == "node"
    assert port.data["cmdline"] == f"node {healthy.frontend / 'server.js'}"
    # PM2_HOME as found on the host (the daemon's rpc.sock), so the command reaches the app's daemon
    assert f"kill {pid} && PM2_HOME={healthy.pm2_home} pm2 restart {healthy.app} --update-env" in port.detail
    assert f"PID {pid}" in port.detail and "node" in port.detail
    assert any("EADDRINUSE" in e["message"] for e in found["pm2_logs"][0].data["errors"])
    # A plain restart would only fail again; the squatter runs as the deploy user, so ending that
    # one PID (then the restart) is proposed as a plan a human must approve.
    assert proposals(healthy, [f for fs in found.values() for f in fs]) == {
        "free_app_port": {"pid": pid, "cmdline": port.data["cmdline"]}}


async def test_caddy_down_and_caddy_config_invalid(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    host = healthy.host_target()
    original = healthy.inject_invalid_caddyfile()
    try:
        [invalid] = (await run_checks(healthy, ssh, c.CaddyCheck(host)))["caddy_status"]
        broken = next(ln.strip() for ln in healthy.caddyfile.read_text().splitlines()
                      if ln not in original.splitlines())  # the edit that broke it, named by caddy validate
        assert invalid.status == CheckStatus.FAIL and any(t in invalid.title for t in broken.split()), (broken, invalid.title)
    finally:
        healthy.caddyfile.write_text(original)
    healthy.inject_caddy_down()
    [down] = (await run_checks(healthy, ssh, c.HttpSmokeCheck(host)))["http_smoke"]
    assert down.status == CheckStatus.FAIL and down.data["caddy_down"] and "nicht erreichbar" in down.title


async def test_stale_deploy_build_older_than_last_deployment_event(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    healthy.inject_stale_deploy(age_s=3600)
    host = healthy.host_target()
    event = deployment_event(datetime.now(UTC) - timedelta(minutes=10))
    [stale] = (await run_checks(healthy, ssh, c.DeployAgeCheck(host), deploy_events=[event]))["deploy_age"]
    assert stale.status == CheckStatus.FAIL and stale.data["stale"] and stale.data["deploy_event_id"] == str(event.id)
    assert 2990 <= stale.data["age_s"] <= 3010
    assert proposals(healthy, [stale]) == {"deploy": {"reason": "stale"}}


async def test_firewall_without_ufw_or_nft_rights_is_skipped_with_reasons(healthy: HetznerLab,
                                                                           ssh: SSHExecutor) -> None:
    [fw] = (await run_checks(healthy, ssh, c.FirewallCheck(healthy.host_target())))["firewall"]
    assert fw.status == CheckStatus.SKIPPED and fw.evidence
