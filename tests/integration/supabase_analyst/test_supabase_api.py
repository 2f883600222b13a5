"""The Management API client and the monitoring snapshot against a local HTTP server.

The server is a STAND-IN for api.supabase.com and for the app's snapshot endpoint: it serves the
documented response shapes from tests/fixtures/supabase_analyst (hand-written, see its README),
checks the bearer token and the query parameters the client sends."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from helpers.supabase_lab import context_for
from support_mcp.agents.supabase_analyst.checks import MonitoringSnapshotCheck, SupabaseLogsCheck
from support_mcp.domain.targets import SupabaseTarget
from support_mcp.executors.supabase_api import SupabaseManagementApi

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "supabase_analyst"
TOKEN = "sbp_test_token_0123456789"
REF = "abcdefghijklmnopqrst"


class _Handler(BaseHTTPRequestHandler):
    seen: list[dict[str, object]] = []

    def do_GET(self) -> None:  # noqa: N802
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path == "/api/monitoring/snapshot":
            return self._send(200, (FIXTURES / "monitoring_snapshot_degraded.json").read_bytes())
        if url.path != f"/v1/projects/{REF}/analytics/endpoints/logs.all":
            return self._send(404, b'{"message": "not found"}')
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, b'{"message": "Unauthorized"}')
        _Handler.seen.append({k: v[0] for k, v in query.items()})
        sql = query.get("sql", [""])[0]
        source = "auth" if "auth_logs" in sql else "postgres" if "postgres_logs" in sql else "edge"
        return self._send(200, (FIXTURES / f"logs_{source}.json").read_bytes())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


async def test_logs_request_has_token_sql_and_time_window(api_url: str) -> None:
    api = SupabaseManagementApi(api_url, REF, TOKEN)
    result = await api.logs("postgres", minutes=15)
    assert result.status == 200 and result.payload["result"][0]["error_severity"] == "ERROR"
    sent = _Handler.seen[-1]
    assert "postgres_logs" in str(sent["sql"]) and "iso_timestamp_start" in sent and "iso_timestamp_end" in sent
    denied = await SupabaseManagementApi(api_url, REF, "wrong").logs("auth")
    assert denied.status == 401
    assert "wrong" not in repr(SupabaseManagementApi(api_url, REF, "wrong"))


async def test_logs_check_reports_error_lines_of_all_sources(api_url: str, healthy_lab: SupabaseTarget) -> None:
    target = SupabaseTarget(database_url=healthy_lab.database_url, project_ref=REF, management_token=TOKEN,
                            management_api_url=api_url)
    ctx, _ = context_for(target)
    (finding,) = await SupabaseLogsCheck(target).run(ctx)
    assert finding.status == "warn" and finding.data["error_lines"] == 2
    assert any("Database error saving new user" in line for line in finding.evidence)
    bad = SupabaseTarget(database_url=healthy_lab.database_url, project_ref=REF, management_token="nope",
                         management_api_url=api_url)
    (failed,) = await SupabaseLogsCheck(bad).run(context_for(bad)[0])
    assert failed.status == "error" and "401" in failed.title and "nope" not in json.dumps(failed.model_dump(mode="json"))


async def test_monitoring_snapshot_check(api_url: str, healthy_lab: SupabaseTarget) -> None:
    target = SupabaseTarget(database_url=healthy_lab.database_url, monitoring_url=f"{api_url}/api/monitoring/snapshot")
    (finding,) = await MonitoringSnapshotCheck(target).run(context_for(target)[0])
    assert finding.status == "warn" and finding.evidence == ["auth: error"]
    down = SupabaseTarget(database_url=healthy_lab.database_url, monitoring_url="http://127.0.0.1:1/snapshot")
    (error,) = await MonitoringSnapshotCheck(down).run(context_for(down)[0])
    assert error.status == "error"
