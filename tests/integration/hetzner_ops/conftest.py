"""The host labs (sshd + PM2 + Caddy, see tests/helpers/hetzner_lab.py), one per module: ours and
the second one laid out as others deploy (labs/hetzner_alt); every test here runs on both."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator

import pytest

from helpers.hetzner_lab import HetznerLab, start_lab
from support_mcp.executors.ssh import SSHExecutor
from support_mcp.labs.hetzner_alt import HetznerAltLab


@pytest.fixture(scope="module", params=["hetzner", "hetzner_alt"])
def lab(request: pytest.FixtureRequest) -> Iterator[HetznerLab]:
    if not all(shutil.which(p) for p in ("caddy", "pm2", "node")) or not shutil.os.path.exists("/usr/sbin/sshd"):
        pytest.fail("hetzner lab programs missing: run scripts/labs/hetzner")
    lab = start_lab(kind=HetznerAltLab if request.param == "hetzner_alt" else HetznerLab)
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
