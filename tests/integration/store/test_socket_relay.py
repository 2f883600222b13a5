"""`labs.relay.SocketRelay` in front of the embedded server's Unix socket (its only listener):
psycopg over the loopback port reaches the same cluster, several connections at once keep their
own sessions, a connection ends when the client closes it, and `stop()` ends the rest."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from support_mcp.labs.relay import SocketRelay
from support_mcp.store.embedded import EmbeddedServer, start_embedded

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    parent = Path(tempfile.mkdtemp(prefix="support_mcp_relay_", dir="/tmp"))
    parent.chmod(0o755)
    embedded = start_embedded(parent / "pgdata")
    yield embedded
    embedded.stop()
    shutil.rmtree(parent, ignore_errors=True)


def test_the_relay_reaches_the_embedded_server_over_loopback(server: EmbeddedServer) -> None:
    info = psycopg.conninfo.conninfo_to_dict(server.dsn)
    relay = SocketRelay(Path(str(info["host"])) / f".s.PGSQL.{info.get('port') or 5432}")
    port = relay.start()
    try:
        dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        with psycopg.connect(server.dsn) as direct:
            data_directory = direct.execute("show data_directory").fetchone()

        def session(n: int) -> tuple[int, object]:
            with psycopg.connect(dsn) as conn:
                conn.execute("select set_config('app.n', %s, false)", (str(n),))
                big = conn.execute("select repeat('x', 200000)").fetchone()[0]  # type: ignore[index]
                assert len(big) == 200000
                return int(conn.execute("select current_setting('app.n')").fetchone()[0]), \
                    conn.execute("show data_directory").fetchone()  # type: ignore[index]

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(session, range(16)))
        assert [n for n, _ in results] == list(range(16))
        assert {d for _, d in results} == {data_directory}
        held = psycopg.connect(dsn)
        assert held.execute("select 1").fetchone() == (1,)
    finally:
        relay.stop()
    with pytest.raises(psycopg.OperationalError):
        held.execute("select 1")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=3)


def test_a_missing_socket_is_refused_before_listening(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        SocketRelay(tmp_path / ".s.PGSQL.5432").start()
