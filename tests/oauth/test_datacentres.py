"""Only known Zoho hosts (or exactly the configured override) are trusted."""

from __future__ import annotations

import pytest

from oauth.datacentres import UntrustedHost, ZohoHosts, data_centre_name, data_centre_of_api

REAL = ZohoHosts()


@pytest.mark.parametrize(
    ("location", "server", "expected"),
    [
        ("eu", "https://accounts.zoho.eu", ("eu", "https://accounts.zoho.eu")),
        ("us", "https://accounts.zoho.com", ("us", "https://accounts.zoho.com")),
        (None, "https://accounts.zoho.com.au", ("au", "https://accounts.zoho.com.au")),
        ("ca", "https://accounts.zohocloud.ca/", ("ca", "https://accounts.zohocloud.ca")),
        ("in", None, ("in", "https://accounts.zoho.in")),
        ("EU", "HTTPS://ACCOUNTS.ZOHO.EU", ("eu", "https://accounts.zoho.eu")),
    ],
)
def test_known_accounts_servers_are_accepted(location, server, expected):
    assert REAL.accounts_server(location, server) == expected


@pytest.mark.parametrize(
    ("location", "server"),
    [
        ("us", "https://accounts.zoho.com.evil.test"),
        ("us", "http://accounts.zoho.com"),
        ("us", "https://accounts.zoho.com@evil.test"),
        ("us", "https://evil.test/accounts.zoho.com"),
        ("us", "https://accounts.zoho.com:8443"),
        ("eu", "https://accounts.zoho.com"),
        ("mars", None),
        (None, None),
        ("us", "javascript:alert(1)"),
    ],
)
def test_anything_else_is_refused(location, server):
    with pytest.raises(UntrustedHost):
        REAL.accounts_server(location, server)


def test_override_is_the_only_accepted_server():
    hosts = ZohoHosts(accounts_override="http://127.0.0.1:9000", api_override="http://127.0.0.1:9000")
    assert hosts.accounts_server("us", "http://127.0.0.1:9000") == ("us", "http://127.0.0.1:9000")
    with pytest.raises(UntrustedHost):
        hosts.accounts_server("us", "https://accounts.zoho.com")
    assert hosts.api_domain("http://127.0.0.1:9000", "us") == "http://127.0.0.1:9000"
    with pytest.raises(UntrustedHost):
        hosts.api_domain("https://www.zohoapis.com", "us")


@pytest.mark.parametrize(
    "domain",
    [
        "https://www.zohoapis.eu",
        "https://sandbox.zohoapis.com",
        "https://developer.zohoapis.com.au",
        "https://www.zohoapis.ca",
    ],
)
def test_zoho_api_domains_are_accepted(domain):
    assert REAL.api_domain(domain, "us") == domain


@pytest.mark.parametrize(
    "domain",
    [
        "https://www.zohoapis.com.evil.test",
        "http://www.zohoapis.com",
        "https://zohoapis.com",
        "https://www.zohoapis.com/x",
        "https://evil.test",
    ],
)
def test_other_api_domains_are_refused(domain):
    with pytest.raises(UntrustedHost):
        REAL.api_domain(domain, "us")


def test_missing_api_domain_falls_back_to_the_data_centre():
    assert REAL.api_domain(None, "eu") == "https://www.zohoapis.eu"
    assert data_centre_name("eu") == "Europe" and data_centre_name("xx") == "XX"


@pytest.mark.parametrize(
    "server",
    [
        "http://127.0.0.1:99999",
        "https://accounts.zoho.com:abc",
        "http://[::1",
        "https://accounts.zoho.com:0",
        "https://accounts.zoho.com:443",
        "//accounts.zoho.com",
        "https://accounts.zoho.com?x=1",
        "https://accounts.zoho.com#x",
    ],
)
def test_malformed_servers_are_refused_as_untrusted_never_crash(server):
    for hosts in (REAL, ZohoHosts(accounts_override="https://accounts.zoho.com")):
        with pytest.raises(UntrustedHost):
            hosts.accounts_server("us", server)


def test_with_an_override_an_unknown_location_is_still_refused():
    hosts = ZohoHosts(accounts_override="http://127.0.0.1:9000")
    assert hosts.accounts_server("eu", None) == ("eu", "http://127.0.0.1:9000")
    assert hosts.accounts_server(None, None) == ("us", "http://127.0.0.1:9000")
    for location in ("mars", "evil.test", "us.evil"):
        with pytest.raises(UntrustedHost):
            hosts.accounts_server(location, "http://127.0.0.1:9000")


def test_every_real_data_centre_is_trusted_for_its_own_location_only():
    from oauth.datacentres import DATA_CENTRES

    for code, dc in DATA_CENTRES.items():
        assert REAL.accounts_server(code, dc.accounts_server) == (code, dc.accounts_server)
        assert REAL.api_domain(f"https://www.zohoapis{dc.api_suffix}", code) == f"https://www.zohoapis{dc.api_suffix}"
        other = next(o for o in DATA_CENTRES.values() if o.code != code)
        with pytest.raises(UntrustedHost):
            REAL.accounts_server(other.code, dc.accounts_server)


@pytest.mark.parametrize(
    ("api_domain", "location"),
    [
        ("https://www.zohoapis.eu", "eu"),
        ("https://sandbox.zohoapis.com.au", "au"),
        ("https://www.zohoapis.com", "us"),
        ("https://www.zohoapis.com.evil.test", None),  # not Zoho's
        ("http://127.0.0.1:8081", None),  # an override (an emulator, a proxy): nothing to tell from it
        ("", None),
        (None, None),
    ],
)
def test_an_api_domain_names_its_data_centre_only_when_it_is_zohos(api_domain, location):
    assert data_centre_of_api(api_domain) == location
