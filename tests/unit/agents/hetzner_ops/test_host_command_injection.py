"""The hetzner-ops operation set refuses every injection attempt of the corpus below: only the
configured app, units and paths can be named, and nothing outside the operation set runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePosixPath

import pytest

from support_mcp.domain.errors import PolicyViolation
from support_mcp.domain.targets import HostTarget
from support_mcp.policy import host_commands as hc
from support_mcp.policy.commands import validate_argv

HOST = HostTarget(name="hetzner-prod", host="203.0.113.10", deploy_root=Path("/var/www/whatsapp-bot-builder"))

APP_NAMES = [
    "all", "whatsapp-bot-builder; rm -rf /", "whatsapp-bot-builder && reboot", "whatsapp-bot-builder|sh",
    "whatsapp-bot-builder\nrm -rf /", "$(reboot)", "`id`", "--update-env=x", "-s", "other-app", "0",
    "whatsapp-bot-builder > /etc/passwd", "whatsapp‐bot‐builder",  # U+2010 hyphen look-alike
    "whаtsapp-bot-builder",  # Cyrillic a
    "whatsapp-bot-builder\x00", "../whatsapp-bot-builder", "*", "whatsapp-bot-builder ",
]
UNITS = ["ssh", "caddy; reboot", "caddy\n", "--output=/etc/passwd", "-H", "сaddy", "caddy.service/../x", "*"]
PATHS = [
    "/etc/passwd", "/var/www/whatsapp-bot-builder/../../etc/shadow", "/var/www/whatsapp-bot-builder-evil/x",
    "var/www/whatsapp-bot-builder/x", "/var/www/whatsapp-bot-builder/x; rm -rf /",
    "/var/www/whatsapp-bot-builder/$(id)", "/var/www/whatsapp-bot-builder//x", "/var/www/whatsapp-bot-builder/x\n",
    "--output=/etc/x", "/var/www/whatsapp‐bot‐builder/x", "/root/.ssh/authorized_keys",
    "/var/www/whatsapp-bot-builder/frontend/.env > /tmp/x",
]
RAW_ARGV = [
    ["pm2", "restart", "all"], ["pm2", "restart", "whatsapp-bot-builder", "all"], ["pm2", "delete", "x"],
    ["pm2", "kill"], ["pm2", "restart", "0"], ["rm", "-rf", "/var/www/whatsapp-bot-builder"], ["sudo", "pm2", "jlist"],
    ["sh", "-c", "pm2 jlist"], ["bash", "-c", "id"], ["/usr/bin/pm2", "jlist"], ["pm2", "jlist", ">", "/tmp/x"],
    ["pm2", "logs", "whatsapp-bot-builder", "--lines", "200;id"], ["pm2", "logs", "whatsapp-bot-builder", "--lines", "99999"],
    ["caddy", "validate", "--config", "/etc/caddy/Caddyfile", "--output=/etc/passwd"],
    ["caddy", "run"], ["caddy", "validate", "--config", "/etc/../etc/caddy/Caddyfile"],
    ["journalctl", "-u", "caddy", "--since", "-15min;id"], ["journalctl", "--output=/etc/passwd"],
    ["journalctl", "-u", "caddy", "--since", "yesterday", "-f"], ["systemctl", "stop", "caddy"],
    ["systemctl", "status", "caddy", "--output=/etc/x"], ["npm", "run", "postinstall"], ["npm", "exec", "x"],
    ["npm", "install", "--prefix", "/tmp/../etc"], ["git", "-C", "/x", "reset", "--hard"], ["git", "push"],
    ["cp", "-r", "/a", "/b"], ["cp", "/a", "/b", "/c"], ["ss", "-K"], ["nft", "flush", "ruleset"], ["ufw", "disable"],
    ["pm2", "jlist\nreboot"], ["pm2", "ｊlist"], ["cat", "/etc/passwd", "/etc/shadow"], ["tee", "/etc/passwd"],
    ["pm2;id"], ["pm2", "logs", "whatsapp-bot-builder", "--lines=200"], ["stat", "-c", "%n%F", "/x"],
    # caddy_start / systemctl_start / caddy_restore / proc_cmdline
    ["caddy", "start", "--config", "/etc/caddy/Caddyfile", "--adapter", "json"],
    ["caddy", "start", "--config", "/etc/caddy/Caddyfile", "--watch"], ["caddy", "start", "run"],
    ["caddy", "start", "--config", "/etc/caddy/../shadow"], ["caddy", "start", "--pidfile", "/tmp/x"],
    ["caddy", "stop"], ["caddy", "start", "--envfile", "/tmp/x"], ["systemctl", "start", "caddy;id"],
    ["systemctl", "restart", "caddy"], ["systemctl", "start", "--now", "caddy"], ["ls", "-la", "/etc"],
    ["ls", "-1", "/etc/caddy", "/root"], ["ls", "-1", "../etc"], ["ps", "-o", "user=,args=", "-p", "1;id"], ["ps", "-e"], ["ps", "aux"],
    ["ps", "-o", "user=,args=,env", "-p", "1"], ["ps", "-p", "01"],
]
CADDYFILES = [
    "/etc/caddy/Caddyfile.bak", "/etc/caddy/Caddyfile.bak-20250101T120000Z; id", "/etc/caddy/Caddyfile.bak-2025",
    "/etc/caddy/Caddyfile.bak-20250101T120000Z/../../../etc/shadow", "/etc/caddy/Other.bak-20250101T120000Z",
    "/etc/caddy/Caddyfile.bak-20250101T120000Z.json", "/etc/passwd", "/etc/caddy/Caddyfile.bak-20250101T120000Z\n",
    "/tmp/Caddyfile.bak-20250101T120000Z", "/etc/caddy/Caddyfile.orig", "--config=/etc/passwd",
    "/etc/caddy/Caddyfile.bak-20250101T120000Z ", "/etc/caddy/Caddyfile.bak-２0250101T120000Z",
]


@pytest.mark.parametrize("app", APP_NAMES)
def test_only_the_configured_app_can_be_named(app: str) -> None:
    for build in (hc.pm2_restart, hc.pm2_logs):
        with pytest.raises(PolicyViolation):
            build(HOST, app)


@pytest.mark.parametrize("unit", UNITS)
def test_only_configured_units_can_be_named(unit: str) -> None:
    for build in (hc.journalctl, hc.systemctl_status, hc.systemctl_reload):
        with pytest.raises(PolicyViolation):
            build(HOST, unit)


@pytest.mark.parametrize("path", PATHS)
def test_only_paths_in_the_deploy_folder_can_be_named(path: str) -> None:
    with pytest.raises(PolicyViolation):
        hc.copy_file(HOST, path, "/var/www/whatsapp-bot-builder/frontend/x.bak")
    with pytest.raises(PolicyViolation):
        hc.copy_file(HOST, "/var/www/whatsapp-bot-builder/frontend/x", path)
    with pytest.raises(PolicyViolation):
        hc.git_status(HOST, path)


@pytest.mark.parametrize("path", CADDYFILES)
def test_caddy_operations_name_only_the_caddyfile_or_its_backups(path: str) -> None:
    with pytest.raises(PolicyViolation):
        hc.caddy_validate(HOST, path)
    with pytest.raises(PolicyViolation):
        hc.copy_file(HOST, path, "/etc/caddy/Caddyfile")


@pytest.mark.parametrize("unit", [*UNITS, "whatsapp-bot-builder"])
def test_only_caddy_can_be_started(unit: str) -> None:
    with pytest.raises(PolicyViolation):
        hc.systemctl_start(HOST, unit)


@pytest.mark.parametrize("pid", [0, -1, True, 2**40, "1; id", "1"])
def test_ps_takes_a_process_id_only(pid: object) -> None:
    with pytest.raises(PolicyViolation):
        hc.process_owner_and_args(HOST, pid)  # type: ignore[arg-type]


def test_the_caddy_operations_render_exact_argv() -> None:
    assert hc.caddy_start(HOST).argv == ("caddy", "start", "--config", "/etc/caddy/Caddyfile", "--adapter",
                                         "caddyfile")
    assert hc.systemctl_start(HOST).argv == ("systemctl", "start", "caddy")
    backup = "/etc/caddy/Caddyfile.bak-20250101T120000Z"
    assert hc.caddy_validate(HOST, backup).argv[3] == backup and not hc.caddy_validate(HOST, backup).writes
    assert hc.copy_file(HOST, backup, "/etc/caddy/Caddyfile").argv == ("cp", "-p", "--remove-destination", backup, "/etc/caddy/Caddyfile")
    assert hc.caddy_dir_listing(HOST).argv == ("ls", "-1", "/etc/caddy")
    assert hc.process_owner_and_args(HOST, 4242).argv == ("ps", "-o", "user:32=,args=", "-p", "4242")
    assert hc.caddy_start(HOST).writes and hc.systemctl_start(HOST).writes


@pytest.mark.parametrize("argv", RAW_ARGV, ids=lambda a: " ".join(a)[:40])
def test_raw_argv_outside_the_operation_set_is_refused(argv: list[str]) -> None:
    with pytest.raises(PolicyViolation):
        validate_argv(argv)


def test_sudo_rm_and_shell_strings_are_refused() -> None:
    for argv in (["sudo", "rm", "-rf", "/"], "pm2 restart whatsapp-bot-builder", ["rm", "-f", "/tmp/x"]):
        with pytest.raises(PolicyViolation):
            validate_argv(argv)  # type: ignore[arg-type]


def test_the_operation_set_renders_exact_argv() -> None:
    assert hc.pm2_restart(HOST).argv == ("pm2", "restart", "whatsapp-bot-builder", "--update-env")
    assert hc.pm2_logs(HOST, lines=200).argv == ("pm2", "logs", "whatsapp-bot-builder", "--lines", "200", "--nostream")
    assert hc.journalctl(HOST, "caddy", 15).argv[-4:] == ("-u", "caddy", "--since", "-15min")
    assert hc.caddy_validate(HOST).argv == ("caddy", "validate", "--config", "/etc/caddy/Caddyfile", "--adapter",
                                            "caddyfile")
    # where the app runs: PM2's cwd (discovered) or the configured app_dir, else the deploy folder itself
    assert hc.npm_install(HOST).argv[:4] == ("npm", "--prefix", "/var/www/whatsapp-bot-builder", "install")
    # the build needs the devDependencies (TypeScript); they are pruned after it, not before
    assert "--omit=dev" not in hc.npm_install(HOST).argv
    assert hc.npm_prune(HOST).argv == ("npm", "--prefix", "/var/www/whatsapp-bot-builder", "prune", "--omit=dev",
                                       "--no-audit", "--no-fund")
    in_release = replace(HOST, app_dir=PurePosixPath("/var/www/whatsapp-bot-builder/current"))
    assert hc.npm_build(in_release).argv[:3] == ("npm", "--prefix", "/var/www/whatsapp-bot-builder/current")
    with pytest.raises(PolicyViolation, match="outside the deploy folder"):
        hc.npm_build(replace(HOST, app_dir=PurePosixPath("/home/deploy/app")))
    # PM2 commands carry the PM2_HOME of the daemon (configured or discovered); others do not
    elsewhere = replace(HOST, pm2_home=PurePosixPath("/opt/pm2"))
    assert hc.pm2_jlist(elsewhere).env == (("PM2_HOME", "/opt/pm2"),) and hc.pm2_jlist(HOST).env == ()
    assert hc.pm2_restart(elsewhere).display() == "PM2_HOME=/opt/pm2 pm2 restart whatsapp-bot-builder --update-env"
    assert hc.ss_listening(elsewhere).env == ()
    assert hc.build_id_stat(in_release).argv[-1] == "/var/www/whatsapp-bot-builder/current/.next/BUILD_ID"
    assert hc.pm2_restart(HOST).writes and not hc.pm2_jlist(HOST).writes
    assert all(op.target == "hetzner-prod" for op in (hc.pm2_jlist(HOST), hc.ss_listening(HOST)))


@pytest.mark.parametrize("pid", [0, 1, -5, True, 2**22, "123", 12.5])
def test_kill_takes_one_plain_pid_above_1(pid: object) -> None:
    from support_mcp.domain.targets import HostTarget
    from support_mcp.policy import host_commands

    with pytest.raises(PolicyViolation):
        host_commands.kill_pid(HostTarget(name="h", host="127.0.0.1"), pid)  # type: ignore[arg-type]


@pytest.mark.parametrize("argv", [["kill", "-9", "123"], ["kill", "-TERM", "-1"], ["kill", "-TERM", "123", "456"],
                                  ["kill", "-TERM", "%1"], ["kill", "-s", "KILL", "123"], ["kill", "-TERM", "node"]])
def test_kill_outside_the_builder_is_refused(argv: list[str]) -> None:
    from support_mcp.policy.commands import validate_argv

    with pytest.raises(PolicyViolation):
        validate_argv(argv)


@pytest.mark.parametrize("path", PATHS)
def test_the_new_file_operations_name_only_paths_in_the_deploy_folder(path: str) -> None:
    """Listings, stats and the release switch take the same paths as the rest, nothing else."""
    host = replace(HOST, app_dir=Path("/var/www/whatsapp-bot-builder/current"))
    for build in (lambda: hc.folder_listing(host, path), lambda: hc.backup_listing(host, path + "/.env"),
                  lambda: hc.file_stat(host, path), lambda: hc.switch_release(host, path)):
        with pytest.raises(PolicyViolation):
            build()


def test_the_release_switch_links_only_the_app_folder() -> None:
    assert hc.switch_release(replace(HOST, app_dir=Path("/var/www/whatsapp-bot-builder/current")),
                             "/var/www/whatsapp-bot-builder/releases/20261203").argv == (
        "ln", "-sfn", "/var/www/whatsapp-bot-builder/releases/20261203", "/var/www/whatsapp-bot-builder/current")
    with pytest.raises(PolicyViolation, match="app folder"):
        hc.switch_release(HOST, "/var/www/whatsapp-bot-builder/releases/20261203")  # no app folder known
    assert hc.pm2_daemon_log(HOST).argv == ("pm2", "logs", "PM2", "--lines", "200", "--nostream")
    assert hc.caddy_adapt(replace(HOST, caddyfile=Path("/etc/caddy/Caddyfile"))).argv == (
        "caddy", "adapt", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile")
