"""An in-process `support-mcp` HTTP server for tests through the SDK client over streamable HTTP.

`http_app` under uvicorn on a loopback port — the real transport, bearer-token auth, sessions and
elicitation — over services whose one repair is the small real `SetConfigValue`
(tests/helpers/repairs.py), so that a plan can be drafted, approved and applied without a lab.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx2
import mcp_types as types
import uvicorn
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from helpers.processes import free_port
from helpers.repairs import AGENT, DiskFull, SetConfigValue
from support_mcp.bootstrap import Services, Settings, open_services
from support_mcp.mcp.server import http_app

AGENT_TOKEN = "hetzner-agent-token-5d0f3b8e2a7c4e1f9b6d"
OTHER_AGENT_TOKEN = "supabase-agent-token-8e2c6a1f4b9d3e7a0c5b"
LEAD_TOKEN = "lead-token-7c1e9a3f5b2d8e4a6c0f91b3"
TIER1_TOKEN = "tier1-token-0b8c2e4f6a1d3c5e7f90a2d4"
TOKENS = {AGENT_TOKEN: AGENT, OTHER_AGENT_TOKEN: "supabase-analyst-agent", LEAD_TOKEN: "tier2-lead",
          TIER1_TOKEN: "tier1"}


@dataclass
class Gate:
    url: str
    services: Services
    config: Path


@asynccontextmanager
async def serve_http(dsn: str, folder: Path, tune: Callable[[Settings], Settings] = lambda s: s) -> AsyncIterator[Gate]:
    """Serve `http_app` on a free loopback port until the block ends."""
    config = folder / ".env.production"
    config.write_text("NODE_ENV=production\nPORT=3001\n")
    settings = tune(replace(Settings(database_url=dsn), http_tokens=TOKENS))
    async with open_services(settings, checks=lambda agent: [DiskFull()],
                             repairs=lambda agent: [SetConfigValue(config)] if agent == AGENT else []) as s:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(http_app(s, settings, host="127.0.0.1", port=port), host="127.0.0.1",
                                               port=port, log_level="warning", lifespan="on"))
        task = asyncio.create_task(server.serve())
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        assert server.started
        try:
            yield Gate(f"http://127.0.0.1:{port}/mcp", s, config)
        finally:
            server.should_exit = True
            await task


def person(answer: dict[str, Any]) -> Any:
    """An elicitation callback that accepts with `answer` and records what it was asked."""
    asked: list[str] = []

    async def callback(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content=answer)

    callback.asked = asked  # type: ignore[attr-defined]
    return callback


@asynccontextmanager
async def session(gate: Gate, token: str, answer: Any = None, *, mode: Any = "auto") -> AsyncIterator[Client]:
    """A client session as `token`'s identity; `mode="legacy"` speaks the initialize handshake
    (protocol 2025-11-25, as the TypeScript SDK and the Inspector do), "auto" the SDK's newest."""
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    async with http, Client(streamable_http_client(gate.url, http_client=http), elicitation_callback=answer,
                            mode=mode) as client:
        yield client




def text_of(result: Any) -> str:
    """The text blocks of a tool result."""
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))
