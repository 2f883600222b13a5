"""The second host lab of the hetzner-ops-agent: a deployment laid out as others lay them out.

Our first lab (`labs.hetzner`) was written with the agent, and the agent learned its shape. This
one is shaped like the Capistrano/Deployer-style deployments found on real hosts, and nothing of it
is told to the agent beyond what a customer's configuration would hold (host, user, app name,
deploy folder, Caddyfile, public URL, health path):

- `/var/www/botbau/releases/<timestamp>/` (two releases), `current → releases/<newest>`,
  `shared/.env.production` linked into each release, logs in `shared/logs/web.{out,err}.log`;
- PM2 started from `shared/ecosystem.config.js` with `cwd` in `current`, two apps (`botbau-web`,
  the configured one, and `botbau-worker`, which no repair may touch), `log_date_format
  'YYYY-MM-DD HH:mm:ss Z'`, `max_memory_restart`, the port in the ecosystem's env only;
- PM2_HOME under `/opt/pm2` and not in the SSH login's environment (a `pm2-<user>` unit would set
  it for the daemon only), so the agent must find the daemon;
- Caddy with a snippet, a `reverse_proxy { to … }` block and a JSON access log; hand-made
  Caddyfile backups named by date (`Caddyfile.bak-2026-12-02`);
- the app validates its environment like @t3-oss/env + zod and answers its health on `/healthz`.

No systemd runs in these containers, so the `pm2-<user>` unit itself cannot exist here; the README
says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from support_mcp.domain.targets import HostTarget
from support_mcp.labs.hetzner import LAB_USER, REPO, TARGET, HetznerLab, wait_until

ALT_SOURCES = REPO / "labs" / "hetzner_alt"
ALT_APP = "botbau-web"
WORKER = "botbau-worker"
RELEASES = ("20261201101500", "20261203090000")  # the newest is current


@dataclass
class HetznerAltLab(HetznerLab):
    app: ClassVar[str] = ALT_APP
    sources: ClassVar[Path] = ALT_SOURCES
    health_path: ClassVar[str] = "/healthz"
    default_env: ClassVar[str] = ("NODE_ENV=production\nAPP_MODE=production\n"
                                  "SUPABASE_URL=https://botbau.supabase.co\nNEXT_PUBLIC_SITE_URL=https://botbau.example\n")

    @property
    def deploy_root(self) -> Path:
        return self.root / "var" / "www" / "botbau"

    @property
    def frontend(self) -> Path:
        """Where the app runs: `current`, a link into releases/."""
        return self.deploy_root / "current"

    @property
    def env_file(self) -> Path:
        return self.deploy_root / "shared" / ".env.production"

    @property
    def pm2_home(self) -> Path:
        return self.root / "opt" / "pm2"

    def release(self, stamp: str) -> Path:
        return self.deploy_root / "releases" / stamp

    def host_target(self) -> HostTarget:
        """What a customer's configuration says: no app port, no PM2_HOME, no app folder."""
        return HostTarget(
            name=TARGET, host="127.0.0.1", port=self.ssh_port, user=LAB_USER,
            key_path=self.root / "client_key", known_hosts_path=self.root / "known_hosts", app=self.app,
            units=(self.app, "caddy"), deploy_root=self.deploy_root, public_url=self.public_url,
            caddyfile=self.caddyfile, health_path=self.health_path,
        )

    def _lay_out(self) -> Path:
        shared = self.deploy_root / "shared"
        (shared / "logs").mkdir(parents=True, exist_ok=True)
        self.pm2_home.mkdir(parents=True, exist_ok=True)
        for stamp in RELEASES:
            release = self.release(stamp)
            shutil.copytree(self.sources / "app", release, dirs_exist_ok=True)
            os.symlink("../../shared/.env.production", release / ".env.production")
        os.symlink(f"releases/{RELEASES[-1]}", self.frontend)
        self.env_file.write_text(self.env_content())
        self._fill(self.sources / "ecosystem.config.js.template", shared / "ecosystem.config.js")
        return shared / "ecosystem.config.js"

    def _build(self) -> None:
        for stamp in RELEASES:  # `next build` ran in each release when it was deployed
            self.as_user(["npm", "--prefix", str(self.release(stamp)), "run", "build"])
        old = time.time() - 2 * 86400
        build_id = self.release(RELEASES[0]) / ".next" / "BUILD_ID"
        os.utime(build_id, (old, old))

    def _broken_caddyfile(self, good: str) -> str:
        return good.replace("lb_try_duration 2s", "lb_try_duration two-seconds")

    def _upstream(self) -> str:
        return f"to 127.0.0.1:{self.app_port}"

    def caddy_backup_name(self) -> str:
        """Backups made by hand are named by date."""
        return f"{self.caddyfile.name}.bak-{time.strftime('%Y-%m-%d', time.gmtime(time.time() - 86400))}"

    FAILED_RELEASE: ClassVar[str] = "20261204080000"

    def inject_failed_build(self) -> None:
        """A deploy that made a new release, linked `current` to it and restarted, while its
        `next build` failed: the release has no `.next`; the one before it still has its build."""
        release = self.release(self.FAILED_RELEASE)
        shutil.copytree(self.sources / "app", release, dirs_exist_ok=True)
        os.symlink("../../shared/.env.production", release / ".env.production")
        subprocess.run(["chown", "-R", f"{LAB_USER}:{LAB_USER}", str(release)], check=True)
        self.frontend.unlink()
        os.symlink(f"releases/{self.FAILED_RELEASE}", self.frontend)
        self.as_user(["pm2", "restart", self.app])
        wait_until(lambda: self.http_status() == 500, "the app answering 500 without a build")

    def _heal_build(self) -> None:
        """`current` back on the newest good release, the failed one gone."""
        if os.readlink(self.frontend) != f"releases/{RELEASES[-1]}":
            self.frontend.unlink()
            os.symlink(f"releases/{RELEASES[-1]}", self.frontend)
        shutil.rmtree(self.release(self.FAILED_RELEASE), ignore_errors=True)

    def worker_restarts(self) -> int:
        return int(self.pm2_states()[WORKER]["restart_time"])
