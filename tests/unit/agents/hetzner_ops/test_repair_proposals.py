"""Which repair the hetzner-ops findings call for (the runner drafts every repair that proposes):
one repair per cause, and none that cannot help (a restart onto no build, into a memory leak, or a
reload of a Caddyfile whose upstream is wrong)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support_mcp.agents.hetzner_ops.file_repairs import hetzner_repairs
from support_mcp.domain.models import CheckStatus, Finding
from support_mcp.domain.targets import HostTarget

HOST = HostTarget(name="web", host="203.0.113.7", user="deploy", deploy_root=Path("/var/www/app"),
                  caddyfile=Path("/etc/caddy/Caddyfile"), app_dir=Path("/var/www/app/current"))


def f(check: str, status: str = "fail", **data: Any) -> Finding:
    return Finding(check=check, status=CheckStatus(status), title=check, data=data)


def proposed(*findings: Finding) -> dict[str, dict[str, Any]]:
    return {r.name: params for r in hetzner_repairs(HOST) if (params := r.proposes(list(findings))) is not None}


def test_a_variable_the_env_file_lost_is_restored_from_its_backup_and_nothing_restarts_alone() -> None:
    restore = [{"key": "SUPABASE_URL", "path": "/var/www/app/current/.env.production",
                "real": "/var/www/app/shared/.env.production", "backup": "/var/www/app/shared/.env.production.bak-2026-12-02",
                "state": "empty"}]
    found = proposed(f("pm2_status", restart_loop=True), f("pm2_logs", "warn", env_restore=restore, env_changed=True))
    assert found == {"config_fix": {"path": "/var/www/app/current/.env.production",
                                    "set_from": {"SUPABASE_URL": "/var/www/app/shared/.env.production.bak-2026-12-02"}}}


def test_no_build_with_a_previous_release_rolls_back_and_never_restarts() -> None:
    release = {"link": "/var/www/app/current", "current": "/var/www/app/releases/3", "path": "/var/www/app/releases/2",
               "build_stat": "1764800000 20 /var/www/app/releases/2/.next/BUILD_ID"}
    found = proposed(f("pm2_status"), f("deploy_age", missing=True, previous_release=release))
    assert found == {"rollback": {"release": "/var/www/app/releases/2", "from": "/var/www/app/releases/3"}}
    assert proposed(f("pm2_status"), f("deploy_age", missing=True)) == {"deploy": {"reason": "missing"}}


def test_a_memory_loop_proposes_nothing() -> None:
    assert proposed(f("pm2_status", memory_loop=True, memory_restarts=4)) == {}


def test_a_wrong_upstream_is_rewritten_not_reloaded() -> None:
    found = proposed(f("port_3000", "ok"), f("caddy_status", "ok", valid=True), f("http_smoke", proxy_error=True),
                     f("caddy_upstream", mismatch=True, dials=["127.0.0.1:3999"], app_port=3000))
    assert found == {"caddy_upstream": {"dials": ["127.0.0.1:3999"], "port": 3000}}


def test_caddy_down_with_an_invalid_caddyfile_restores_and_starts() -> None:
    found = proposed(f("http_smoke", caddy_down=True),
                     f("caddy_status", valid=False, last_valid_backup="/etc/caddy/Caddyfile.bak-2026-12-02"))
    assert found == {"caddy_restore": {"backup": "/etc/caddy/Caddyfile.bak-2026-12-02", "start": True}}
