"""Socket Mode: the app connects out (`apps.connections.open` → `GET /socket-mode` WebSocket) and Slack sends
envelopes over it instead of HTTP POSTs (docs/reference/slack.md §7).

Frames: server `{"type": "hello", …}`, then `{"envelope_id", "type": "slash_commands"|"interactive"|
"events_api", "payload", "accepts_response_payload", "retry_attempt", "retry_reason"}`; the app acks with
`{"envelope_id", "payload"?}`. No ack within the timeout is what the user sees as `operation_timeout`.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from playground.slack.delivery import JSON, Delivered


class SocketModeServer:
    """Accepts Socket Mode connections and delivers envelopes over the newest one."""

    def __init__(self, ack_timeout: float) -> None:
        self._timeout = ack_timeout
        self._sockets: list[web.WebSocketResponse] = []
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}

    @property
    def connected(self) -> bool:
        return any(not s.closed for s in self._sockets)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        try:
            await socket.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {"host": "local-emulator", "approximate_connection_time": 3600},
                    "connection_info": {"app_id": "local"},
                }
            )
            async for frame in socket:
                if frame.type == WSMsgType.TEXT:
                    self._on_ack(frame.data)
        finally:
            self._sockets.remove(socket)
        return socket

    def _on_ack(self, data: str) -> None:
        try:
            ack = json.loads(data)
        except ValueError:
            return
        future = self._pending.pop(str(ack.get("envelope_id")), None) if isinstance(ack, dict) else None
        if future is not None and not future.done():
            future.set_result(ack)

    async def deliver(self, kind: str, payload: dict[str, Any]) -> Delivered:
        """Send one envelope; the app's ack payload becomes the answer (text-only acks as text)."""
        socket = next(s for s in reversed(self._sockets) if not s.closed)
        envelope_id = str(uuid.uuid4())
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = future
        await socket.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        try:
            ack = await asyncio.wait_for(future, self._timeout)
        except TimeoutError:
            self._pending.pop(envelope_id, None)
            return Delivered(0, "", error="operation_timeout")
        answer = ack.get("payload")
        if not answer:
            return Delivered(200, "")
        if set(answer) == {"text"}:
            return Delivered(200, str(answer["text"]), "text/plain")
        return Delivered(200, json.dumps(answer), JSON)

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
