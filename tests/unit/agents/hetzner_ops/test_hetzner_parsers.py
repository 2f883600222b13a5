"""Parsers of the hetzner-ops commands on recorded real output (tests/fixtures/hetzner_ops)."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest

from support_mcp.agents.hetzner_ops import parsers as p
from support_mcp.agents.hetzner_ops.parsers import (
    error_lines,
    parse_build_id,
    parse_caddy_validate,
    parse_journalctl,
    parse_nft_ruleset,
    parse_pm2_jlist,
    parse_pm2_logs,
    parse_ss,
    parse_stat,
    parse_systemctl_status,
    parse_ufw_status,
    systemd_missing,
)
from support_mcp.domain.errors import InvalidInput

FIXTURES = Path(__file__).resolve().parents[4] / "tests" / "fixtures" / "hetzner_ops"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_pm2_jlist_online_app_has_pid_port_and_no_restarts() -> None:
    [app] = parse_pm2_jlist(fixture("pm2_jlist_online.json"))
    assert app.name == "whatsapp-bot-builder" and app.status == "online"
    assert app.pid > 0 and app.port is not None and app.started_at is not None
    assert app.err_log is not None and app.err_log.endswith("-error.log")


def test_pm2_jlist_errored_app_shows_restarts_and_exit_code() -> None:
    [app] = parse_pm2_jlist(fixture("pm2_jlist_errored.json"))
    assert app.status == "errored" and app.pid == 0 and app.restarts >= 3 and app.exit_code == 1


def test_pm2_jlist_stopped_app() -> None:
    [app] = parse_pm2_jlist(fixture("pm2_jlist_stopped.json"))
    assert app.status == "stopped" and app.pid == 0


def test_pm2_jlist_skips_daemon_notices_before_the_json() -> None:
    text = "[PM2] Spawning PM2 daemon with pm2_home=/home/deploy/.pm2\n[PM2] PM2 Successfully daemonized\n[]"
    # "[PM2] ..." lines start with "[" but are not JSON: the parser must not take them for the array.
    with pytest.raises(InvalidInput):
        parse_pm2_jlist("not json at all")
    assert parse_pm2_jlist("[]") == []
    assert parse_pm2_jlist(text.replace("[PM2]", "PM2:")) == []


def test_pm2_logs_crash_error_line_has_timestamp_and_message() -> None:
    lines = parse_pm2_logs(fixture("pm2_logs_crash.txt"))
    errors = error_lines(lines)
    assert errors, "the crash's error line is found"
    last = errors[-1]
    assert last.stream == "err" and last.timestamp is not None
    assert last.message.startswith("Error: invalid configuration APP_MODE=crash")
    assert all(not e.message.lstrip().startswith("at ") for e in errors)


def test_pm2_logs_eaddrinuse_is_an_error_line() -> None:
    errors = error_lines(parse_pm2_logs(fixture("pm2_logs_eaddrinuse.txt")))
    assert any("EADDRINUSE" in e.message for e in errors)


def test_pm2_logs_online_has_no_errors() -> None:
    lines = parse_pm2_logs(fixture("pm2_logs_online.txt"))
    assert lines and not error_lines(lines)
    assert lines[0].stream == "out" and "listening on" in lines[0].message


def test_pm2_logs_refuses_output_without_headers() -> None:
    with pytest.raises(InvalidInput):
        parse_pm2_logs("[PM2][ERROR] App whatsapp-bot-builder not found\n")


def test_journalctl_short_iso_lines_and_markers() -> None:
    entries = parse_journalctl(fixture("journalctl_app_short_iso.txt"))
    assert len(entries) == 6 and entries[0].timestamp is not None
    assert any("ECONNREFUSED" in e.message for e in error_lines(entries))
    caddy = parse_journalctl(fixture("journalctl_caddy_short_iso.txt"))
    assert len(caddy) == 2 and caddy[0].stream == "caddy"
    # stdout of the recorded run; its stderr line says why (systemd_missing below)
    assert parse_journalctl(fixture("journalctl_no_journal.txt").splitlines()[0]) == []


def test_systemd_missing_is_recognised_from_real_output() -> None:
    assert systemd_missing(fixture("systemctl_status_no_systemd.txt")).startswith("System has not been booted")
    assert systemd_missing(fixture("journalctl_no_journal.txt")) == "No journal files were found."
    assert systemd_missing(fixture("systemctl_status_caddy_active.txt")) is None


def test_systemctl_status_active_and_failed() -> None:
    active = parse_systemctl_status(fixture("systemctl_status_caddy_active.txt"))
    assert (active.unit, active.active, active.sub, active.main_pid) == ("caddy.service", "active", "running", 812)
    assert len(active.log_lines) == 2 and "connection refused" in active.log_lines[0]
    failed = parse_systemctl_status(fixture("systemctl_status_caddy_failed.txt"))
    assert failed.active == "failed" and "reverse_prxy" in failed.log_lines[0]
    with pytest.raises(InvalidInput):
        parse_systemctl_status(fixture("systemctl_status_no_systemd.txt"))


def test_ss_shows_app_port_with_pm2_pid_and_free_port_when_down() -> None:
    [app] = parse_pm2_jlist(fixture("pm2_jlist_online.json"))
    listeners = parse_ss(fixture("ss_tulpen_online.txt"))
    on_port = [s for s in listeners if s.port == int(app.port or 0)]
    assert [s.pid for s in on_port] == [app.pid]
    assert not [s for s in parse_ss(fixture("ss_tulpen_app_down.txt")) if s.port == int(app.port or 0)]


def test_ss_port_conflict_holder_is_not_the_pm2_process() -> None:
    [app] = parse_pm2_jlist(fixture("pm2_jlist_online.json"))
    [holder] = [s for s in parse_ss(fixture("ss_tulpen_port_conflict.txt")) if s.port == int(app.port or 0)]
    assert holder.process == "node" and holder.pid not in (None, app.pid)


def test_caddy_validate_ok_and_invalid() -> None:
    assert parse_caddy_validate(fixture("caddy_validate_ok.txt"), 0).valid
    invalid = parse_caddy_validate(fixture("caddy_validate_invalid.txt"), 1)
    assert not invalid.valid and invalid.error and "unrecognized directive: reverse_prxy" in invalid.error


def test_firewall_rules_naming_the_port() -> None:
    ufw = parse_ufw_status(fixture("ufw_status_verbose.txt"), 3000)
    assert ufw.active and ufw.default_incoming == "deny" and ufw.rules_for_port == ("3000/tcp                   DENY IN     Anywhere",)
    nft = parse_nft_ruleset(fixture("nft_ruleset_inet_filter.txt"), 3000)
    assert nft.active and nft.default_incoming == "drop" and nft.rules_for_port == ("tcp dport 3000 drop",)
    assert parse_nft_ruleset(fixture("nft_ruleset_inet_filter.txt"), 443).rules_for_port == ("tcp dport { 80, 443 } accept",)
    assert not parse_nft_ruleset(fixture("nft_ruleset_empty.txt"), 3000).active


def test_stat_and_build_id() -> None:
    st = parse_stat("1741962031 20 /var/www/whatsapp-bot-builder/frontend/.next/BUILD_ID\n")
    assert st.modified_at.year == 2025 and st.size == 20 and st.path.endswith("BUILD_ID")
    assert parse_build_id("kq3vXw_1-AbC\n") == "kq3vXw_1-AbC"
    with pytest.raises(InvalidInput):
        parse_build_id("../../etc/passwd")
    with pytest.raises(InvalidInput):
        parse_stat("stat: cannot statx '/x': No such file or directory")


def test_caddy_backups_newest_first_only_timestamped_copies_of_the_caddyfile() -> None:
    listing = ("Caddyfile\nCaddyfile.bak-20250101T120000Z\nCaddyfile.bak-20250301T080000Z\nCaddyfile.bak\n"
               "Caddyfile.bak-2025\nOther.bak-20250401T000000Z\nCaddyfile.bak-20250201T000000Z.orig\n")
    assert p.file_backups(listing, "/etc/caddy/Caddyfile") == [
        "/etc/caddy/Caddyfile.bak-20250301T080000Z", "/etc/caddy/Caddyfile.bak-20250101T120000Z"]


def test_ps_user_args_splits_the_user_from_the_command_line() -> None:
    info = p.parse_ps_user_args("smcp-he+ node /var/www/app/frontend/server.js\n")
    assert (info.user, info.args) == ("smcp-he+", "node /var/www/app/frontend/server.js")
    with pytest.raises(InvalidInput):
        p.parse_ps_user_args("")


def test_pm2_jlist_of_a_release_layout_says_where_each_app_runs() -> None:
    """Recorded from PM2 5 started with an ecosystem file: two apps with `cwd` in `current`
    (a link to releases/<ts>), logs under shared/logs, PM2_HOME elsewhere than ~/.pm2."""
    web, worker = parse_pm2_jlist(fixture("pm2_jlist_release_layout.json"))
    assert (web.name, worker.name) == ("botbau-web", "botbau-worker")
    assert web.cwd == "/srv/botbau/app/current" and web.script == "/srv/botbau/app/current/server.js"
    assert web.out_log == "/srv/botbau/app/shared/logs/web.out.log" and web.port == "3111"
    assert web.pm2_home == "/srv/botbau/pm2home" and web.max_memory_restart == 300 * 1024 * 1024
    assert web.log_date_format == "YYYY-MM-DD HH:mm:ss Z"
    assert "/srv/botbau/app/current/.env.production" in web.env_file_candidates()
    assert worker.port is None and worker.max_memory_restart is None and worker.log_date_format is None


def test_pm2_jlist_of_our_lab_layout_parses_the_same_fields() -> None:
    [app] = parse_pm2_jlist(fixture("pm2_jlist_online.json"))
    assert app.cwd and app.script and app.script.startswith(app.cwd)
    assert app.env_file_candidates()[2].endswith("/.env.production")


# --- the second host lab's shapes (recorded by record_alt.py) ------------------------------------


def test_pm2_daemons_are_found_by_their_rpc_socket_with_the_full_pm2_home() -> None:
    # recorded with two labs up: two daemons of one user, neither in ~/.pm2
    daemons = p.pm2_daemons(fixture("ss_xlp_alt.txt"))
    assert [d.home for d in daemons][0] == "/srv/lab/opt/pm2" and len(daemons) == 2
    assert all(d.name.startswith("PM2 v5") and d.pid > 0 for d in daemons)
    # the pub.sock of the same daemon, postgres and mysqld sockets are no daemons
    assert p.pm2_daemons(fixture("ss_tulpen_online.txt")) == []
    # a process that merely calls its socket rpc.sock is no PM2 daemon
    other = 'u_str LISTEN 0 5 /tmp/x/rpc.sock 1 * 0 users:(("node",pid=7,fd=3))'
    assert p.pm2_daemons(other) == []


def test_pm2_logs_with_the_ecosystems_own_file_names_and_date_format() -> None:
    jlist = {x.name: x for x in p.parse_pm2_jlist(fixture("pm2_jlist_release_layout.json"))}
    assert jlist["botbau-web"].log_date_format == "YYYY-MM-DD HH:mm:ss Z"
    lines = p.parse_pm2_logs(fixture("pm2_logs_alt_crash.txt"),
                             err_logs=frozenset({"/srv/lab/var/www/botbau/shared/logs/web.err.log"}))
    errors = p.error_lines(lines)
    assert {ln.stream for ln in errors} == {"err"}  # `web.err.log` is the error log, `web.out.log` not
    assert errors[-1].message == "Error: Invalid environment variables"
    assert errors[-1].timestamp is not None and errors[-1].timestamp.tzinfo is not None
    assert not any(ln.message.lstrip().startswith("at ") for ln in errors)  # stack frames are no error lines
    # without jlist's paths the file's name says it
    assert {ln.stream for ln in p.error_lines(p.parse_pm2_logs(fixture("pm2_logs_alt_crash.txt")))} == {"err"}
    online = p.parse_pm2_logs(fixture("pm2_logs_alt_online.txt"))
    assert online and p.error_lines(online) == [] and all(ln.timestamp for ln in online)


@pytest.mark.parametrize(("prefix", "iso"), [
    ("2026-12-03 10:15:00 +01:00", "2026-12-03T09:15:00+00:00"),
    ("2026-12-03 10:15:00 +0100", "2026-12-03T09:15:00+00:00"),
    ("2026-12-03 10:15:00", "2026-12-03T10:15:00+00:00"),  # no zone: taken as UTC
    ("2026-12-03T10:15:00.123Z", "2026-12-03T10:15:00.123000+00:00"),
    ("2026-12-03 10:15:00,123 Z", "2026-12-03T10:15:00.123000+00:00"),
])
def test_pm2_date_formats_real_ecosystems_set(prefix: str, iso: str) -> None:
    text = f"/x/app-out.log last 1 lines:\n0|app | {prefix}: hello\n"
    [line] = p.parse_pm2_logs(text)
    assert line.timestamp is not None and line.timestamp.astimezone(UTC).isoformat() == iso
    assert line.message == "hello"


@pytest.mark.parametrize("message", ["Environments loaded: production", "Every job scheduled", "ENVIRONMENT ok"])
def test_words_starting_with_e_are_no_error_codes(message: str) -> None:
    text = f"/x/app-out.log last 1 lines:\n0|app | {message}\n"
    assert p.error_lines(p.parse_pm2_logs(text)) == []


def test_errno_codes_stay_error_words() -> None:
    lines = p.parse_pm2_logs(fixture("pm2_logs_alt_eaddrinuse.txt"))
    assert any("EADDRINUSE" in ln.message for ln in p.error_lines(lines))


def test_env_problems_in_the_shapes_apps_print_them() -> None:
    crash = p.parse_pm2_logs(fixture("pm2_logs_alt_crash.txt"))
    [t3] = p.env_problems([ln.message for ln in crash])
    assert (t3.key, t3.got, t3.allowed, t3.path) == ("APP_MODE", "crash", ("production", "staging"), None)
    ours = p.parse_pm2_logs(fixture("pm2_logs_crash.txt"))
    [lab] = p.env_problems([ln.message for ln in ours])
    assert lab.key == "APP_MODE" and lab.allowed == ("production",) and lab.path and lab.path.endswith(".env.production")
    envalid = ["================================", " Invalid environment variables:",
               '    APP_MODE: Value "crash" not in choices [production,staging]',
               "    DATABASE_URL: Missing required value", "================================"]
    found = {x.key: x for x in p.env_problems(envalid)}
    assert found["APP_MODE"].allowed == ("production", "staging") and found["APP_MODE"].got == "crash"
    assert found["DATABASE_URL"].allowed == () and found["DATABASE_URL"].got is None
    zod_missing = ["❌ Invalid environment variables: { SUPABASE_URL: [ 'Required' ] }"]
    assert [x.key for x in p.env_problems(zod_missing)] == ["SUPABASE_URL"]
    assert p.env_problems(["Error: supabaseUrl is required.", "listening on 3000", "PORT=3000 ok"]) == []


def test_backups_named_by_date_are_backups_and_sorted_by_time() -> None:
    listing = "\n".join(["Caddyfile", "Caddyfile.bak-2026-12-02", "Caddyfile.bak-20261203T080000Z",
                         "Caddyfile.backup-2026-11-30_1200", "Caddyfile.bak.20261201", "Caddyfile.old",
                         "Caddyfile.bak-latest", "Caddyfile.orig"])
    assert p.file_backups(listing, "/etc/caddy/Caddyfile") == [
        "/etc/caddy/Caddyfile.bak-20261203T080000Z", "/etc/caddy/Caddyfile.bak-2026-12-02",
        "/etc/caddy/Caddyfile.bak.20261201", "/etc/caddy/Caddyfile.backup-2026-11-30_1200"]


# --- caddy adapt: recorded from caddy 2.6.2 on the Caddyfiles beside each JSON (caddy_adapt/) ----

def _adapted(name: str) -> list[tuple[str, int | None, tuple[str, ...], tuple[str, ...]]]:
    from support_mcp.agents.hetzner_ops.parsers import parse_caddy_adapt

    return [(u.dial, u.port, u.hosts, u.paths) for u in parse_caddy_adapt(fixture(f"caddy_adapt/{name}.json"))]


def test_caddy_adapt_upstreams_of_five_caddyfile_shapes() -> None:
    assert _adapted("simple") == [("localhost:3000", 3000, ("example.com",), ())]
    assert _adapted("matchers") == [("127.0.0.1:4000", 4000, (), ("/api/*",)),
                                    ("127.0.0.1:3000", 3000, (), ()), ("127.0.0.1:3001", 3001, (), ())]
    # a snippet imported into a site with two names, upstream in a `to` line of a block
    assert _adapted("snippet") == [("localhost:3107", 3107, ("bot.example.com", "www.bot.example.com"), ())]
    # `handle` blocks become subroutes; `http://` is dropped by Caddy itself
    assert _adapted("handle") == [("localhost:4000", 4000, (), ("/api/*",)), ("localhost:3000", 3000, (), ())]


def test_caddy_adapt_unix_socket_upstream_has_no_port() -> None:
    from support_mcp.agents.hetzner_ops.parsers import parse_caddy_adapt

    [upstream] = parse_caddy_adapt(fixture("caddy_adapt/unix.json"))
    assert upstream.socket == "/run/app/app.sock" and upstream.port is None


def test_caddy_adapt_error_output_is_refused() -> None:
    from support_mcp.agents.hetzner_ops.parsers import parse_caddy_adapt

    with pytest.raises(InvalidInput, match="unparseable caddy adapt"):
        parse_caddy_adapt("Error: Caddyfile:2 - Error during parsing: Unexpected EOF")
    assert parse_caddy_adapt('{"apps": {}}') == []
