"""The Zoho SDK's calls honour the operator's environment (HTTP(S)_PROXY, NO_PROXY), read once per Zoho origin,
and carry no credential but the SDK's own Authorization header, whatever a ~/.netrc says.

Two loopback servers that only say who answered: "Zoho" and an HTTP proxy. Each call runs in a thread of its own,
as a fresh CRM worker would (each worker thread keeps its own HTTP session).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.zoho import http_bounds


class _Answers(BaseHTTPRequestHandler):
    """Answers every GET with who it is, the path it was asked for and the Authorization header it got."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.dumps(
            {"who": self.server.who, "path": self.path, "authorization": self.headers.get("Authorization")}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


def _serve(who: str) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    server.who = who  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def zoho() -> Iterator[str]:
    yield from _serve("zoho")


@pytest.fixture
def proxy() -> Iterator[str]:
    yield from _serve("proxy")


@pytest.fixture(autouse=True)
def _fresh_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(http_bounds, "_environments", {})


def _call_from_a_new_worker(url: str, **kwargs: Any) -> dict[str, Any]:
    """What the SDK's GET of `url` got back, sent from a new thread through BoundedRequests."""
    answers: list[Any] = []

    def call() -> None:
        try:
            answers.append(http_bounds.BoundedRequests(requests).get(url, **kwargs).json())
        except Exception as error:  # handed to the test thread
            answers.append(error)

    worker = threading.Thread(target=call)
    worker.start()
    worker.join(20)
    if isinstance(answers[0], Exception):
        raise answers[0]
    return answers[0]


def test_zoho_calls_go_through_the_environments_proxy(zoho: str, proxy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)

    first = _call_from_a_new_worker(f"{zoho}/crm/v8/Leads", proxies=None)
    second = _call_from_a_new_worker(f"{zoho}/crm/v8/Leads/search")

    assert first["who"] == "proxy" and first["path"] == f"{zoho}/crm/v8/Leads"
    assert second["who"] == "proxy" and second["path"] == f"{zoho}/crm/v8/Leads/search"


def test_no_proxy_keeps_a_host_direct(zoho: str, proxy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    answer = _call_from_a_new_worker(f"{zoho}/crm/v8/Leads")

    assert answer["who"] == "zoho" and answer["path"] == "/crm/v8/Leads"


def test_a_netrc_entry_never_replaces_the_sdks_authorization(
    zoho: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password not-for-zoho\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))

    answer = _call_from_a_new_worker(f"{zoho}/crm/v8/Leads", headers={"Authorization": "Zoho-oauthtoken 1000.fake"})

    assert answer["who"] == "zoho" and answer["authorization"] == "Zoho-oauthtoken 1000.fake"
