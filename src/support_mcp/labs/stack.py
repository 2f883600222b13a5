"""The combined lab (`labs/stack/`): the frontend lab's Next.js app with pages that read the
Supabase-like database through a real PostgreSQL connection, built and run under PM2 behind Caddy
on the host lab's sshd host.

It is the host lab with another app: `labs/frontend/app` with `labs/stack/app` laid over it
(TypeScript, ESLint and node:test as the frontend lab has them), `next build` as the lab user (its
node_modules hard-linked from the cache `scripts/labs/stack` installs), `next start` under PM2, and
the database connections in its `.env.production`. The app queries as the signed-in user (role
`authenticated` with the JWT claims PostgREST would set), so row-level security applies, and its
errors carry PostgreSQL's SQLSTATE into the PM2 log. The database is the caller's: a clone of the
Supabase lab in the tests (`tests/helpers/stack_lab.py`). Faults of one layer show in another.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

import httpx
import psycopg

from support_mcp.domain.errors import ExecutionError
from support_mcp.domain.targets import FrontendTarget, SupabaseTarget, Targets
from support_mcp.labs.hetzner import LAB_USER, REPO, HetznerLab, start_lab

STACK_SOURCES = REPO / "labs" / "stack"
FRONTEND_APP = REPO / "labs" / "frontend" / "app"  # the frontend lab's app, which this lab extends
SCRIPT_SUFFIXES = frozenset({".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs"})
SUPABASE_LAB = REPO / "labs" / "supabase"
# the project's initial migration (what repairs restore definitions from): the lab's public schema
INITIAL_MIGRATION = ("20250101000000_initial_schema.sql", SUPABASE_LAB / "02_public.sql")
NODE_MODULES = STACK_SOURCES / ".cache" / "node_modules"
STACK_SETUP = "scripts/labs/stack"
BUILD_TIMEOUT_S = 300.0
DASHBOARD_PAGE = Path("app") / "dashboard" / "page.js"
# the lab's signed-in user: one of the Supabase lab's seeded users (a session cookie in the real app)
SIGNED_IN_USER = "11111111-1111-4111-8111-111111111111"


def app_database_url(owner_dsn: str, user: str = "authenticator", password: str | None = None) -> str:
    """The app's connection to the database of `owner_dsn` as `user`: by default the API's login
    role `authenticator`, which switches to `authenticated` per request (as PostgREST does). With
    `password` in it, as a production env file has one (the lab's server trusts loopback and never
    asks for it; a test can look for it in what reaches a ticket)."""
    info = psycopg.conninfo.conninfo_to_dict(owner_dsn)
    host, port, dbname = info.get("host") or "127.0.0.1", info.get("port") or "5432", info.get("dbname")
    if not dbname:
        raise ValueError("the database connection names no database")
    login = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return f"postgresql://{login}@{host}:{port}/{quote(str(dbname), safe='')}"  # a URL for node-postgres


@dataclass
class StackLab(HetznerLab):
    """The host lab running the combined lab's Next.js app against `database_url`."""

    sources: ClassVar[Path] = STACK_SOURCES
    health_path: ClassVar[str] = "/api/health"
    default_env: ClassVar[str] = f"LAB_SIGNED_IN_USER={SIGNED_IN_USER}\n"
    dashboard_path: ClassVar[str] = "/dashboard"
    database_url: str = ""  # the app's queries (RLS applies)
    auth_database_url: str = ""  # the auth service's writes (sign-up)

    def _lay_out(self) -> Path:
        """The frontend lab's app (`labs/frontend/app`), then this lab's files over it: the database
        pages, the health route that asks the database, `next.config.js` and `package.json` (the
        frontend lab's with `pg`). A file of ours replaces the frontend lab's of the same route in
        another language (`route.js` for `route.ts`)."""
        shutil.copytree(FRONTEND_APP, self.frontend, ignore=shutil.ignore_patterns("node_modules", ".next"),
                        dirs_exist_ok=True)
        overlay = self.sources / "app"
        for ours in overlay.rglob("*"):
            if ours.is_file() and ours.suffix in SCRIPT_SUFFIXES:
                there = self.frontend / ours.relative_to(overlay)
                for sibling in there.parent.glob(f"{there.stem}.*"):
                    if sibling.suffix in SCRIPT_SUFFIXES and sibling.name != ours.name:
                        sibling.unlink()
        return super()._lay_out()

    def env_content(self) -> str:
        """The app's `.env.production`: the signed-in user and the two database connections (a
        deploy writes them there; `next build` and `next start` read it)."""
        return f"{self.default_env}DATABASE_URL={self.database_url}\nAUTH_DATABASE_URL={self.auth_database_url}\n"

    def _build(self) -> None:
        if not (NODE_MODULES / "next").is_dir():
            raise ExecutionError(f"stack lab: the app's packages are missing ({NODE_MODULES}); run `{STACK_SETUP}`")
        self._link_node_modules()
        self.rebuild()

    def _link_node_modules(self) -> None:
        """node_modules as hard links into the cache, made after the lab folder was given to the lab
        user: the files stay root's and readable, the cache keeps its owner; the copy's folders
        (new, unlike its files) are the lab user's, as after an `npm install` of its own, so a
        deploy's `npm install` may write its lock file and remove or replace packages there."""
        target = self.frontend / "node_modules"
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(["cp", "-al", str(NODE_MODULES), str(target)], check=True, timeout=120)
        subprocess.run(["find", str(target), "-type", "d", "-exec", "chown", f"{LAB_USER}:{LAB_USER}", "{}", "+"],
                       check=True, timeout=120)

    def rebuild(self) -> None:
        """`next build` as the lab user, as a deploy does (a new `.next/BUILD_ID`)."""
        self.as_user(["env", "NEXT_TELEMETRY_DISABLED=1", "npm", "--prefix", str(self.frontend), "run", "build"],
                     timeout=BUILD_TIMEOUT_S)

    def targets(self, supabase: SupabaseTarget, work: Path) -> Targets:
        """What a customer configures for the three agents on this lab: the host, the Supabase
        database (`supabase`) and the Next.js app (its folder on the host, its URL, its PM2 log);
        the frontend agent's workspaces under `work`."""
        frontend = FrontendTarget(source_dir=self.frontend, workspace_dir=work / "workspaces", base_url=self.public_url,
                                  pages=("/", self.dashboard_path),
                                  server_log=self.pm2_home / "logs" / f"{self.app}-error.log", pm2_app=self.app,
                                  restart_target=self.host_target().name, pm2_home=self.pm2_home)
        return Targets(supabase=supabase, hosts=(self.host_target(),), frontend=frontend)

    def inject_lost_setting(self, key: str = "DATABASE_URL") -> None:
        """A deploy wrote the env file without `key`, which the copy made by hand the day before
        still holds: `next start` fails the app's env validation (next.config.js), PM2 restarts it
        until `errored`, and Caddy answers 502."""
        self.remove_env_backups()
        self.write_env_backup(self.env_content())
        self.write_env(re.sub(rf"(?m)^{re.escape(key)}=.*\n?", "", self.env_content()))
        self.restart_until_errored()

    def inject_unbuilt_rename(self, old: str, new: str) -> None:
        """A deploy pulled code that calls the dashboard's RPC `old` by its new name `new` (its
        migration renamed it) but its build step did not run: the running build still calls `old`."""
        page = self.frontend / DASHBOARD_PAGE
        page.write_text(page.read_text().replace(f"{old}(", f"{new}("))
        shutil.chown(page, LAB_USER, LAB_USER)

    def _heal_build(self) -> None:
        page, original = self.frontend / DASHBOARD_PAGE, (self.sources / "app" / DASHBOARD_PAGE).read_text()
        if not (self.frontend / "node_modules" / "typescript").is_dir():  # a deploy's `--omit=dev` pruned it
            self._link_node_modules()
        if page.read_text() != original:
            page.write_text(original)
            shutil.chown(page, LAB_USER, LAB_USER)
            self.rebuild()
        else:
            super()._heal_build()

    def page_status(self, path: str) -> int | None:
        """The status of one of the app's pages through Caddy (None: no answer)."""
        try:
            return httpx.get(self.public_url.rstrip("/") + path, timeout=10.0).status_code
        except httpx.HTTPError:
            return None

    def dashboard_status(self) -> int | None:
        return self.page_status(self.dashboard_path)

    def signup_status(self, email: str) -> int | None:
        """The status of a sign-up through Caddy (a new auth user; its trigger gives it the free plan)."""
        try:
            return httpx.post(self.public_url.rstrip("/") + "/api/signup", json={"email": email}, timeout=10.0).status_code
        except httpx.HTTPError:
            return None


def create_stack_database(admin_dsn: str, name: str) -> str:
    """The Supabase lab (`labs/supabase/`: API roles, auth, public schema, seed) as the database
    `name` on the server of `admin_dsn`, made anew; returns its DSN. The roles are cluster-wide and
    created only where missing."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"not a plain database name: {name!r}")
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')  # type: ignore[arg-type]
        conn.execute(f'create database "{name}"')  # type: ignore[arg-type]
    info = psycopg.conninfo.conninfo_to_dict(admin_dsn) | {"dbname": name}
    dsn = psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]
    for part in sorted(SUPABASE_LAB.glob("[0-9][0-9]_*.sql")):
        _run_sql(dsn, part)
    return dsn


def inject_database_fault(dsn: str, scenario: str) -> None:
    """One of the Supabase lab's fault scenarios (`labs/supabase/faults/<scenario>.sql`)."""
    path = SUPABASE_LAB / "faults" / f"{scenario}.sql"
    if not re.fullmatch(r"[a-z_]+", scenario) or not path.is_file():
        known = ", ".join(sorted(p.stem for p in (SUPABASE_LAB / "faults").glob("*.sql")))
        raise ValueError(f"unknown Supabase lab scenario {scenario!r}; known: {known}")
    _run_sql(dsn, path)


def _run_sql(dsn: str, path: Path) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(path.read_text("utf-8"))  # type: ignore[arg-type]


def start_stack_lab(owner_dsn: str, parent: Path = Path("/tmp")) -> StackLab:
    """Start the combined lab with its app on the database of `owner_dsn` (a Supabase lab)."""
    owner = str(psycopg.conninfo.conninfo_to_dict(owner_dsn).get("user") or "postgres")
    lab = start_lab(parent, kind=StackLab, database_url=app_database_url(owner_dsn, password=secrets.token_hex(16)),
                    auth_database_url=app_database_url(owner_dsn, owner, secrets.token_hex(16)))
    assert isinstance(lab, StackLab)
    return lab
