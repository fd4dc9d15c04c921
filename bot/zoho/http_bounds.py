"""Bounding every HTTP call the Zoho SDK makes, and remembering what the last one answered.

The SDK calls the module-level `requests.get/post/put/patch/delete` from two modules: the CRM connector
(`crm/api/util/api_http_connector.py`) and the OAuth token (`api/authenticator/oauth_token.py`, refresh and
code exchange). Only its CRM GETs carry a timeout (from SDKConfig); POST/PUT/PATCH/DELETE and every token call
have none, so a hung Zoho would pin a worker thread forever. `install()` replaces the `requests` name in exactly
those two modules with `BoundedRequests`, which gives every call without a timeout the (connect, read) timeout
of the current worker thread (`use_timeouts`), sends it over the thread's kept-alive session (module-level
`requests` opens a new connection, and a new TLS handshake, per call), and records the status and `Retry-After`
of each answer for that thread (`last_answer`): the SDK drops both when it cannot parse a body. Nothing else in
the process is touched.

The environment's proxy and CA settings (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE, ...) are read once per
Zoho origin and then handed to every call, instead of `requests` looking them up again on each one; `~/.netrc`
is never read: the SDK's Authorization header is the only credential a call carries.

No call follows a redirect. The SDK asks `requests` to follow them in its code exchange and token revocation
(and `requests` follows a 307/308 with the same POST body), so a redirect from a "Zoho" host would carry the
client secret, a grant code or a refresh token to whatever host it names. And where the SDK does not follow, it
reads the redirect's own body: a token refresh answered 307 would save that body's access token as the user's.
So every call is sent with `allow_redirects=False`, whatever the SDK asked, and a 3xx answer raises `ZohoRedirected`
(a `requests` error): the call fails the way an unreachable Zoho does, and nothing of that answer is read.
"""

from __future__ import annotations

import http.cookiejar
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

DEFAULT_TIMEOUTS = (5.0, 15.0)
_local = threading.local()
_install_lock = threading.Lock()
_environments: dict[tuple[str, str], dict[str, Any]] = {}  # (scheme, host:port) -> proxies, verify, cert
_environment_lock = threading.Lock()


@dataclass(frozen=True)
class Answer:
    """What the last HTTP answer in this thread said, as far as errors go."""

    status: int
    retry_after: str | None
    content_type: str | None


def use_timeouts(connect: float, read: float) -> None:
    """Every SDK call made from this thread from now on times out after `connect`/`read` seconds."""
    _local.timeouts = (connect, read)


def forget_last_answer() -> None:
    _local.answer = None


def last_answer() -> Answer | None:
    """The last answer the SDK received in this thread since `forget_last_answer`, if any."""
    return getattr(_local, "answer", None)


def _session() -> requests.Session:
    """This thread's HTTP session: connections to Zoho are kept alive between calls (no TLS handshake per call).

    It keeps no cookies: a worker thread serves one user after another, and nothing of one may ride along with
    the next (authentication is the Authorization header the SDK sets on each call).
    """
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.trust_env = False  # the environment comes from `_environment`, read once per origin
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        _local.session = session
    return session


def _environment(url: str) -> dict[str, Any]:
    """The proxies, CA bundle and client certificate the environment gives calls to `url`'s origin, as `requests`
    itself would find them (NO_PROXY included); looked up once per origin."""
    origin = tuple(urlsplit(url)[:2])
    found = _environments.get(origin)
    if found is None:
        with _environment_lock:
            looker = requests.Session()
            merged = looker.merge_environment_settings(url, {}, None, None, None)
            looker.close()
            found = _environments[origin] = {name: merged[name] for name in ("proxies", "verify", "cert")}
    return found


class ZohoRedirected(requests.exceptions.RequestException):
    """Zoho answered a redirect; it is never followed, and its body is not Zoho's answer."""


class BoundedRequests:
    """Stands in for the `requests` module inside the SDK: same functions, always with a timeout."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = getattr(_local, "timeouts", DEFAULT_TIMEOUTS)
        kwargs["allow_redirects"] = False
        for name, value in _environment(url).items():
            if kwargs.get(name) is None:  # the SDK's own proxy setting, when it has one, wins
                kwargs[name] = value
        response: requests.Response = _session().request(method, url, **kwargs)
        _local.answer = Answer(
            response.status_code, response.headers.get("Retry-After"), response.headers.get("Content-Type")
        )
        if 300 <= response.status_code < 400:
            response.close()
            raise ZohoRedirected(f"Zoho answered {response.status_code} (a redirect, not followed)")
        return response

    def get(self, url: str, params: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, params=params, **kwargs)

    def post(self, url: str, data: Any = None, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, data=data, json=json, **kwargs)

    def put(self, url: str, data: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("PUT", url, data=data, **kwargs)

    def patch(self, url: str, data: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", url, data=data, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", url, **kwargs)


def install() -> None:
    """Put BoundedRequests in the SDK's HTTP connector and OAuth token modules (idempotent)."""
    from zohocrmsdk.src.com.zoho.api.authenticator import oauth_token
    from zohocrmsdk.src.com.zoho.crm.api.util import api_http_connector

    with _install_lock:
        for module in (api_http_connector, oauth_token):
            if not isinstance(module.requests, BoundedRequests):
                module.requests = BoundedRequests(requests)  # type: ignore[attr-defined]


def installed() -> bool:
    from zohocrmsdk.src.com.zoho.api.authenticator import oauth_token
    from zohocrmsdk.src.com.zoho.crm.api.util import api_http_connector

    return all(isinstance(m.requests, BoundedRequests) for m in (api_http_connector, oauth_token))
