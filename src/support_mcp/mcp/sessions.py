"""Sessions per identity on the HTTP transport (issue 15): one token holder cannot lock others out.

The SDK limits stateful sessions for the whole server (10,000 by default) and reaps a session
after 30 idle minutes; one identity could fill the limit and every other client got 503 for half
an hour. This ASGI layer sits in front of the SDK's app and keeps, per identity, the sessions it
opened (the `mcp-session-id` the SDK answers an initialize with): an identity at its limit gets
429 for a new session — the others are not affected — until one of its sessions ends (DELETE, the
SDK's idle reaping with the same timeout, a 404 for a session the SDK no longer knows).

Stateless requests (protocol 2026-07-28) open no session and pass untouched.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_HEADER = b"mcp-session-id"


@dataclass
class _Session:
    identity: str
    last_seen: float
    in_flight: int = 0


class SessionsPerIdentity:
    """ASGI middleware: at most `limit` open sessions per identity, idle ones expire after `idle`
    seconds (give the SDK the same idle timeout, so both forget a session together)."""

    def __init__(self, app: ASGIApp, tokens: Mapping[str, str], *, limit: int, idle: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._app = app
        self._tokens = {token.encode(): name for token, name in tokens.items()}
        self.limit = limit
        self.idle = idle
        self._clock = clock
        self._sessions: dict[str, _Session] = {}

    def open_sessions(self, identity: str) -> int:
        self._expire()
        return sum(1 for s in self._sessions.values() if s.identity == identity)

    def _expire(self) -> None:
        now = self._clock()
        for sid in [sid for sid, s in self._sessions.items() if not s.in_flight and now - s.last_seen > self.idle]:
            del self._sessions[sid]

    def _identity(self, headers: list[tuple[bytes, bytes]]) -> str | None:
        for key, value in headers:
            if key.lower() == b"authorization" and value[:7].lower() == b"bearer ":
                given = value[7:].strip()
                found = None
                for token, name in self._tokens.items():
                    if hmac.compare_digest(token, given):
                        found = name
                return found
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
        sid = next((v.decode("latin-1") for k, v in headers if k.lower() == SESSION_HEADER), None)
        if sid is not None:
            await self._in_session(sid, scope, receive, send)
            return
        who = self._identity(headers)
        if who is None or scope.get("method") != "POST":
            await self._app(scope, receive, send)  # the SDK answers: 401, 405, a stateless call …
            return
        if self.open_sessions(who) >= self.limit:
            await _refuse(send, who, self.limit, self.idle)
            return

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                for key, value in message.get("headers") or []:
                    if key.lower() == SESSION_HEADER:
                        self._sessions[value.decode("latin-1")] = _Session(who, self._clock())
            await send(message)

        await self._app(scope, receive, capture)

    async def _in_session(self, sid: str, scope: Scope, receive: Receive, send: Send) -> None:
        session = self._sessions.get(sid)
        if session is not None:
            session.in_flight += 1
            session.last_seen = self._clock()

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message.get("status") == 404:
                self._sessions.pop(sid, None)  # the SDK no longer knows it (reaped, or never was)
            await send(message)

        try:
            await self._app(scope, receive, watch)
        finally:
            if session is not None:
                session.in_flight -= 1
                session.last_seen = self._clock()
                if scope.get("method") == "DELETE":
                    self._sessions.pop(sid, None)


async def _refuse(send: Send, identity: str, limit: int, idle: float) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {
        "code": -32000,
        "message": f"identity {identity!r} has {limit} open sessions, its limit; close one (DELETE) or let one "
                   f"stay idle for {idle:g} s. Other identities are not affected."}}).encode()
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", str(max(1, int(idle))).encode())]})
    await send({"type": "http.response.body", "body": body})
