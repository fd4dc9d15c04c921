"""deploy/nginx.conf, as shipped, in front of a running bot: HTTPS in, /healthz and signed commands through.

Needs the nginx binary: skipped without it on a developer's machine, failed under REQUIRE_NGINX=1 (.ci/run
installs nginx and sets it).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import shutil
import ssl
import time
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from playground.slack.signing import sign_slack_request
from tests.stack import ANN, free_port

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "nginx.conf"
FORM = "application/x-www-form-urlencoded"

pytestmark = pytest.mark.slow


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
    if found:
        return found
    if os.environ.get("REQUIRE_NGINX") == "1":
        pytest.fail("REQUIRE_NGINX=1 but nginx is not installed (apt-get install nginx)")
    pytest.skip("nginx is not installed (CI installs it and sets REQUIRE_NGINX=1)")


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as Let's Encrypt would lay them out."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def site_for_test(folder: Path, bot_port: int, http_port: int, https_port: int) -> str:
    """The shipped file with only what a machine changes: ports, and certificate paths (IPv6 left out)."""
    cert, key = self_signed(folder)
    site = SHIPPED.read_text()
    changes = {
        "proxy_pass http://127.0.0.1:3000;": f"proxy_pass http://127.0.0.1:{bot_port};",
        "    listen 80;\n": f"    listen 127.0.0.1:{http_port};\n",
        "    listen 443 ssl;\n": f"    listen 127.0.0.1:{https_port} ssl;\n",
        "    listen [::]:80;\n": "",
        "    listen [::]:443 ssl;\n": "",
        "/etc/letsencrypt/live/bot.example.com/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/bot.example.com/privkey.pem": str(key),
        "/var/log/nginx/access.log": str(folder / "access.log"),
    }
    for old, new in changes.items():
        assert old in site, f"deploy/nginx.conf no longer has {old!r}: update this test with it"
        site = site.replace(old, new)
    # Every server of the site logs in the format without query strings (the test below reads that log).
    assert site.count("access_log ") == site.count("server {") == 2
    return site


def main_config(folder: Path, site: str) -> Path:
    temp = folder / "temp"
    temp.mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read this test's private folder
    config = folder / "nginx.conf"
    config.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\n"
        "events { worker_connections 64; }\n"
        "http {\n  access_log off;\n"
        + "".join(
            f"  {kind}_temp_path {temp / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"  include {folder / 'site.conf'};\n}}\n"
    )
    (folder / "site.conf").write_text(site)
    return config


async def wait_until_listening(port: int, process: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise AssertionError(f"nginx exited {process.returncode}: {log.read_text() if log.exists() else ''}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise AssertionError("nginx did not listen within 15 s")


@pytest.fixture
async def proxy(stack, tmp_path):
    """nginx with the shipped site in front of the stack's bot; yields (https base URL, http base URL, CA, the
    folder of its files: access.log among them)."""
    nginx = nginx_binary()
    folder = tmp_path / "nginx"
    folder.mkdir()
    http_port, https_port = free_port(), free_port()
    config = main_config(folder, site_for_test(folder, stack.settings.port, http_port, https_port))
    syntax = await asyncio.create_subprocess_exec(
        nginx, "-t", "-q", "-c", str(config), "-e", str(folder / "error.log"), stderr=asyncio.subprocess.PIPE
    )
    _, complaint = await syntax.communicate()
    assert syntax.returncode == 0, complaint.decode()
    process = await asyncio.create_subprocess_exec(nginx, "-c", str(config), "-e", str(folder / "error.log"))
    try:
        await wait_until_listening(https_port, process, folder / "error.log")
        trust = ssl.create_default_context(cafile=str(folder / "fullchain.pem"))
        yield f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}", trust, folder
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)


async def test_healthz_and_a_signed_command_go_through_nginx(stack, proxy):
    https_url, _, trust, _ = proxy
    # The Slack emulator posts as Slack does, now to nginx over HTTPS: its client trusts this test's certificate.
    stack.slack._actor._http._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust))
    stack.slack.bot_events_url = f"{https_url}/slack/events"

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as http:
        async with http.get(f"{https_url}/healthz") as health:
            assert health.status == 200 and await health.json() == {"status": "ok"}
        result = await stack.command(ANN, "help")
        forged = {**sign_slack_request("not-the-secret", b"command=%2Flead&text=help"), "Content-Type": FORM}
        async with http.post(f"{https_url}/slack/events", data=b"command=%2Flead&text=help", headers=forged) as r:
            forged_status = r.status

    assert result.status == 200, result
    assert any("/lead create" in m.text + str(m.blocks) for m in stack.slack.messages(ANN)), "no help reached Ann"
    assert forged_status == 401  # the bot, behind nginx, still checks every signature


async def test_nginx_turns_away_plain_http_and_oversized_bodies(stack, proxy):
    https_url, http_url, trust, _ = proxy

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as http:
        async with http.get(f"{http_url}/healthz", allow_redirects=False) as plain:
            redirect = (plain.status, plain.headers.get("Location", ""))
        async with http.post(
            f"{https_url}/slack/events", data=b"x" * (300 * 1024), headers={"Content-Type": FORM}
        ) as big:
            too_big = big.status

    assert redirect[0] == 301 and redirect[1].startswith("https://") and redirect[1].endswith("/healthz")
    assert too_big == 413


async def test_the_access_log_keeps_the_paths_but_no_login_state_or_zoho_code(stack, proxy):
    https_url, http_url, trust, folder = proxy
    state, code = "st8-only-the-person-has", "1000.c0de-from-zoho"

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as http:
        for url in (f"{https_url}/zoho/login?state={state}", f"{http_url}/zoho/login?state={state}"):
            async with http.get(url, allow_redirects=False, headers={"Referer": f"{url}&again=1"}) as page:
                assert page.status in (200, 301, 400)
        async with http.get(f"{https_url}/zoho/callback?code={code}&state={state}", allow_redirects=False) as back:
            assert back.status < 500

    log = folder / "access.log"
    for _ in range(200):  # nginx writes a request's line once it has answered it
        if log.exists() and log.read_text().count("\n") >= 3:
            break
        await asyncio.sleep(0.025)
    lines = log.read_text().splitlines()
    assert len(lines) == 3 and all(" /zoho/" in line for line in lines), lines
    assert '"GET /zoho/callback HTTP/1.1"' in lines[-1]
    assert not [line for line in lines if state in line or code in line or "?" in line], lines
