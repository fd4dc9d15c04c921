"""A Zoho emulator running in another process (`python -m playground.zoho`), driven through its control API.

`RemoteZohoEmulator` offers the part of `ZohoEmulator`'s Python API that setting up a stack needs (users, the
client, knobs, seeding, counters), as plain blocking calls: meant for benchmarks and multi-process tests, where
the emulator must not share a process (and a GIL) with the code under test.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .control import SETTABLE

# The playground is not installed (it ships only in the checkout): the child finds it from the checkout's root.
CHECKOUT = Path(__file__).resolve().parents[2]


class RemoteZohoEmulator:
    """Start `python -m playground.zoho` on a free port and control it; `close()` stops it."""

    def __init__(self, host: str = "127.0.0.1", preexec_fn: Callable[[], object] | None = None) -> None:
        """`preexec_fn`: run in the child before the emulator starts (as `subprocess.Popen`'s)."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "playground.zoho", "--host", host, "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=CHECKOUT,
            preexec_fn=preexec_fn,
        )
        line = self._process.stdout.readline() if self._process.stdout else ""
        found = re.search(r"listening on (\S+)", line)
        if not found:
            self._process.kill()
            raise RuntimeError(f"the Zoho emulator did not start: {line!r}")
        self.url: str = found.group(1)

    @property
    def pid(self) -> int:
        """The emulator's process (a benchmark counts its CPU)."""
        return self._process.pid

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + "/_emulator/" + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read() or b"null")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in SETTABLE:
            self._call("POST", "config", {name: value})
        else:
            super().__setattr__(name, value)

    def __getattr__(self, name: str) -> Any:
        if name in SETTABLE:
            return self._call("GET", "state")["config"][name]
        raise AttributeError(name)

    def register_client(self, client_id: str, client_secret: str, redirect_uri: str | list[str]) -> None:
        self._call(
            "POST", "clients", {"client_id": client_id, "client_secret": client_secret, "redirect_uri": redirect_uri}
        )

    def add_user(self, email: str, **details: Any) -> dict[str, Any]:
        return self._call("POST", "users", {"email": email, **details})

    def seed_leads(self, email: str, leads: int | list[dict[str, Any]]) -> list[str]:
        key = "n" if isinstance(leads, int) else "records"
        return self._call("POST", "leads", {"email": email, key: leads})["ids"]

    @property
    def counters(self) -> dict[str, int]:
        return self._call("GET", "state")["counters"]

    def expire_access_tokens(self, email: str | None = None) -> int:
        return self._call("POST", "expire", {"email": email} if email else {})["expired"]

    async def stop(self) -> None:
        self.close()

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
