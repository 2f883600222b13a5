"""Where the app runs, found on the host (agents/hetzner_ops/layout.py), on both host labs."""

from __future__ import annotations

from helpers.hetzner_lab import HetznerLab, check_context, start_lab
from support_mcp.agents.hetzner_ops.layout import app_layout
from support_mcp.executors.ssh import SSHExecutor


async def test_the_layout_is_found_on_the_host(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    ctx, recorder = check_context(ssh)
    layout = await app_layout(ctx, healthy.host_target())
    assert str(layout.host.pm2_home) == str(healthy.pm2_home) and "rpc.sock" in layout.sources["pm2_home"]
    assert layout.host.app_port == healthy.app_port and str(layout.host.app_dir) == str(healthy.frontend)
    assert layout.process is not None and layout.process.name == healthy.app
    # the daemons (another lab's may be up too: each is asked until the one with the app in this lab)
    assert recorder.commands[0] == ("ss", "-xlp") and set(recorder.commands[1:]) == {("pm2", "jlist")}
    ran = len(recorder.commands)
    again = await app_layout(ctx, layout.host)  # asked with the host as found: the same, nothing re-run
    assert again is layout and len(recorder.commands) == ran


async def test_of_two_daemons_running_the_app_the_one_in_the_deploy_folder_is_taken(healthy: HetznerLab,
                                                                                   ssh: SSHExecutor) -> None:
    """One user, two PM2 daemons, the same app name in both (staging beside production): the
    daemon whose app runs in the configured deploy folder is the one."""
    other = start_lab(kind=type(healthy))
    try:
        assert len(healthy.pm2_daemon_homes() + other.pm2_daemon_homes()) == 2
        ctx, _ = check_context(ssh)
        layout = await app_layout(ctx, healthy.host_target())
        assert str(layout.host.pm2_home) == str(healthy.pm2_home), layout.sources
        assert str(layout.host.app_dir) == str(healthy.frontend) and layout.host.app_port == healthy.app_port
        ctx, _ = check_context(other.executor())
        theirs = await app_layout(ctx, other.host_target())
        assert str(theirs.host.pm2_home) == str(other.pm2_home) and theirs.host.app_port == other.app_port
    finally:
        other.stop()


async def test_without_a_pm2_daemon_none_is_started_and_the_finding_says_so(healthy: HetznerLab,
                                                                             ssh: SSHExecutor) -> None:
    """After `pm2 kill` (a reboot without a PM2 service): pm2_status fails naming the missing
    daemon, the logs are skipped, no restart is proposed, and no pm2 command ran — a bare
    `pm2 jlist` would have started an empty daemon in the login's default PM2_HOME."""
    from support_mcp.agents.hetzner_ops.checks import AppPortCheck, Pm2LogsCheck, Pm2StatusCheck
    from support_mcp.agents.hetzner_ops.repairs import Pm2RestartRepair

    healthy.inject_pm2_down()
    ctx, recorder = check_context(ssh)
    host = healthy.host_target()
    [status] = await Pm2StatusCheck(host).run(ctx)
    [logs] = await Pm2LogsCheck(host).run(ctx)
    port = await AppPortCheck(host).run(ctx)
    assert status.status == "fail" and status.data["no_daemon"] is True, status
    assert host.user in status.title and "rpc.sock" in " ".join(status.evidence)
    assert logs.status == "skipped"
    assert Pm2RestartRepair(host).proposes([status, *port]) is None
    assert not [c for c in recorder.commands if c[0] == "pm2"], recorder.commands
    assert healthy.pm2_daemon_homes() == []  # none started by the checks
