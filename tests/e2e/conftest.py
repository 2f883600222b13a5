"""MCP servers over services on a fresh database, one per identity, through the SDK's client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from mcp.client import Client

from helpers.mcp_http import Gate, serve_http
from helpers.replay import PRESSURE, ReplayExecutor
from support_mcp.bootstrap import Services, Settings, open_services
from support_mcp.mcp.server import build_server
from support_mcp.policy.scopes import identity


@pytest.fixture
async def services(fresh_dsn: str) -> AsyncIterator[Services]:
    settings = Settings(database_url=fresh_dsn)
    async with open_services(settings, executors={"local": ReplayExecutor(PRESSURE)}) as s:
        yield s


ClientFactory = Callable[[str], AbstractAsyncContextManager[Client]]


@pytest.fixture
def connect(services: Services) -> ClientFactory:
    """`async with connect("tier1") as client:` — an in-memory MCP session as that identity."""

    @asynccontextmanager
    async def _connect(name: str) -> AsyncIterator[Client]:
        server = build_server(services, default_identity=identity(name))
        async with Client(server) as client:
            yield client

    return _connect


@pytest.fixture
async def served(fresh_dsn: str, tmp_path: Path) -> AsyncIterator[Gate]:
    """The HTTP server of helpers.mcp_http on a fresh database (the SDK's client over HTTP)."""
    async with serve_http(fresh_dsn, tmp_path) as gate:
        yield gate
