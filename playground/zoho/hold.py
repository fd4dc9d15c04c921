"""Holding requests while the `hang` knob is set, released from any thread or by the server stopping."""

from __future__ import annotations

import asyncio


class RequestHold:
    """While engaged, `wait()` blocks; disengaging or closing releases every waiter."""

    def __init__(self) -> None:
        self.engaged = False
        self.closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the server's event loop (at start; also re-opens a closed hold)."""
        self._loop = loop
        self._changed = asyncio.Event()
        self.closing = False

    def set(self, engaged: bool) -> None:
        """Engage or release; safe to call from any thread."""
        self.engaged = bool(engaged)
        self._notify()

    def close(self) -> None:
        """Release every waiter for good (the server is stopping)."""
        self.closing = True
        self._notify()

    async def wait(self) -> bool:
        """Wait while engaged; True to go on, False if released because the server is stopping."""
        while self.engaged and not self.closing:
            assert self._changed is not None
            await self._changed.wait()
        return not self.closing

    def _notify(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._pulse)

    def _pulse(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        if event is not None:
            event.set()
