"""The SSH executor against the lab's real sshd: pinned host key, key auth, concurrent channels on
one connection, timeouts and output caps."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from helpers.hetzner_lab import LAB_USER, TARGET, HetznerLab
from support_mcp.domain.errors import ExecutionError, InvalidInput
from support_mcp.executors.ssh import SSHExecutor, SSHSettings


def _settings(lab: HetznerLab, **overrides: object) -> SSHSettings:
    base = {"host": "127.0.0.1", "port": lab.ssh_port, "user": LAB_USER, "key_path": lab.root / "client_key",
            "known_hosts": lab.root / "known_hosts"}
    return SSHSettings(**{**base, **overrides})  # type: ignore[arg-type]


async def test_a_host_key_that_does_not_match_the_pin_is_refused(lab: HetznerLab, tmp_path: Path) -> None:
    other = tmp_path / "known_hosts"
    other.write_text(f"[127.0.0.1]:{lab.ssh_port} ssh-ed25519 "
                     "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n")
    executor = SSHExecutor(TARGET, _settings(lab, known_hosts=other))
    with pytest.raises(ExecutionError, match="host key"):
        await executor.run(["uptime"], timeout=10, max_output_bytes=1000)


async def test_no_pin_no_connection_and_wrong_key_is_refused(lab: HetznerLab, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        SSHExecutor(TARGET, _settings(lab, known_hosts=None))
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    executor = SSHExecutor(TARGET, _settings(lab, key_path=tmp_path / "k"))
    with pytest.raises(ExecutionError, match="refused|cannot connect"):
        await executor.run(["uptime"], timeout=10, max_output_bytes=1000)


async def test_concurrent_commands_share_one_connection(ssh: SSHExecutor) -> None:
    results = await asyncio.gather(*(ssh.run(["nproc"], timeout=10, max_output_bytes=100) for _ in range(12)))
    assert all(r.exit_code == 0 and r.stdout.strip().isdigit() for r in results)
    conn = await ssh.connect()
    assert conn is await ssh.connect()


async def test_exit_codes_timeouts_and_output_caps(ssh: SSHExecutor, lab: HetznerLab) -> None:
    failed = await ssh.run(["cat", "/nonexistent"], timeout=10, max_output_bytes=1000)
    assert failed.exit_code == 1 and "No such file" in failed.stderr
    slow = await ssh.run(["sleep", "5"], timeout=0.5, max_output_bytes=1000)
    assert slow.timed_out and slow.exit_code is None and slow.duration_ms < 3000
    big = await ssh.run(["cat", str(lab.frontend / "server.js")], timeout=10, max_output_bytes=200)
    assert big.truncated and "bytes omitted" in big.stdout
    # argv is quoted for the remote shell: metacharacters arrive as data, never as syntax
    quoted = await ssh.run(["echo", "a; id", "$(id)", "`id`"], timeout=10, max_output_bytes=1000)
    assert quoted.stdout.strip() == "a; id $(id) `id`"
