"""The command line imports only what a command uses: `support-mcp --help` (and the import of
`support_mcp.cli.app` that every command starts with) loads no SSH, browser, MCP, database driver,
model or agent module; each command imports the services it runs. A fresh interpreter per check,
so that modules other tests loaded do not count."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# What the CLI's own import must not pull in: each costs from tens to hundreds of milliseconds.
HEAVY = ("asyncssh", "playwright", "mcp", "psycopg", "pglast", "pydantic", "httpx", "uvicorn", "starlette",
         "support_mcp.bootstrap", "support_mcp.agents", "support_mcp.services", "support_mcp.store",
         "support_mcp.executors", "support_mcp.mcp", "support_mcp.portal")


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_importing_the_cli_loads_no_heavy_module() -> None:
    assert _heavy(_loaded_after("import support_mcp.cli.app")) == []


@pytest.mark.parametrize("argv", [["--help"], ["kb", "--help"], ["plans", "--help"], ["run", "--help"]])
def test_help_loads_no_heavy_module(argv: list[str]) -> None:
    code = (f"sys.argv = ['support-mcp', *{argv!r}]\nfrom support_mcp.cli.app import app\n"
            "try:\n    app()\nexcept SystemExit:\n    pass")
    heavy = _heavy(_loaded_after(code))
    if argv != ["--help"]:  # typer's own parameter adapters (typer/_adapters.py) import pydantic
        heavy = [m for m in heavy if m != "pydantic" and not m.startswith("pydantic.")]
    assert heavy == []


def test_the_probe_sees_a_heavy_import() -> None:
    """The check can fail: a command that runs the services does load them."""
    assert "support_mcp.bootstrap" in _heavy(_loaded_after("import support_mcp.cli.app\nimport support_mcp.bootstrap"))


def test_the_knowledge_commands_load_no_agent_ssh_browser_mcp_or_models() -> None:
    """`kb search` opens the knowledge base alone (bootstrap.knowledge): the database driver, yes;
    agents, executors, SSH, the browser, the MCP SDK and the pydantic domain models, no."""
    loaded = _loaded_after("import support_mcp.bootstrap.knowledge")
    unwanted = ("asyncssh", "playwright", "mcp", "pglast", "support_mcp.agents", "support_mcp.executors",
                "support_mcp.mcp", "support_mcp.portal", "support_mcp.domain.models",
                "support_mcp.policy.host_diagnostics", "support_mcp.bootstrap.services")
    assert sorted(m for m in loaded if any(m == u or m.startswith(u + ".") for u in unwanted)) == []
    assert "psycopg" in loaded  # the probe sees what is imported
