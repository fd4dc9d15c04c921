"""Zoho's data centres, and which hosts we trust to receive our client secret or tokens.

The callback's `location` / `accounts-server` parameters and the token answer's `api_domain` come from the
browser or the network: they are accepted only when they name a known Zoho host (or exactly the configured
override), so a forged `accounts-server` never receives the client secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class DataCentre:
    code: str  # Zoho's `location` value
    name: str
    accounts_server: str
    api_suffix: str  # API domains are https://{www|sandbox|developer}.zohoapis{suffix}
    crm_host: str  # where people open Zoho CRM in a browser (its record links start https://{crm_host}/crm/)


DATA_CENTRES: dict[str, DataCentre] = {
    dc.code: dc
    for dc in (
        DataCentre("us", "United States", "https://accounts.zoho.com", ".com", "crm.zoho.com"),
        DataCentre("eu", "Europe", "https://accounts.zoho.eu", ".eu", "crm.zoho.eu"),
        DataCentre("in", "India", "https://accounts.zoho.in", ".in", "crm.zoho.in"),
        DataCentre("au", "Australia", "https://accounts.zoho.com.au", ".com.au", "crm.zoho.com.au"),
        DataCentre("jp", "Japan", "https://accounts.zoho.jp", ".jp", "crm.zoho.jp"),
        DataCentre("cn", "China", "https://accounts.zoho.com.cn", ".com.cn", "crm.zoho.com.cn"),
        DataCentre("ca", "Canada", "https://accounts.zohocloud.ca", ".ca", "crm.zohocloud.ca"),
        DataCentre("sa", "Saudi Arabia", "https://accounts.zoho.sa", ".sa", "crm.zoho.sa"),
        DataCentre("uk", "United Kingdom", "https://accounts.zoho.uk", ".uk", "crm.zoho.uk"),
    )
}
_API_PREFIXES = ("www", "sandbox", "developer")
DEFAULT_ACCOUNTS_SERVER = "https://accounts.zoho.com"  # a Multi-DC client's entry point for every DC


class UntrustedHost(ValueError):
    """A URL that is not a known Zoho host (nor the configured override)."""


def data_centre_name(code: str) -> str:
    """A person-readable name for a location code ("eu" → "Europe"); unknown codes as given."""
    dc = DATA_CENTRES.get(code.lower())
    return dc.name if dc else code.upper()


def data_centre_of_api(api_domain: str | None) -> str | None:
    """The location code of a Zoho API domain (`https://www.zohoapis.eu` → "eu"); None for any other URL (an
    override such as an emulator's): then nothing can be told from it."""
    try:
        parts = urlsplit((api_domain or "").strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    for dc in DATA_CENTRES.values():
        if any(host == f"{p}.zohoapis{dc.api_suffix}" for p in _API_PREFIXES):
            return dc.code
    return None


def _origin(url: str) -> str:
    """`scheme://host[:port]` of a URL, refusing user info, paths, queries and fragments."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError for a port that is not a number in 0-65535
    except ValueError:
        raise UntrustedHost(f"not a valid URL: {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UntrustedHost(f"not an http(s) URL: {url!r}")
    if parts.username or parts.password or parts.query or parts.fragment or parts.path not in ("", "/"):
        raise UntrustedHost(f"not a bare origin: {url!r}")
    return f"{parts.scheme}://{parts.hostname.lower()}{'' if port is None else f':{port}'}"


@dataclass(frozen=True)
class ZohoHosts:
    """The trust policy for Zoho URLs: known data centres, or exactly the overrides when they are set."""

    accounts_override: str | None = None
    api_override: str | None = None

    @property
    def authorize_base(self) -> str:
        return self.accounts_override or DEFAULT_ACCOUNTS_SERVER

    def accounts_server(self, location: str | None, accounts_server: str | None) -> tuple[str, str]:
        """(location code, accounts server) for a callback, or UntrustedHost.

        With an override only that exact origin is accepted, and `location` (if given) must still name a known
        data centre. Otherwise `accounts-server` must be the accounts server of a known data centre, and agree
        with `location` when both are given.
        """
        loc = (location or "").strip().lower()
        if self.accounts_override is not None:
            if accounts_server is not None and _origin(accounts_server) != _origin(self.accounts_override):
                raise UntrustedHost(f"accounts-server {accounts_server!r} is not the configured accounts server")
            if loc and loc not in DATA_CENTRES:
                # The override says where to talk, not which data centre; an unknown one is still forged.
                raise UntrustedHost(f"location {location!r} is not a known Zoho data centre")
            return (loc or "us", self.accounts_override)
        if accounts_server:
            origin = _origin(accounts_server)
            matches = [dc for dc in DATA_CENTRES.values() if dc.accounts_server == origin]
            if not matches:
                raise UntrustedHost(f"accounts-server {accounts_server!r} is not a Zoho accounts server")
            dc = matches[0]
            if loc and loc != dc.code:
                raise UntrustedHost(f"location {location!r} does not match accounts-server {accounts_server!r}")
            return (dc.code, dc.accounts_server)
        if loc in DATA_CENTRES:
            return (loc, DATA_CENTRES[loc].accounts_server)
        raise UntrustedHost(f"location {location!r} is not a known Zoho data centre")

    def api_domain(self, api_domain: str | None, location: str) -> str:
        """The API domain from a token answer, if trusted; else UntrustedHost."""
        if self.api_override is not None:
            if api_domain is not None and _origin(api_domain) != _origin(self.api_override):
                raise UntrustedHost(f"api_domain {api_domain!r} is not the configured API domain")
            return self.api_override
        if not api_domain:
            dc = DATA_CENTRES.get(location)
            if dc is None:
                raise UntrustedHost("Zoho's answer carried no api_domain")
            return f"https://www.zohoapis{dc.api_suffix}"
        origin = _origin(api_domain)
        parts = urlsplit(origin)
        if parts.scheme == "https" and parts.port is None and parts.hostname:
            for dc in DATA_CENTRES.values():
                if any(parts.hostname == f"{p}.zohoapis{dc.api_suffix}" for p in _API_PREFIXES):
                    return origin
        raise UntrustedHost(f"api_domain {api_domain!r} is not a Zoho API domain")
