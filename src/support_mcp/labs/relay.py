"""A loopback TCP port relayed to a Unix socket: how a lab's app reaches the embedded server.

The embedded PostgreSQL (`store.embedded`) listens only on a Unix socket inside its data folder,
which the lab's user may not enter; node-postgres in the lab's app wants a host and a port. The
relay listens on 127.0.0.1 (a free port), and for each connection opens the socket as the process
that started it and copies bytes both ways until either side closes. The server sees a local
socket connection, as `psql` on the same machine would be.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import threading
from pathlib import Path

_CHUNK = 65536


class SocketRelay:
    """127.0.0.1:`port` → `socket_path`, until `stop()`."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.port = 0

    def start(self) -> int:
        """Listen on a free loopback port (returned) and serve connections in threads."""
        if not self.socket_path.exists():
            raise FileNotFoundError(f"no socket at {self.socket_path}")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        self._listener, self.port = listener, listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(listener,), name=f"relay-{self.port}", daemon=True).start()
        return self.port

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                server.connect(str(self.socket_path))
            except OSError:
                client.close()
                server.close()
                continue
            with self._lock:
                self._open.update((client, server))
            ended = threading.Barrier(2, action=functools.partial(self._close, client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink, ended), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, ended: threading.Barrier) -> None:
        """Copy `source` to `sink` until `source` ends; then end `sink`'s writing and, once the
        other direction has ended too, close both."""
        try:
            while data := source.recv(_CHUNK):
                sink.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
        with contextlib.suppress(threading.BrokenBarrierError):
            ended.wait(timeout=3600)

    def _close(self, *sockets: socket.socket) -> None:
        with self._lock:
            for s in sockets:
                self._open.discard(s)
                with contextlib.suppress(OSError):
                    s.close()

    def stop(self) -> None:
        """Stop listening and close every relayed connection."""
        if self._listener is not None:
            with contextlib.suppress(OSError):  # wakes the thread blocked in accept (Linux)
                self._listener.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None
        with self._lock:
            for s in self._open:  # shutdown wakes the pump blocked in recv; close alone would not
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()
            self._open.clear()
