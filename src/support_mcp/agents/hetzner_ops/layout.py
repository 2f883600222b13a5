"""Where the app runs on the host, as the host itself says it (nothing of a lab assumed).

A real host is rarely laid out like our lab: the app runs from `current → releases/<ts>`, reads
`shared/.env.production` through a link, logs to `shared/logs`, listens on whatever port its
ecosystem file gives it, and its PM2 daemon keeps `PM2_HOME` somewhere other than `~/.pm2` (a
`pm2-<user>` service sets it; an SSH login shell does not, and a bare `pm2 jlist` would start
an empty second daemon). So before anything else each run finds out:

- the PM2 daemon of the SSH user and its PM2_HOME (`ss -xlp`: the daemon listens on
  `<PM2_HOME>/rpc.sock`), unless the configuration names it;
- the configured app in that daemon's `pm2 jlist` (which carries what the ecosystem file set):
  its cwd, script, port (`-p`/`--port` in its arguments, else env PORT), log files and the env
  files a Next.js app in that folder reads; the other apps are listed, never named by a repair.

The result is the configured HostTarget with `pm2_home`, `app_port` and `app_dir` filled in as
found, shared by all checks of the run (`CheckContext.facts`). What could not be found keeps the
configured value, and `sources` says which came from where.
"""

from __future__ import annotations

import asyncio
import posixpath
from dataclasses import dataclass, field, replace
from pathlib import Path

from support_mcp.agents.base import CheckContext
from support_mcp.agents.hetzner_ops import parsers as p
from support_mcp.domain.errors import ExecutionError, InvalidInput, PolicyViolation
from support_mcp.domain.targets import HostTarget
from support_mcp.policy import host_commands as hc


@dataclass(frozen=True)
class AppLayout:
    host: HostTarget  # the configured host with pm2_home, app_port and app_dir as found on it
    process: p.Pm2Process | None  # the configured app in `pm2 jlist`, None when PM2 does not know it
    others: tuple[str, ...] = ()  # the daemon's other apps (a worker): listed, never restarted
    sources: dict[str, str] = field(default_factory=dict)  # what came from where
    notes: tuple[str, ...] = ()  # what could not be found, and why
    # `ss -xlp` answered and no PM2 daemon of the user listens: pm2 is not asked (a bare `pm2 jlist`
    # would start an empty daemon), the checks say so instead
    no_daemon: bool = False

    def evidence(self) -> list[str]:
        """One line per fact, for a finding's evidence."""
        h = self.host
        lines = [f"PM2_HOME={h.pm2_home or '(default)'} [{self.sources.get('pm2_home', 'default')}]",
                 f"app {h.app}: cwd={h.app_dir or '-'} [{self.sources.get('app_dir', 'configured')}], "
                 f"port={h.app_port} [{self.sources.get('app_port', 'configured')}]"]
        if self.process is not None:
            lines.append(f"script={self.process.script or '-'} out={self.process.out_log or '-'} "
                         f"err={self.process.err_log or '-'}")
        if self.others:
            lines.append(f"other PM2 apps (never restarted): {', '.join(self.others)}")
        return [*lines, *self.notes]


def _within(host: HostTarget, path: str) -> bool:
    try:
        hc.checked_path(host, path)
    except PolicyViolation:
        return False
    return True


MAX_DAEMONS = 4  # PM2 daemons of one user whose process lists are read to find the app
NO_DAEMON = "no PM2 daemon of the user listens (ss -xlp: no <PM2_HOME>/rpc.sock)"


async def _daemon_homes(ctx: CheckContext, host: HostTarget) -> tuple[list[tuple[str, str]], list[str]]:
    """Candidate PM2_HOMEs with where each came from (configured, or the daemons listening)."""
    if host.pm2_home is not None:
        return [(str(host.pm2_home), "configured")], []
    try:
        result = await ctx.execute(hc.unix_listeners(host))
    except ExecutionError as exc:
        return [], [f"ss -xlp: {exc}"]
    daemons = p.pm2_daemons(result.stdout)
    if not daemons:
        if result.exit_code == 0:
            return [], [NO_DAEMON]
        return [], [f"ss -xlp exited {result.exit_code}; pm2 runs with its default PM2_HOME"]
    seen: dict[str, str] = {}
    for d in daemons:
        seen.setdefault(d.home, f"ss -xlp: {d.name} pid {d.pid} listens on {d.home}/rpc.sock")
    notes = [f"{len(seen)} PM2 daemons of user {host.user}; the first {MAX_DAEMONS} are asked for {host.app}"] \
        if len(seen) > MAX_DAEMONS else []
    return list(seen.items())[:MAX_DAEMONS], notes


async def _processes(ctx: CheckContext, host: HostTarget) -> list[p.Pm2Process]:
    result = await ctx.execute(hc.pm2_jlist(host))
    return p.parse_pm2_jlist(result.stdout)


async def _discover(ctx: CheckContext, host: HostTarget) -> AppLayout:
    homes, notes = await _daemon_homes(ctx, host)
    if notes == [NO_DAEMON]:
        return AppLayout(host=host, process=None, sources={"pm2_home": "none running"}, notes=tuple(notes),
                         no_daemon=True)
    found, sources, processes = host, {"pm2_home": "default"}, None
    # With several daemons, the one whose process list holds the configured app is the app's; when
    # several do (staging and production of one user), the one running it in the deploy folder.
    best = -1
    for home, source in homes or [(None, "default")]:  # type: ignore[list-item]
        candidate = replace(host, pm2_home=Path(home)) if home else host
        try:
            listed = await _processes(ctx, candidate)
        except (ExecutionError, InvalidInput) as exc:
            notes.append(f"pm2 jlist ({home or 'default PM2_HOME'}): {exc}")
            continue
        app = next((x for x in listed if x.name == host.app), None)
        rank = 0 if app is None else 2 if app.cwd and _within(host, posixpath.normpath(app.cwd)) else 1
        if rank > best:
            found, sources["pm2_home"], processes, best = candidate, source, listed, rank
        if rank == 2:
            break
    if processes is None:
        return AppLayout(host=found, process=None, sources=sources, notes=tuple(notes))
    app = next((x for x in processes if x.name == host.app), None)
    others = tuple(sorted({x.name for x in processes if x.name != host.app}))
    if app is None:
        return AppLayout(host=found, process=None, others=others, sources=sources,
                         notes=(*notes, f"PM2 knows no app {host.app!r}"))
    port = app.listen_port()
    if port is not None:
        found, sources["app_port"] = replace(found, app_port=port), "pm2 jlist (args or env PORT)"
    if host.app_dir is not None:
        sources["app_dir"] = "configured"
    elif app.cwd and _within(host, posixpath.normpath(app.cwd)):
        found = replace(found, app_dir=Path(posixpath.normpath(app.cwd)))
        sources["app_dir"] = "pm2 jlist cwd"
    elif app.cwd:
        notes.append(f"PM2 runs {host.app} in {app.cwd}, outside the deploy folder {host.deploy_root}: "
                     "nothing is read or built there")
    return AppLayout(host=found, process=app, others=others, sources=sources, notes=tuple(notes))


async def app_layout(ctx: CheckContext, host: HostTarget) -> AppLayout:
    """The host as found (once per run and host; the checks of a run share it)."""
    key = ("hetzner_ops.layout", host)
    lock = ctx.facts.setdefault(("hetzner_ops.layout.lock", host.name), asyncio.Lock())
    async with lock:
        if key not in ctx.facts:
            try:
                layout = await _discover(ctx, host)
            except Exception as exc:  # noqa: BLE001 -- finding the layout never takes the checks down
                # (a parser that raises on an unexpected `pm2 jlist`: the checks run on the host as
                # configured, and pm2_status reports the same parser fault as its own finding)
                layout = AppLayout(host=host, process=None, notes=(f"layout not found: {type(exc).__name__}: {exc}",))
            # the host as found leads to the same layout (checks ask with either)
            ctx.facts[key] = ctx.facts[("hetzner_ops.layout", layout.host)] = layout
        found: AppLayout = ctx.facts[key]
        return found


async def found_host(ctx: CheckContext, host: HostTarget) -> HostTarget:
    """`host` with PM2_HOME, the app's port and folder as found on it."""
    return (await app_layout(ctx, host)).host
