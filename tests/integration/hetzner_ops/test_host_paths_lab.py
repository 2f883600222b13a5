"""Symbolic links in the deploy folder, on the real lab host over SSH/SFTP (issue 10, item 1).

A path is judged where the host resolves it: links that stay inside the deploy folder work
(`current → releases/…` as real deployments have them), links that lead out — to `/`, up with
`..`, through a chain — are refused with the link named, and a link swapped in between dry-run
and apply changes the fingerprint, so apply is refused."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.hetzner_lab import HetznerLab, check_context
from support_mcp.agents.hetzner_ops.file_repairs import ConfigFixRepair
from support_mcp.domain.errors import PolicyViolation
from support_mcp.executors.ssh import SSHExecutor


@pytest.fixture
def links(healthy: HetznerLab) -> Iterator[list[Path]]:
    """Links and folders a test made in the deploy folder, removed afterwards."""
    made: list[Path] = []
    yield made
    for path in reversed(made):
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)


def _link(healthy: HetznerLab, made: list[Path], at: Path, to: str) -> Path:
    healthy.as_user(["ln", "-sfn", to, str(at)])
    made.append(at)
    return at


def _dir(healthy: HetznerLab, made: list[Path], at: Path) -> Path:
    if not at.exists():  # a folder of the lab itself (the second lab's shared/) is never removed
        made.append(at)
    healthy.as_user(["mkdir", "-p", str(at)])
    return at


def _base(healthy: HetznerLab, made: list[Path]) -> Path:
    """A folder of this test's own inside the deploy folder (the second lab has a `current`,
    `releases/` and `shared/` of its own, which the tests must not replace)."""
    base = healthy.deploy_root / "paths-test"
    healthy.as_user(["mkdir", "-p", str(base)])
    made.insert(0, base)
    return base


def _env_text(healthy: HetznerLab) -> str:
    return healthy.env_file.read_text()


@pytest.mark.parametrize("layout", ["to_root", "up_dotdot", "chain"])
async def test_a_link_leading_out_of_the_deploy_folder_is_refused_and_named(
        healthy: HetznerLab, ssh: SSHExecutor, links: list[Path], layout: str) -> None:
    shared = _dir(healthy, links, _base(healthy, links) / "shared")
    if layout == "to_root":
        link = _link(healthy, links, shared / "rootlink", "/")
        path = link / "etc" / "passwd"
    elif layout == "up_dotdot":
        link = _link(healthy, links, shared / "up", "../../../..")  # deploy_root/paths-test/shared -> …/var
        path = link / "caddy-lab-secret.env"
        (healthy.deploy_root.parents[1] / "caddy-lab-secret.env").write_text("TOKEN=outside\n")
        links.append(healthy.deploy_root.parents[1] / "caddy-lab-secret.env")
    else:
        _link(healthy, links, shared / "c", "/etc")
        _link(healthy, links, shared / "b", "c")
        link = _link(healthy, links, shared / "a", "b")
        path = link / "hostname"
    repair = ConfigFixRepair(healthy.host_target())
    ctx, recorder = check_context(ssh)
    with pytest.raises(PolicyViolation) as refused:
        await repair.plan(ctx, {"path": str(path), "set": {"X": "1"}})
    message = str(refused.value)
    assert "symbolic link" in message and "outside the deploy folder" in message, message
    assert str(link) in message or str(shared / "c") in message, message
    assert not _beyond_discovery(recorder.commands)  # refused before anything ran on the path
    assert "root:x:0:0" not in message


async def test_a_link_inside_the_deploy_folder_is_followed_and_stays_a_link(
        healthy: HetznerLab, ssh: SSHExecutor, links: list[Path]) -> None:
    base = _base(healthy, links)
    release = _dir(healthy, links, base / "releases" / "20261203T080000Z")
    healthy.as_user(["cp", str(healthy.env_file), str(release / ".env.production")])
    current = _link(healthy, links, base / "current", "releases/20261203T080000Z")
    repair = ConfigFixRepair(healthy.host_target())
    ctx, _ = check_context(ssh)
    steps = await repair.plan(ctx, {"path": str(current / ".env.production"), "set": {"FEATURE_X": "1"}})
    file_step = next(s for s in steps if s.kind == "file")
    assert file_step.payload["path"] == str(release / ".env.production")  # resolved on the host
    dry = await repair.dry_run(ctx, steps)
    assert dry.ok, dry.output
    await ssh.write_file(file_step.payload["path"], (await repair.approved_content(ctx, file_step.payload)).encode())
    assert current.is_symlink() and "FEATURE_X=1" in (release / ".env.production").read_text()


async def test_a_link_swapped_in_after_the_dry_run_changes_the_fingerprint(
        healthy: HetznerLab, ssh: SSHExecutor, links: list[Path]) -> None:
    base = _base(healthy, links)
    releases = base / "releases"
    one, two = _dir(healthy, links, releases / "one"), _dir(healthy, links, releases / "two")
    for release in (one, two):
        healthy.as_user(["cp", str(healthy.env_file), str(release / ".env.production")])
    current = _link(healthy, links, base / "current", "releases/one")
    repair = ConfigFixRepair(healthy.host_target())
    ctx, _ = check_context(ssh)
    steps = await repair.plan(ctx, {"path": str(current / ".env.production"), "set": {"FEATURE_X": "1"}})
    dry = await repair.dry_run(ctx, steps)
    assert dry.ok and await repair.fingerprint(ctx, steps) == dry.fingerprint
    # the same content, but `current` now points elsewhere: the plan would write another file
    _link(healthy, links, current, "releases/two")
    assert await repair.fingerprint(ctx, steps) != dry.fingerprint
    # and a link out of the folder: the fingerprint says so, a new plan is refused
    _link(healthy, links, current, "/etc")
    assert await repair.fingerprint(ctx, steps) != dry.fingerprint
    with pytest.raises(PolicyViolation, match="symbolic link"):
        await repair.plan(ctx, {"path": str(current / "hostname"), "set": {"X": "1"}})


async def test_reads_and_writes_never_go_through_a_link(healthy: HetznerLab, ssh: SSHExecutor,
                                                         links: list[Path]) -> None:
    outside = healthy.deploy_root.parents[1] / "victim.txt"
    outside.write_text("untouched\n")
    os.chmod(outside, 0o666)
    links.append(outside)
    link = _link(healthy, links, _base(healthy, links) / "victim-link", str(outside))
    with pytest.raises(PolicyViolation, match="symbolic link"):
        await ssh.write_file(str(link), b"overwritten\n")
    with pytest.raises(PolicyViolation, match="symbolic link"):
        await ssh.read_file(str(link), 1000)
    assert outside.read_text() == "untouched\n" and link.is_symlink()
    assert await ssh.realpath(str(link)) == str(outside)
    with contextlib.suppress(FileNotFoundError):
        assert await ssh.realpath(str(healthy.deploy_root / "not-yet" / "x.env")) == str(
            healthy.deploy_root / "not-yet" / "x.env")


async def test_a_link_leading_out_is_a_finding_that_names_it(healthy: HetznerLab, ssh: SSHExecutor,
                                                              links: list[Path]) -> None:
    from support_mcp.agents.hetzner_ops.health_checks import DeployLinksCheck
    from support_mcp.domain.models import CheckStatus

    check = DeployLinksCheck(healthy.host_target())
    ctx, _ = check_context(ssh)
    base = _base(healthy, links)
    releases = _dir(healthy, links, base / "releases" / "one")
    _link(healthy, links, base / "current", "releases/one")
    [fine] = await check.run(ctx)
    assert fine.status == CheckStatus.OK and fine.data["outside"] == [] and fine.data["links"] >= 1
    shared = _dir(healthy, links, base / "shared")
    _link(healthy, links, shared / "rootlink", "/")
    [found] = await check.run(ctx)
    assert found.status == CheckStatus.WARN
    assert found.data["outside"] == [f"{shared / 'rootlink'} → /"], found.data
    assert str(shared / "rootlink") in found.title
    del releases


async def test_a_build_id_that_links_out_is_named_and_not_read(healthy: HetznerLab, ssh: SSHExecutor,
                                                                links: list[Path]) -> None:
    from support_mcp.agents.hetzner_ops.checks import DeployAgeCheck
    from support_mcp.domain.models import CheckStatus

    build_id = healthy.frontend / ".next" / "BUILD_ID"
    original = build_id.read_text()
    build_id.unlink()
    try:
        healthy.as_user(["ln", "-s", "/etc/hostname", str(build_id)])
        ctx, recorder = check_context(ssh)
        [finding] = await DeployAgeCheck(healthy.host_target()).run(ctx)
        assert finding.status == CheckStatus.FAIL and finding.data["link_outside"]
        assert str(build_id) in finding.title and "/etc/hostname" in finding.title
        assert _beyond_discovery(recorder.commands) == []  # neither stat nor cat ran on it
    finally:
        build_id.unlink(missing_ok=True)
        build_id.write_text(original)
        owner = build_id.parent.stat()
        os.chown(build_id, owner.st_uid, owner.st_gid)  # the lab user rebuilds it later


def _beyond_discovery(commands: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """What ran besides finding the PM2 daemon and the app (`ss -xlp`, `pm2 jlist`; layout.py)."""
    return [c for c in commands if c not in {("ss", "-xlp"), ("pm2", "jlist")}]
