"""config_fix's parameters as they arrive from MCP (a mapping) and from the command line
(`--param set=PORT=3000,HOST=0.0.0.0`, a string): either is understood, anything else is a clear
InvalidInput before the host is touched — never a traceback."""

from __future__ import annotations

from typing import Any

import pytest

from support_mcp.agents.hetzner_ops.file_repairs import _config_params
from support_mcp.domain.errors import InvalidInput


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"path": "/var/www/app/.env", "set": {"PORT": 3000}}, ("/var/www/app/.env", {"PORT": "3000"}, None)),
        ({"path": "/var/www/app/.env", "set": "PORT=3000"}, ("/var/www/app/.env", {"PORT": "3000"}, None)),
        ({"path": ".env", "set": "PORT=3000, HOST=0.0.0.0"}, (".env", {"PORT": "3000", "HOST": "0.0.0.0"}, None)),
        ({"path": ".env", "set": "SUPABASE_URL=https://x.supabase.co/?a=b"},
         (".env", {"SUPABASE_URL": "https://x.supabase.co/?a=b"}, None)),
        ({"path": "/etc/caddy/Caddyfile", "content": ":80 {\n}\n"}, ("/etc/caddy/Caddyfile", None, None)),
        ({"path": ".env", "set_from": {"SUPABASE_URL": "/srv/.env.bak-2026-12-02"}},
         (".env", None, {"SUPABASE_URL": "/srv/.env.bak-2026-12-02"})),
        ({"path": ".env", "set_from": "A_B=/srv/.env.bak-2026-12-02,C=/srv/.env.bak.20261201"},
         (".env", None, {"A_B": "/srv/.env.bak-2026-12-02", "C": "/srv/.env.bak.20261201"})),
    ],
)
def test_understood_shapes(params: dict[str, Any], expected: tuple[str, dict[str, str] | None, dict[str, str] | None]) -> None:
    assert _config_params(params) == expected


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"set": "PORT=3000"}, "needs `path`"),
        ({"path": " ", "set": "PORT=3000"}, "needs `path`"),
        ({"path": ".env"}, "needs `set`"),
        ({"path": ".env", "set": "PORT"}, "KEY=VALUE pairs"),
        ({"path": ".env", "set": ""}, "KEY=VALUE pairs"),
        ({"path": ".env", "set": {"PO RT": "1"}}, "keys are letters"),
        ({"path": ".env", "set": {"PORT": "1\nEVIL=1"}}, "values are one line"),
        ({"path": ".env", "set": "$(id)=1"}, "keys are letters"),
        ({"path": ".env", "set": {"A": "1"}, "content": "x"}, "not set and content"),
        ({"path": ".env", "set": {"A": "1"}, "set_from": {"A": "/b"}}, "not set and set_from"),
        ({"path": ".env", "set_from": {"A": ".env.bak-2026-12-02"}}, "absolute path"),
        ({"path": ".env", "set_from": {"A": "/x\n/y"}}, "values are one line"),
        ({"path": ".env", "set": ["PORT=1"]}, "needs `set`"),
    ],
)
def test_anything_else_is_a_clear_error(params: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace("$", r"\$")):
        _config_params(params)
