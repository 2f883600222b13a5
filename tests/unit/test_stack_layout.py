"""The combined lab's app is the frontend lab's app with ours laid over it: its package.json keeps
the frontend lab's packages (plus `pg`), and a route of ours replaces the frontend lab's of the
same name in another language, so `next build` never sees two handlers for one route."""

from __future__ import annotations

import json
from pathlib import Path

from support_mcp.labs.stack import FRONTEND_APP, STACK_SOURCES, StackLab


def test_the_stack_app_keeps_the_frontend_labs_packages_and_adds_pg() -> None:
    frontend = json.loads((FRONTEND_APP / "package.json").read_text())
    stack = json.loads((STACK_SOURCES / "app" / "package.json").read_text())
    assert stack["dependencies"] == {**frontend["dependencies"], "pg": stack["dependencies"]["pg"]}
    assert stack["devDependencies"] == frontend["devDependencies"]
    assert stack["scripts"] == frontend["scripts"]


def test_the_layout_is_the_frontend_app_with_ours_over_it(tmp_path: Path) -> None:
    lab = StackLab(root=tmp_path, database_url="postgresql://authenticator:pw@127.0.0.1:5432/db",
                   auth_database_url="postgresql://postgres:pw@127.0.0.1:5432/db")
    lab.deploy_root.mkdir(parents=True)
    lab._lay_out()
    files = {p.relative_to(lab.frontend).as_posix() for p in lab.frontend.rglob("*") if p.is_file()}
    assert {"app/page.tsx", "app/layout.tsx", "app/components/Greeting.tsx", "tests/format.test.mjs",
            "eslint.config.mjs", "tsconfig.json"} <= files  # the frontend lab's
    assert {"app/dashboard/page.js", "app/api/signup/route.js", "lib/db.js"} <= files  # ours
    assert "app/api/health/route.js" in files and "app/api/health/route.ts" not in files
    assert (lab.frontend / "next.config.js").read_text() == (STACK_SOURCES / "app" / "next.config.js").read_text()
    assert "DATABASE_URL=postgresql://authenticator:pw@" in lab.env_file.read_text()
