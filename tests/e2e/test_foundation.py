"""The foundation, end to end: a slash command travels Slack emulator → bot → back; signatures are enforced;
health, start-up errors, --check and clean shutdown behave as the contract says."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from playground.slack import sign_slack_request
from tests.stack import ANN, BOB, SIGNING_SECRET, free_port

ROOT = Path(__file__).resolve().parents[2]


async def test_lead_help_travels_the_whole_stack(stack):
    result = await stack.command(ANN, "help")
    assert result.status == 200
    shown = json.dumps(result.ack_body)
    assert "/lead create" in shown and "/lead list" in shown and "/zoho-revoke" in shown
    assert result.ack_body["response_type"] == "ephemeral"


async def test_the_bot_token_is_checked_once_at_start_not_inside_a_command(stack):
    async def checked() -> bool:
        for _ in range(100):  # the check runs in the background as the server starts
            if any(call.method == "auth.test" for call in stack.slack.calls):
                return True
            await asyncio.sleep(0.02)
        return False

    assert await checked(), "auth.test was not called at start"
    await stack.command(ANN, "help")
    await stack.command(BOB, "help")

    assert [call.method for call in stack.slack.calls].count("auth.test") == 1


async def test_unknown_subcommand_is_answered_with_what_was_typed(stack):
    result = await stack.command(ANN, "frobnicate <b>now</b>")
    assert result.status == 200
    assert "frobnicate" in result.ack_body["text"] and "/lead help" in result.ack_body["text"]
    assert "Did you mean" not in result.ack_body["text"]
    typo = await stack.command(ANN, "lsit acme")
    assert "I don't know `/lead lsit acme`. Did you mean `/lead list`?" in typo.ack_body["text"]


def _command_body(text: str) -> bytes:
    return urlencode(
        {
            "team_id": "T0TEST",
            "user_id": ANN,
            "command": "/lead",
            "text": text,
            "channel_id": "C1",
            "response_url": "http://127.0.0.1:9/unused",
            "trigger_id": "1.2.3",
        }
    ).encode()


async def test_wrong_signature_or_stale_timestamp_gets_401(stack):
    body = _command_body("help")
    async with aiohttp.ClientSession() as http:
        good = sign_slack_request(SIGNING_SECRET, body)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        async with http.post(f"{stack.url}/slack/events", data=body, headers={**headers, **good}) as r:
            assert r.status == 200
        wrong = sign_slack_request("not-the-secret", body)
        async with http.post(f"{stack.url}/slack/events", data=body, headers={**headers, **wrong}) as r:
            assert r.status == 401
        stale = sign_slack_request(SIGNING_SECRET, body, timestamp=int(time.time()) - 301)
        async with http.post(f"{stack.url}/slack/events", data=body, headers={**headers, **stale}) as r:
            assert r.status == 401
        async with http.post(f"{stack.url}/slack/events", data=body, headers=headers) as r:
            assert r.status == 401


async def test_bad_bodies_get_a_clear_4xx_never_a_500(stack):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession() as http:
        for body in (b"payload=%7Bnot-json", b"text=\xff\xfe", urlencode({"payload": "[]"}).encode()):
            signed = sign_slack_request(SIGNING_SECRET, body)
            async with http.post(f"{stack.url}/slack/events", data=body, headers={**headers, **signed}) as r:
                assert r.status == 400, body
        huge = b"text=" + b"a" * (2 * 1024 * 1024)
        async with http.post(f"{stack.url}/slack/events", data=huge, headers=headers) as r:
            assert r.status == 413


async def test_healthz_answers_ok_while_the_database_answers(stack):
    async with aiohttp.ClientSession() as http, http.get(f"{stack.url}/healthz") as r:
        assert r.status == 200
        assert await r.json() == {"status": "ok"}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": "xoxb-test-0000",
        "SLACK_SIGNING_SECRET": "sig",
        "ZOHO_CLIENT_ID": "1000.ID",
        "ZOHO_CLIENT_SECRET": "very-secret-value",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        **extra,
    }


def test_check_prints_settings_masked_and_checks_the_database(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--check"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database: ok" in result.stdout and "ZOHO_CLIENT_ID" in result.stdout
    assert "very-secret-value" not in result.stdout + result.stderr

    bad = _env(tmp_path, DATABASE_URL="postgresql://u:pw@127.0.0.1:1/none", TOKEN_ENCRYPTION_KEY="x" * 10)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--check"], cwd=tmp_path, env=bad, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "FAILED" in result.stdout + result.stderr and "Traceback" not in result.stdout + result.stderr


def test_sigterm_stops_the_server_cleanly(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=_env(tmp_path, PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                import urllib.request

                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("server did not come up: " + proc.stderr.read())
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in err and "Traceback" not in err


def test_an_unreachable_database_stops_start_up_with_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=_env(
            tmp_path,
            PORT=str(free_port()),
            DATABASE_URL="postgresql://u:pw@127.0.0.1:1/none",
            TOKEN_ENCRYPTION_KEY="ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "DATABASE_URL" in lines[0], result.stderr
    assert "pw" not in result.stderr and "Traceback" not in result.stderr


async def test_pressing_the_login_link_button_is_acknowledged(stack, caplog):
    await stack.login_link(ANN)
    dm = stack.slack.dms(ANN)[-1]

    result = await stack.slack.click_button(ANN, dm, "zoho_login_link")

    assert result.status == 200 and result.error is None
    assert not [r for r in caplog.records if "Unhandled request" in r.getMessage()]
