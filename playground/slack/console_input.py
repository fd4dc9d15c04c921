"""Reading the person's lines without blocking the event loop (the servers keep serving while they type).

A daemon thread does the blocking reads, one per request, so an unfinished `input()` never holds up the
process at exit. On a terminal it uses `input()` (line editing, history); otherwise it reads lines until EOF
and echoes each after its prompt, so a piped session reads like a transcript.
"""

from __future__ import annotations

import asyncio
import queue
import sys
import threading
from typing import TextIO


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class LineReader:
    """`await reader.read(prompt)` → the next line without its newline, or None at end of input."""

    def __init__(self, stdin: TextIO | None, stdout: TextIO) -> None:
        self._stream = stdin if stdin is not None else sys.stdin
        self._out = stdout
        self.interactive = stdin is None and stdout is sys.stdout and is_terminal(sys.stdin)
        self._requests: queue.Queue[tuple[str, asyncio.AbstractEventLoop, asyncio.Future[str | None]]] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="console-input", daemon=True)
        self._thread.start()
        self._ended = False

    def _read_blocking(self, prompt: str) -> str | None:
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
        line = self._stream.readline()
        return None if line == "" else line.rstrip("\r\n")

    def _serve(self) -> None:
        while True:
            prompt, loop, future = self._requests.get()
            try:
                line = self._read_blocking(prompt)
            except (OSError, ValueError):
                line = None
            try:
                loop.call_soon_threadsafe(lambda f=future, v=line: f.done() or f.set_result(v))
            except RuntimeError:  # the loop is gone: nobody is waiting any more
                return
            if line is None:
                return

    async def read(self, prompt: str) -> str | None:
        """Show `prompt` and wait for a line (None once input has ended)."""
        if self._ended:
            return None
        if not self.interactive:
            self._out.write(prompt)
            self._out.flush()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()
        self._requests.put((prompt, loop, future))
        line = await future
        if line is None:
            self._ended = True
            if not self.interactive:
                self._out.write("\n")
        elif not self.interactive:
            self._out.write(line + "\n")
        self._out.flush()
        return line
