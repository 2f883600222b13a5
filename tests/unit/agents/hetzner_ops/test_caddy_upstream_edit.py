"""caddy_upstream's edit of a Caddyfile, on the recorded Caddyfile shapes (tests/fixtures/hetzner_ops/
caddy_adapt/): only the dial that serves the pages changes, written as the file writes it (with
or without host and scheme, in a `reverse_proxy` line or a `to` line of a block); another
backend's upstream, the site address and the admin port stay as they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from support_mcp.agents.hetzner_ops.caddy_repairs import CaddyUpstreamRepair
from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.targets import HostTarget

SHAPES = Path(__file__).resolve().parents[3] / "fixtures" / "hetzner_ops" / "caddy_adapt"
REPAIR = CaddyUpstreamRepair(HostTarget(name="web", host="203.0.113.7", user="deploy", caddyfile=Path("/etc/caddy/Caddyfile")))


def test_simple_site() -> None:
    before = (SHAPES / "simple.Caddyfile").read_text()
    assert REPAIR._edit(before, ["localhost:3000"], 3005) == before.replace("localhost:3000", "localhost:3005")


def test_a_to_line_in_an_imported_snippet() -> None:
    before = (SHAPES / "snippet.Caddyfile").read_text()
    assert "to localhost:3001\n" in REPAIR._edit(before, ["localhost:3107"], 3001)


def test_only_the_catch_all_upstream_changes_with_its_scheme_kept() -> None:
    before = (SHAPES / "handle.Caddyfile").read_text()
    after = REPAIR._edit(before, ["localhost:3000"], 3002)
    assert "reverse_proxy http://localhost:3002" in after and "reverse_proxy localhost:4000" in after
    assert after.startswith(":80 {")


def test_ports_that_only_contain_the_digits_are_untouched() -> None:
    before = "{\n\tadmin 127.0.0.1:30001\n}\nhttp://127.0.0.1:13000 {\n\treverse_proxy 127.0.0.1:3000\n}\n"
    after = REPAIR._edit(before, ["127.0.0.1:3000"], 4100)
    assert after == before.replace("reverse_proxy 127.0.0.1:3000", "reverse_proxy 127.0.0.1:4100")


def test_a_dial_the_file_does_not_write_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="not written"):
        REPAIR._edit((SHAPES / "simple.Caddyfile").read_text(), ["127.0.0.1:9999"], 3000)
