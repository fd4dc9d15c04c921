"""`python -m bot --check` prints the database URL it was given with every secret in it masked: the password in
the user part and any query parameter that carries one (password=, passwd=, sslpassword=, token=, …)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from store import generate_key
from tests.processes import ROOT

SECRETS = ("hunter2", "hunter3", "hunter4", "hunter5")


def check(database_url: str, cwd: Path, key: str | None = None) -> str:
    """What `python -m bot --check` prints (stdout and stderr) with these settings."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": "xoxb-check-0000",
        "SLACK_SIGNING_SECRET": "check-signing-secret",
        "ZOHO_CLIENT_ID": "1000.CHECK",
        "ZOHO_CLIENT_SECRET": "check-client-secret",
        "PUBLIC_URL": "https://bot.example.com",
        "DATABASE_URL": database_url,
        **({"TOKEN_ENCRYPTION_KEY": key} if key else {}),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--check"], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    return done.stdout + done.stderr


def test_a_password_in_a_sqlite_urls_query_is_masked(tmp_path: Path) -> None:
    out = check(f"sqlite:///{tmp_path / 'bot.db'}?password=hunter2", tmp_path)
    assert "DATABASE_URL" in out
    assert "hunter2" not in out
    assert "password=***" in out


@pytest.mark.parametrize(
    "query",
    ["password=hunter3", "Passwd=hunter3&sslmode=disable", "sslmode=disable&SSLPASSWORD=hunter3&pwd=hunter4"],
)
def test_every_password_in_a_server_url_is_masked(tmp_path: Path, query: str) -> None:
    # Port 1: nothing listens, so the check fails fast after printing the settings.
    out = check(f"postgresql://zohobot:hunter5@127.0.0.1:1/zohobot?{query}", tmp_path, key=generate_key())
    assert "DATABASE_URL" in out and "database: FAILED" in out
    assert not [secret for secret in SECRETS if secret in out], out
    assert "zohobot:***@127.0.0.1:1/zohobot" in out and "=***" in out
    assert "sslmode=disable" in out or "sslmode" not in query
