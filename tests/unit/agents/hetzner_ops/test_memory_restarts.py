"""PM2's daemon log as `pm2 logs PM2 --nostream` prints it (recorded from PM2 5 on the host lab,
tests/fixtures/hetzner_ops/pm2_daemon_log/): restarts over max_memory_restart, counted since the
app was last restarted by hand."""

from __future__ import annotations

from pathlib import Path

from support_mcp.agents.hetzner_ops.parsers import memory_restarts

LOGS = Path(__file__).resolve().parents[3] / "fixtures" / "hetzner_ops" / "pm2_daemon_log"
APP = "whatsapp-bot-builder"


def test_a_loop_over_the_memory_limit_is_counted_with_the_last_figures() -> None:
    found = memory_restarts((LOGS / "memory_loop.txt").read_text(), 0, APP)
    assert found.count == 2 and found.limit == 209715200 and found.memory is not None and found.memory > found.limit
    assert found.last_line is not None and "exceeds --max-memory-restart" in found.last_line


def test_a_restart_by_hand_ends_the_episode() -> None:
    assert memory_restarts((LOGS / "memory_loop_then_restarted.txt").read_text(), 0, APP).count == 0


def test_another_app_and_another_id_are_not_counted() -> None:
    text = (LOGS / "memory_loop.txt").read_text()
    assert memory_restarts(text, 1, "botbau-worker").count == 0
    assert memory_restarts("", 0, APP).count == 0
