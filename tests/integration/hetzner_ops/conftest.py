"""The hetzner lab (sshd + PM2 + Caddy, see tests/helpers/hetzner_lab.py), one per module."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator

import pytest

from helpers.hetzner_lab import HetznerLab, start_lab
from support_mcp.executors.ssh import SSHExecutor


@pytest.fixture(scope="module")
def lab() -> Iterator[HetznerLab]:
    if not all(shutil.which(p) for p in ("caddy", "pm2", "node")) or not shutil.os.path.exists("/usr/sbin/sshd"):
        pytest.fail("hetzner lab programs missing: run scripts/labs/hetzner")
    lab = start_lab()
    yield lab
    lab.stop()


@pytest.fixture(scope="module")
async def ssh(lab: HetznerLab) -> AsyncIterator[SSHExecutor]:
    executor = lab.executor()
    yield executor
    await executor.close()


@pytest.fixture
def healthy(lab: HetznerLab) -> Iterator[HetznerLab]:
    """The lab, healthy before and after the test (faults are undone)."""
    lab.heal()
    yield lab
    lab.heal()
