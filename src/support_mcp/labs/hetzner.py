"""The hetzner-ops lab: a real host on this machine, shared by the demo, the tests and the benchmark.

sshd (Debian's openssh-server) on a free loopback port with a generated host key and one
key-only user, PM2 with its own PM2_HOME running the small Node.js app `whatsapp-bot-builder`,
and Caddy as reverse proxy in front of it, all under one temporary folder. Everything runs as
the lab user; the caller (root) injects faults and stops all it started. Install the programs
with `scripts/labs/hetzner`; the app and the templates live in the repository's `labs/hetzner/`.
"""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx

from support_mcp.domain.errors import ExecutionError, SupportMCPError
from support_mcp.domain.targets import HostTarget
from support_mcp.executors.ssh import SSHExecutor, SSHSettings

REPO = Path(__file__).resolve().parents[3]
LAB_SOURCES = REPO / "labs" / "hetzner"
SETUP_SCRIPT = "scripts/labs/hetzner"
LAB_USER = "smcp-hetzner"
APP = "whatsapp-bot-builder"
TARGET = "hetzner-lab"
SSHD = Path("/usr/sbin/sshd")
PROGRAMS = ("ssh-keygen", "caddy", "pm2", "node", "npm", "useradd")
_ASSETS = ("app/server.js", "app/build.js", "ecosystem.config.js.template", "Caddyfile.template",
           "sshd_config.template")
_DEADLINE_S = 20.0
# Labs share the system user LAB_USER, so one machine runs one lab at a time: start_lab takes this
# lock and stop releases it (a process that holds it may start another lab; the kernel drops it
# with the process).
LOCK_PATH = Path("/tmp/smcp-hetzner.lock")
LOCK_WAIT_S = 1800.0
_lock_fd: int | None = None
_lock_users = 0


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range: a port the kernel hands out
    (bind to 0) can be handed out again to any outgoing connection before the lab's Caddy binds
    it (seen: Caddy's admin port taken, "address already in use", a whole lab module lost)."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    top = max(low, 11000)
    for _ in range(200):
        port = random.randrange(10000, top)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # a crowded range: fall back to what the kernel gives
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = _DEADLINE_S) -> None:
    """Poll `predicate` until it holds or raise ExecutionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise ExecutionError(f"lab: {what} not reached within {timeout:.0f} s")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def check_prerequisites() -> None:
    """Raise ExecutionError naming what is missing: root, the lab's assets or its programs."""
    missing_assets = [a for a in _ASSETS if not (LAB_SOURCES / a).is_file()]
    if missing_assets:
        raise ExecutionError(f"hetzner lab: assets missing under {LAB_SOURCES} ({', '.join(missing_assets)}); "
                             "the lab runs from a checkout of the repository")
    missing = [p for p in PROGRAMS if shutil.which(p) is None] + ([str(SSHD)] if not SSHD.is_file() else [])
    if missing:
        raise ExecutionError(f"hetzner lab: programs missing ({', '.join(missing)}); install them with "
                             f"`{SETUP_SCRIPT}` (as root)")
    if os.geteuid() != 0:
        # sshd, the lab user and the privilege drop to it need root
        raise ExecutionError(f"hetzner lab: needs root (sshd, lab user {LAB_USER}); run `{SETUP_SCRIPT}` "
                             "and the demo as root")


def ensure_user() -> pwd.struct_passwd:
    """The lab user (created once): a login shell, no password (`*` is not `locked` for sshd)."""
    try:
        return pwd.getpwnam(LAB_USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", LAB_USER], check=True)
        subprocess.run(["usermod", "-p", "*", LAB_USER], check=True)
        return pwd.getpwnam(LAB_USER)


@dataclass
class HetznerLab:
    """Our first host lab (`labs/hetzner/`); `labs.hetzner_alt.HetznerAltLab` lays a deployment
    out as others do and overrides the layout and the few faults whose shape differs."""

    app: ClassVar[str] = APP
    sources: ClassVar[Path] = LAB_SOURCES
    health_path: ClassVar[str] = "/api/health"
    default_env: ClassVar[str] = "APP_MODE=production\n"
    root: Path
    ssh_port: int = field(default_factory=free_port)
    app_port: int = field(default_factory=free_port)
    public_port: int = field(default_factory=free_port)
    admin_port: int = field(default_factory=free_port)
    _procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ecosystem: Path | None = None  # the ecosystem file PM2 was started from (set by start)
    holds_lock: bool = False  # started by start_lab, which took the machine's lab lock for it

    # --- layout ---------------------------------------------------------------------------------
    @property
    def deploy_root(self) -> Path:
        return self.root / "var" / "www" / self.app

    @property
    def env_file(self) -> Path:
        return self.frontend / ".env.production"

    @property
    def frontend(self) -> Path:
        return self.deploy_root / "frontend"

    @property
    def caddyfile(self) -> Path:
        return self.root / "etc" / "caddy" / "Caddyfile"

    @property
    def pm2_home(self) -> Path:
        return self.root / "pm2"

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}/"

    def host_target(self) -> HostTarget:
        return HostTarget(
            name=TARGET, host="127.0.0.1", port=self.ssh_port, user=LAB_USER,
            key_path=self.root / "client_key", known_hosts_path=self.root / "known_hosts", app=self.app,
            app_port=self.app_port, units=(self.app, "caddy"), deploy_root=self.deploy_root,
            public_url=self.public_url, caddyfile=self.caddyfile, health_path=self.health_path,
        )

    def executor(self) -> SSHExecutor:
        t = self.host_target()
        return SSHExecutor(TARGET, SSHSettings(host=t.host, port=t.port, user=t.user, key_path=t.key_path,
                                               known_hosts=t.known_hosts_path))

    # --- start / stop ---------------------------------------------------------------------------
    def start(self) -> None:
        check_prerequisites()
        user = ensure_user()
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        for sub in ("xdg-data", "xdg-config", "logs", "pm2"):
            (self.root / sub).mkdir(exist_ok=True)
        self.caddyfile.parent.mkdir(parents=True, exist_ok=True)
        ecosystem = self._lay_out()
        self._fill(self._template("Caddyfile.template"), self.caddyfile)
        subprocess.run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}", str(self.root)], check=True)
        self._build()
        self._start_sshd()
        self.start_caddy()
        self.ecosystem = ecosystem
        self.as_user(["pm2", "start", str(ecosystem)])
        wait_until(self.app_healthy, "app answering 200 through Caddy")

    def env_content(self) -> str:
        """The healthy env file of the app (`default_env`; a lab whose env holds settings of its
        own start adds them)."""
        return self.default_env

    def _lay_out(self) -> Path:
        """The deploy folder with the app, its env file and the ecosystem file (returned)."""
        shutil.copytree(self.sources / "app", self.frontend, dirs_exist_ok=True)
        self._fill(self.sources / "ecosystem.config.js.template", self.deploy_root / "ecosystem.config.js")
        self.env_file.write_text(self.env_content())
        return self.deploy_root / "ecosystem.config.js"

    def _build(self) -> None:
        self.rebuild()

    def stop(self) -> None:
        """Stop everything the lab started and remove its folder; safe after a failed start."""
        try:
            self.as_user(["pm2", "kill"], check=False)
            default = Path(pwd.getpwnam(LAB_USER).pw_dir) / ".pm2"
            if (default / "rpc.sock").exists():  # a daemon a login without PM2_HOME started
                self.as_user(["pm2", "kill"], check=False, pm2_home=default)
        except (KeyError, OSError, subprocess.SubprocessError):
            pass  # no lab user or no pm2 yet: nothing of PM2 to stop
        for name in list(self._procs):
            self._stop_proc(name)
        shutil.rmtree(self.root, ignore_errors=True)
        if self.holds_lock:
            self.holds_lock = False
            _release_machine_lock()

    def log_tails(self, chars: int = 3000) -> str:
        """The end of each lab log (sshd, caddy, …) for a diagnosis after a failed start."""
        logs = self.root / "logs"
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-chars:]}"
                         for log in (sorted(logs.glob("*.log")) if logs.exists() else ()))

    def _template(self, name: str) -> Path:
        """The lab's own template, or ours where it has none (a lab that differs only in its app)."""
        own = self.sources / name
        return own if own.is_file() else LAB_SOURCES / name

    def _placeholders(self) -> dict[str, str]:
        return {"@APP@": self.app, "@DEPLOY@": str(self.deploy_root), "@FRONTEND@": str(self.frontend),
                "@APP_PORT@": str(self.app_port), "@ADMIN_PORT@": str(self.admin_port),
                "@PUBLIC_PORT@": str(self.public_port), "@LOG_DIR@": str(self.root / "logs"),
                "@PORT@": str(self.ssh_port), "@DIR@": str(self.root), "@USER@": LAB_USER,
                "@PM2_HOME@": str(self.pm2_home)}

    def _fill(self, template: Path, dest: Path) -> None:
        content = template.read_text()
        for key, value in self._placeholders().items():
            content = content.replace(key, value)
        dest.write_text(content)

    def _start_sshd(self) -> None:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.root / "ssh_host_ed25519_key")],
                       check=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.root / "client_key")],
                       check=True)
        shutil.copy(self.root / "client_key.pub", self.root / "authorized_keys")
        host_pub = (self.root / "ssh_host_ed25519_key.pub").read_text().split()
        (self.root / "known_hosts").write_text(f"[127.0.0.1]:{self.ssh_port} {host_pub[0]} {host_pub[1]}\n")
        self._fill(self._template("sshd_config.template"), self.root / "sshd_config")
        Path("/run/sshd").mkdir(exist_ok=True)
        self._procs["sshd"] = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(self.root / "sshd_config")],
            stdout=subprocess.DEVNULL, stderr=open(self.root / "logs" / "sshd.log", "ab"),  # noqa: SIM115
        )
        wait_until(lambda: _port_open(self.ssh_port), "sshd listening")

    def start_caddy(self) -> None:
        self._procs["caddy"] = self._spawn_as_user(
            ["caddy", "run", "--config", str(self.caddyfile), "--adapter", "caddyfile"], "caddy.log")
        wait_until(lambda: _port_open(self.public_port), "Caddy listening")

    def _stop_proc(self, name: str) -> None:
        proc = self._procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    # --- running things as the lab user ---------------------------------------------------------
    def _env(self) -> dict[str, str]:
        user = pwd.getpwnam(LAB_USER)
        return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": user.pw_dir, "LANG": "C.UTF-8",
                "PM2_HOME": str(self.pm2_home), "XDG_DATA_HOME": str(self.root / "xdg-data"),
                "XDG_CONFIG_HOME": str(self.root / "xdg-config"),
                # PM2 compares memory with max_memory_restart every 30 s; the lab's daemon every 2 s
                "PM2_WORKER_INTERVAL": "2000"}

    def _spawn_as_user(self, argv: Sequence[str], log: str) -> subprocess.Popen[bytes]:
        user = pwd.getpwnam(LAB_USER)
        return subprocess.Popen(list(argv), user=user.pw_uid, group=user.pw_gid, extra_groups=[],
                                env={**self._env(), **({"LAB_ROLE": "squatter", "PORT": str(self.app_port)}
                                                       if log == "squatter.log" else {})},
                                cwd=str(self.root), stdout=subprocess.DEVNULL,
                                stderr=open(self.root / "logs" / log, "ab"))  # noqa: SIM115

    def as_user(self, argv: Sequence[str], check: bool = True, pm2_home: Path | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
        user = pwd.getpwnam(LAB_USER)
        env = self._env() | ({"PM2_HOME": str(pm2_home)} if pm2_home else {})
        return subprocess.run(list(argv), user=user.pw_uid, group=user.pw_gid, extra_groups=[], env=env,
                              cwd=str(self.root), capture_output=True, text=True, check=check, timeout=timeout)

    def rebuild(self) -> None:
        """`npm run build` of the app (a new `.next/BUILD_ID`), as a deploy does."""
        self.as_user(["npm", "--prefix", str(self.frontend), "run", "build"])

    def pm2_state(self) -> dict[str, object]:
        return self.pm2_states().get(self.app, {})

    def pm2_daemon_homes(self) -> list[str]:
        """PM2_HOME of every PM2 daemon of the lab user that belongs to this lab or sits in the
        user's default ~/.pm2 (one a bare `pm2` in a login without PM2_HOME would have started)."""
        out = self.as_user(["ss", "-xlp"]).stdout
        default = str(Path(pwd.getpwnam(LAB_USER).pw_dir) / ".pm2")
        homes = {m.group(1) for m in re.finditer(r"(/\S+)/rpc\.sock\s", out)}
        return sorted(h for h in homes if h == default or h.startswith(str(self.root) + "/"))

    def pm2_states(self) -> dict[str, dict[str, Any]]:
        """`pm2_env` of every PM2 app of the lab, by name."""
        out = self.as_user(["pm2", "jlist"]).stdout
        return {a["name"]: a["pm2_env"] for a in json.loads(out[out.index("["):])}

    def http_status(self) -> int | None:
        try:
            return httpx.get(self.public_url, timeout=3.0).status_code
        except httpx.HTTPError:
            return None

    def app_healthy(self) -> bool:
        return self.http_status() == 200

    # --- faults ---------------------------------------------------------------------------------
    def write_env(self, content: str) -> None:
        self.env_file.write_text(content)
        shutil.chown(self.env_file, LAB_USER, LAB_USER)

    def inject_crash_loop(self) -> None:
        """Invalid configuration: the app throws on start; PM2 restarts it until `errored`."""
        self.write_env(self.env_content().replace("APP_MODE=production", "APP_MODE=crash"))
        self.restart_until_errored()

    def inject_missing_supabase_url(self, backup: bool = False) -> None:
        """A deploy lost SUPABASE_URL: the app dies at start with supabase-js's error (a cause in
        the Supabase layer, seen first as a 502 on the host). With `backup`, a copy of the good
        env file made by hand the day before (`.env.production.bak-YYYY-MM-DD`) still holds it."""
        self.remove_env_backups()
        if backup:
            env = self.env_content()
            self.write_env_backup(env if "SUPABASE_URL=" in env else f"{env}SUPABASE_URL=https://{self.app}.supabase.co\n")
        self.write_env(re.sub(r"(?m)^SUPABASE_URL=.*\n?", "", self.env_content()) + "SUPABASE_URL=\n")
        self.restart_until_errored()

    def write_env_backup(self, content: str) -> Path:
        """A copy of the env file made by hand the day before: `.env.production.bak-YYYY-MM-DD`."""
        copy = self.env_file.with_name(f"{self.env_file.name}.bak-{time.strftime('%Y-%m-%d', time.gmtime())}")
        copy.write_text(content)
        shutil.chown(copy, LAB_USER, LAB_USER)
        return copy

    def restart_until_errored(self) -> None:
        """`pm2 restart` of an app that dies at start: PM2 gives up on it (`errored`)."""
        self.as_user(["pm2", "restart", self.app])
        wait_until(lambda: self.pm2_state().get("status") == "errored", "pm2 status errored", 30)

    def inject_memory_loop(self) -> None:
        """A memory leak: the app grows past its `max_memory_restart` and PM2 restarts it, again
        and again (each time it answers for a moment, then is killed)."""
        before = int(self.pm2_state().get("restart_time", 0))  # type: ignore[call-overload]
        (self.frontend / ".memory-hog").write_text("leak\n")
        shutil.chown(self.frontend / ".memory-hog", LAB_USER, LAB_USER)
        self.as_user(["pm2", "restart", self.app])
        wait_until(lambda: int(self.pm2_state().get("restart_time", 0)) >= before + 3,  # type: ignore[call-overload]
                   "PM2 restarting the app over its memory limit", 60)

    def inject_failed_build(self) -> None:
        """A deploy whose `next build` failed: `.next` was cleared and no BUILD_ID written; the app
        runs on, answering 500 (no build to serve)."""
        shutil.rmtree(self.frontend / ".next")
        self.as_user(["pm2", "restart", self.app])
        wait_until(lambda: self.http_status() == 500, "the app answering 500 without a build")

    def _heal_build(self) -> None:
        if not (self.frontend / ".next" / "BUILD_ID").exists():
            self.rebuild()

    def inject_stopped(self) -> None:
        self.as_user(["pm2", "stop", self.app])
        wait_until(lambda: self.http_status() == 502, "Caddy answering 502")

    def inject_port_conflict(self, owner: str = "app_user") -> None:
        """A foreign process holds the app port; the app dies with EADDRINUSE on its restart.
        `owner="root"`: the squatter runs as root, which the deploy user may not end."""
        self.as_user(["pm2", "stop", self.app])
        if owner == "root":
            self._procs["squatter"] = subprocess.Popen(
                ["node", str(self.frontend / "server.js")],
                env={**self._env(), "LAB_ROLE": "squatter", "PORT": str(self.app_port)}, cwd=str(self.root),
                stdout=subprocess.DEVNULL, stderr=open(self.root / "logs" / "squatter.log", "ab"))  # noqa: SIM115
        else:
            self._procs["squatter"] = self._spawn_as_user(["node", str(self.frontend / "server.js")],
                                                          "squatter.log")
        wait_until(lambda: _port_open(self.app_port), "squatter listening")
        self.restart_until_errored()

    def stop_squatter(self) -> None:
        self._stop_proc("squatter")

    def inject_caddy_down(self) -> None:
        self._stop_proc("caddy")

    def inject_invalid_caddyfile(self, backup: bool = True) -> str:
        """A broken edit of the Caddyfile (Caddy keeps running the old config until a reload).

        Like a real deploy that keeps backups, the good file is first copied to
        `<Caddyfile>.bak-<ts>` (the naming config_fix uses), so caddy_restore has a candidate;
        `backup=False` leaves none (and `remove_caddy_backups` clears earlier ones)."""
        original = self.caddyfile.read_text()
        if backup:
            copy = self.caddyfile.with_name(self.caddy_backup_name())
            shutil.copy2(self.caddyfile, copy)
            shutil.chown(copy, LAB_USER, LAB_USER)
        self.caddyfile.write_text(self._broken_caddyfile(original))
        return original

    def caddy_backup_name(self) -> str:
        # a second in the past: a repair drafted in this same second names its own backup differently
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 1))
        return f"{self.caddyfile.name}.bak-{stamp}"

    def _broken_caddyfile(self, good: str) -> str:
        return good.replace("reverse_proxy", "reverse_prxy")

    def _upstream(self) -> str:
        """The Caddyfile's text that names the app's upstream."""
        return f"reverse_proxy 127.0.0.1:{self.app_port}"

    def caddy_backups(self) -> list[Path]:
        return sorted(self.caddyfile.parent.glob(f"{self.caddyfile.name}.bak-*"))

    def env_backups(self) -> list[Path]:
        return sorted(p for p in self.env_file.parent.glob(f"{self.env_file.name}.ba*") if p.is_file())

    def remove_env_backups(self) -> None:
        for path in self.env_backups():
            path.unlink()

    def remove_caddy_backups(self) -> None:
        for path in self.caddy_backups():
            path.unlink()

    def stop_daemon_caddy(self) -> None:
        """Stop a Caddy that a repair started outside the lab's control (`caddy start`) through its
        admin API, so the lab's own Caddy can take the public port again."""
        try:
            httpx.post(f"http://127.0.0.1:{self.admin_port}/stop", timeout=5.0)
        except httpx.HTTPError:
            pass  # no Caddy on the admin port: nothing to stop
        wait_until(lambda: not _port_open(self.public_port), "public port free")

    def inject_stale_deploy(self, age_s: float = 3600) -> None:
        build_id = self.frontend / ".next" / "BUILD_ID"
        old = time.time() - age_s
        os.utime(build_id, (old, old))

    def inject_health_degraded(self) -> None:
        """The pages answer 200, but the app's /api/health says 500 (its database unreachable)."""
        (self.frontend / ".health-down").write_text("database unreachable\n")

    def inject_pm2_down(self) -> None:
        """The PM2 daemon is gone (`pm2 kill`; a reboot without a PM2 service does the same): no app
        process, 502 through Caddy, and no rpc.sock for the agent to find."""
        self.as_user(["pm2", "kill"])
        wait_until(lambda: not self.pm2_daemon_homes(), "no PM2 daemon of the lab")

    def heal(self) -> None:
        """Back to healthy: valid config, no squatter, Caddy and the app running, 200 through Caddy."""
        (self.frontend / ".health-down").unlink(missing_ok=True)
        (self.frontend / ".memory-hog").unlink(missing_ok=True)
        self.stop_squatter()
        self.write_env(self.env_content())
        self.remove_env_backups()
        self._heal_build()
        if "caddy" not in self._procs or self._procs["caddy"].poll() is not None:
            self.stop_daemon_caddy()  # one a repair started (`caddy start`) holds the port: stop it
            self.start_caddy()
        if not self.pm2_daemon_homes() and self.ecosystem is not None:
            self.as_user(["pm2", "start", str(self.ecosystem)])
        self.as_user(["pm2", "restart", self.app, "--update-env"])
        wait_until(self.app_healthy, "app answering 200 through Caddy")
        self.as_user(["pm2", "flush", self.app])

    def inject_port_mismatch(self) -> str:
        """The Caddyfile on disk dials another port than the app's (an edit after a port change,
        reloaded): 502 while the app and Caddy both run. Returns the good Caddyfile."""
        original = self.caddyfile.read_text()
        self.caddyfile.write_text(original.replace(self._upstream(),
                                                   self._upstream().replace(str(self.app_port), str(free_port()))))
        self.as_user(["caddy", "reload", "--config", str(self.caddyfile), "--adapter", "caddyfile"])
        wait_until(lambda: self.http_status() == 502, "Caddy answering 502")
        return original

    def inject_stale_proxy_config(self) -> str:
        """Caddy runs a config pointing at a wrong upstream (502) while the Caddyfile on disk is right."""
        original = self.caddyfile.read_text()
        self.caddyfile.write_text(original.replace(self._upstream(),
                                                   self._upstream().replace(str(self.app_port), str(free_port()))))
        self.as_user(["caddy", "reload", "--config", str(self.caddyfile), "--adapter", "caddyfile"])
        self.caddyfile.write_text(original)
        wait_until(lambda: self.http_status() == 502, "Caddy answering 502")
        return original


def _take_machine_lock(wait_s: float = LOCK_WAIT_S) -> None:
    """Wait until no other process runs a lab on this machine (ExecutionError after `wait_s`)."""
    global _lock_fd, _lock_users
    if _lock_fd is None:
        fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise ExecutionError(f"another host lab runs on this machine (it holds {LOCK_PATH}) and did "
                                         f"not stop within {wait_s:.0f} s; labs share the user {LAB_USER}, so "
                                         "they run one at a time") from None
                time.sleep(0.5)
        _lock_fd = fd
    _lock_users += 1


def _release_machine_lock() -> None:
    global _lock_fd, _lock_users
    _lock_users = max(0, _lock_users - 1)
    if _lock_users == 0 and _lock_fd is not None:
        os.close(_lock_fd)  # closing the only descriptor drops the flock
        _lock_fd = None


def start_lab(parent: Path = Path("/tmp"), kind: type[HetznerLab] = HetznerLab, **settings: Any) -> HetznerLab:
    """Start a lab (`kind`: this one, `hetzner_alt.HetznerAltLab` or `stack.StackLab`, with its
    `settings`) in a new temporary folder under `parent` (the caller stops it).

    Raises ExecutionError when a program is missing or the lab does not come up (with the logs)."""
    check_prerequisites()
    _take_machine_lock()
    try:
        lab = kind(Path(tempfile.mkdtemp(prefix="smcp-hetzner-", dir=parent)), **settings)
    except BaseException:
        _release_machine_lock()
        raise
    lab.holds_lock = True
    try:
        lab.start()
    except (SupportMCPError, OSError, subprocess.SubprocessError) as exc:
        detail = f"{exc.stderr}\n" if isinstance(exc, subprocess.CalledProcessError) and exc.stderr else ""
        logs = lab.log_tails()
        lab.stop()
        raise ExecutionError(f"hetzner lab did not start: {exc}\n{detail}{logs}".rstrip()) from exc
    except BaseException:
        lab.stop()
        raise
    return lab
