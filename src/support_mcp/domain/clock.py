"""Time comes from an injected clock so that tests and resumed runs agree on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The system clock, UTC-aware."""
    return datetime.now(UTC)
