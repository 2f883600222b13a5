"""Typed operations of the frontend-diagnostics-agent: npm scripts in a workspace copy, copying the
project into that workspace, reading the headers `next.config.js` declares, applying a hotfix
patch, the rsync of a build to the deploy folder, and the PM2 restart of the configured app after
it. Registers its programs into `PROGRAMS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import replace

from support_mcp.domain.errors import PolicyViolation
from support_mcp.policy import host_commands  # noqa: F401  (registers `pm2`: its words, `all` and ids refused)
from support_mcp.policy.commands import (
    PROGRAMS,
    Operation,
    ProgramSpec,
    _build,
    _choice,
    validate_absolute_path,
    validate_argv,
    validate_target,
)

_SCRIPT_RE = re.compile(r"[a-z][a-z0-9:._-]{0,40}")
NPM_SCRIPTS_RUN = ("build", "lint", "test")  # the scripts the agent may run (4.1)
WORKSPACE_EXCLUDES = ("node_modules", ".next", ".git")

# Reads the `headers()` a Next.js config declares, in a node subprocess of its own (never inside
# the running server). One line: argv tokens may not hold newlines.
READ_HEADERS_JS = (
    "const p=require('path'),fs=require('fs'),u=require('url');const d=process.argv[1];"
    "const f=['next.config.js','next.config.mjs','next.config.cjs'].map(n=>p.join(d,n)).find(x=>fs.existsSync(x));"
    "(async()=>{if(!f){process.stdout.write(JSON.stringify({config:null,headers:[]}));return}"
    "let c=(await import(u.pathToFileURL(f).href)).default;"
    "if(typeof c==='function')c=await c('phase-production-server',{defaultConfig:{}});"
    "const h=c&&typeof c.headers==='function'?await c.headers():[];"
    "process.stdout.write(JSON.stringify({config:p.basename(f),headers:h}))})()"
    ".catch(e=>{process.stderr.write(String(e&&e.stack||e));process.exit(1)})"
)


def validate_npm_word(value: str) -> str:
    """An npm sub-command or script name: lower-case word, never an option."""
    if not _SCRIPT_RE.fullmatch(value):
        raise PolicyViolation(f"invalid npm script or command {value!r}")
    return value


def validate_dir_path(path: str) -> str:
    """An absolute path, optionally with one trailing '/' (rsync: copy the folder's contents)."""
    validate_absolute_path(path[:-1] if path.endswith("/") and len(path) > 1 else path)
    return path


FRONTEND_PROGRAMS: dict[str, ProgramSpec] = {
    "npm": ProgramSpec(
        flags=frozenset({"--omit=dev", "--legacy-peer-deps", "--no-audit", "--no-fund"}),
        valued={"--prefix": validate_absolute_path},
        positional=_choice("install", "run", *NPM_SCRIPTS_RUN), max_positionals=2,
    ),
    "rsync": ProgramSpec(
        flags=frozenset({"-a", "--delete", "--dry-run", "--itemize-changes", "--checksum"}),
        valued={"--exclude": _choice(*WORKSPACE_EXCLUDES)},
        positional=validate_dir_path, max_positionals=2,
    ),
    "cp": ProgramSpec(flags=frozenset({"-al"}), positional=validate_absolute_path, max_positionals=2),
    "node": ProgramSpec(valued={"-e": _choice(READ_HEADERS_JS)}, positional=validate_absolute_path,
                        max_positionals=1),
    "patch": ProgramSpec(
        flags=frozenset({"-p1", "--forward", "--batch", "--dry-run", "--reverse", "--no-backup-if-mismatch"}),
        valued={"-d": validate_absolute_path, "-i": validate_absolute_path},
    ),
}


def _either(a: Callable[[str], str] | None, b: Callable[[str], str] | None) -> Callable[[str], str] | None:
    if a is None or b is None:
        return a or b
    first, second = a, b

    def check(value: str) -> str:
        try:
            return first(value)
        except PolicyViolation:
            return second(value)

    return check


def _register() -> None:
    """Add the frontend programs to the shared table; an entry another agent registered (npm, cp of
    the host agent) is widened, never narrowed."""
    for name, spec in FRONTEND_PROGRAMS.items():
        other = PROGRAMS.get(name)
        if other is None or other == spec:
            PROGRAMS[name] = spec
            continue
        PROGRAMS[name] = ProgramSpec(flags=other.flags | spec.flags, valued={**spec.valued, **other.valued},
                                     positional=_either(other.positional, spec.positional),
                                     max_positionals=max(other.max_positionals, spec.max_positionals))


_register()


def npm_run(script: str, workspace: str, available: Collection[str], *, target: str = "local",
            timeout_s: float = 300.0) -> Operation:
    """`npm --prefix <workspace> run <script>`; only a script the project's package.json defines."""
    validate_npm_word(script)
    if script not in NPM_SCRIPTS_RUN:
        raise PolicyViolation(f"npm script {script!r} is not one the agent runs ({', '.join(NPM_SCRIPTS_RUN)})")
    if script not in available:
        raise PolicyViolation(f"package.json has no script {script!r} (scripts: {', '.join(sorted(available))})")
    return _build(f"npm_{script}", ["npm", "--prefix", workspace, "run", script], target, timeout_s)


def npm_install(workspace: str, *, target: str = "local", timeout_s: float = 600.0) -> Operation:
    """`npm install --omit=dev --legacy-peer-deps` in a workspace (production dependencies only)."""
    argv = ["npm", "--prefix", workspace, "install", "--omit=dev", "--legacy-peer-deps", "--no-audit", "--no-fund"]
    return replace(_build("npm_install", argv, target, timeout_s), writes=True)


def sync_workspace(source: str, workspace: str, *, target: str = "local") -> Operation:
    """Copy the project into the workspace (`rsync -a --delete`), leaving out node_modules, .next, .git."""
    argv = ["rsync", "-a", "--delete", *[t for ex in WORKSPACE_EXCLUDES for t in ("--exclude", ex)],
            "--", validate_absolute_path(source) + "/", validate_absolute_path(workspace) + "/"]
    return _build("workspace_sync", argv, target, 120.0)


def link_node_modules(source: str, workspace: str, *, target: str = "local") -> Operation:
    """Hard-link the project's node_modules into the workspace (`cp -al`): no reinstall, no copy."""
    argv = ["cp", "-al", "--", validate_absolute_path(source), validate_absolute_path(workspace)]
    return _build("workspace_node_modules", argv, target, 120.0)


def read_next_headers(project_dir: str, *, target: str = "local") -> Operation:
    """The headers `next.config.js` declares, as JSON, read by a node subprocess."""
    return _build("next_config_headers", ["node", "-e", READ_HEADERS_JS, validate_absolute_path(project_dir)],
                  target, 30.0)


def apply_patch(workspace: str, patch_file: str, *, dry_run: bool, target: str = "local") -> Operation:
    """`patch -p1 --forward --batch` of a unified diff in the workspace (`--dry-run` first)."""
    argv = ["patch", "-p1", "--forward", "--batch", "--no-backup-if-mismatch", *(["--dry-run"] if dry_run else []),
            "-d", validate_absolute_path(workspace), "-i", validate_absolute_path(patch_file)]
    op = _build("patch_dry_run" if dry_run else "patch_apply", argv, target, 30.0)
    return op if dry_run else replace(op, writes=True)


def deploy_rsync(build_dir: str, deploy_dir: str, *, dry_run: bool, target: str = "local") -> Operation:
    """`rsync -a --delete --checksum` of the built workspace to the deploy folder (4.2 Deployment)."""
    argv = ["rsync", "-a", "--delete", "--checksum", "--itemize-changes", *(["--dry-run"] if dry_run else []),
            "--exclude", "node_modules", "--exclude", ".git",
            "--", validate_absolute_path(build_dir) + "/", validate_absolute_path(deploy_dir) + "/"]
    op = _build("deploy_rsync_dry_run" if dry_run else "deploy_rsync", argv, target, 300.0)
    return op if dry_run else replace(op, writes=True)


def pm2_restart(app: str, configured_app: str | None, *, pm2_home: str | None = None,
                target: str = "local") -> Operation:
    """`pm2 restart <app> --update-env` of the configured app only (the host agent's argv and
    checks); with `pm2_home` set for this command only (the local executor passes no HOME)."""
    if configured_app is None:
        raise PolicyViolation("no PM2 app configured for the frontend (SUPPORT_MCP_FRONTEND_PM2_APP)")
    if app != configured_app:
        raise PolicyViolation(f"pm2 app {app!r} is not the configured frontend app; only {configured_app!r} "
                              "may be restarted")
    argv = validate_argv(["pm2", "restart", app, "--update-env"])
    env = (("PM2_HOME", validate_absolute_path(pm2_home)),) if pm2_home is not None else ()
    return Operation(name="pm2_restart", argv=argv, target=validate_target(target),
                     timeout_s=60.0, writes=True, env=env)
