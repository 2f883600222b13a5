"""Services wired over a fresh database, with executors that replay recorded host output."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from helpers.replay import HEALTHY, PRESSURE, ReplayExecutor
from support_mcp.bootstrap import Services, Settings, open_services
from support_mcp.store.database import Database


@pytest.fixture
def settings(fresh_dsn: str) -> Settings:
    return Settings(database_url=fresh_dsn, oncall_assignee="Tier-2 Bereitschaft")


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with open_services(settings, executors={"local": ReplayExecutor(HEALTHY)}) as s:
        yield s


@pytest.fixture
async def pressure_services(settings: Settings) -> AsyncIterator[Services]:
    async with open_services(settings, executors={"local": ReplayExecutor(PRESSURE)}) as s:
        yield s


@pytest.fixture
async def english_services(settings: Settings) -> AsyncIterator[Services]:
    async with open_services(replace(settings, language="en"),
                             executors={"local": ReplayExecutor(PRESSURE)}) as s:
        yield s


__all__ = ["Database"]
