"""A repair plan printed as JSON (`plans show --json`, `plans draft --json`): what the repair
writes is redacted with its key, like every note; everything else is the plan as stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from support_mcp.cli.render import to_jsonable
from support_mcp.domain.models import Plan

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlLXNlY3JldA"


def test_plan_json_redacts_what_the_repair_writes() -> None:
    now = datetime.now(UTC)
    plan = Plan(id=uuid.uuid4(), ticket_id=uuid.uuid4(), agent="hetzner-ops-agent", repair="config_fix",
                title="Konfigurations-Fix", created_at=now, updated_at=now, plan_hash="abc",
                params={"path": "/var/www/app/.env", "set": {"DB_PASSWORD": "hunter2xyz", "PORT": "3000"}},
                steps=[{"kind": "file", "target": "hetzner-prod", "display": f"+SUPABASE_SERVICE_ROLE_KEY={JWT}",
                        "payload": {"path": "/var/www/app/.env", "set": {"SUPABASE_SERVICE_ROLE_KEY": JWT}}}])
    out = to_jsonable(plan)
    text = repr(out)
    assert JWT not in text and "hunter2xyz" not in text
    assert out["params"]["set"]["PORT"] == "3000" and out["params"]["path"] == "/var/www/app/.env"
    assert out["plan_hash"] == "abc" and out["repair"] == "config_fix"
