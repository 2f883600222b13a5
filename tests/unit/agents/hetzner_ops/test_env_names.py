"""Which env variables an app's error names (any message shape real apps print), and dotenv files
as hosts hold them: the parsers behind `pm2_logs`' `env_restore` and config_fix's `set_from`."""

from __future__ import annotations

import pytest

from support_mcp.agents.hetzner_ops import parsers as p
from support_mcp.policy import host_commands as hc

KEYS = ["APP_MODE", "DATABASE_URL", "NEXT_PUBLIC_SUPABASE_URL", "PORT", "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_URL"]


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ("Error: supabaseUrl is required.", ["NEXT_PUBLIC_SUPABASE_URL", "SUPABASE_URL"]),  # supabase-js
        ("Error: supabaseKey is required.", []),  # no key of the file ends in SUPABASE_KEY
        ("Environment variable not found: DATABASE_URL.", ["DATABASE_URL"]),  # Prisma
        ("❌ Invalid environment variables: { NEXT_PUBLIC_SUPABASE_URL: [ 'Required' ] }",  # t3-env
         ["NEXT_PUBLIC_SUPABASE_URL"]),
        ("TypeError: Invalid URL", []),  # a single lower-case word names nothing
        ("Every Environment failed", []),
        ("RangeError: PORT must be between 0 and 65535", ["PORT"]),
        ("Missing env SUPABASE_SERVICE_ROLE_KEY", ["SUPABASE_SERVICE_ROLE_KEY"]),
        ("at createClient (/srv/app/node_modules/@supabase/supabase-js/dist/main/index.js:38:12)", []),
    ],
)
def test_named_keys_in_real_message_shapes(message: str, named: list[str]) -> None:
    assert p.named_keys(message, KEYS) == named


def test_dotenv_as_hosts_hold_it() -> None:
    text = ("# production\nexport APP_MODE=production\nSUPABASE_URL=\"https://abc.supabase.co\"\n"
            "EMPTY=\nQUOTED='a # not a comment'\nPLAIN=value # a comment\n  PORT = 3000\nnot a line\nPORT=3001\n")
    assert p.parse_dotenv(text) == {"APP_MODE": "production", "SUPABASE_URL": "https://abc.supabase.co",
                                    "EMPTY": "", "QUOTED": "a # not a comment", "PLAIN": "value", "PORT": "3001"}


def test_backups_of_an_env_file_by_any_date_name_newest_first() -> None:
    listing = "\n".join([".env.production", ".env.production.bak-2026-12-02", ".env.production.bak-20261203T080000Z",
                         ".env.production.local", ".env.production.bak.20261201", ".env.bak-2026-12-04",
                         ".env.production.backup-2026-11-30_1200", ".env.production.old"])
    assert p.file_backups(listing, "/srv/app/.env.production") == [
        "/srv/app/.env.production.bak-20261203T080000Z", "/srv/app/.env.production.bak-2026-12-02",
        "/srv/app/.env.production.bak.20261201", "/srv/app/.env.production.backup-2026-11-30_1200"]
    assert hc.is_backup_of("/srv/app/.env.production.bak-2026-12-02", "/srv/app/.env.production")
    assert not hc.is_backup_of("/srv/app/.env.production.local", "/srv/app/.env.production")
