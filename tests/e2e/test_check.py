"""`python -m bot --check` as an operator runs it: every problem in one run, Slack and Zoho asked, nothing created."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from store import PeeweeTokenStore, generate_key
from store.schema import LATEST_VERSION
from tests.stack import BOT_TOKEN, free_port, start_emulators

ROOT = Path(__file__).resolve().parents[2]
NOBODY = f"http://127.0.0.1:{free_port()}"  # nothing listens there: as good as offline


def base_env(**extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "check-signing-secret",
        "ZOHO_CLIENT_ID": "1000.CHECK",
        "ZOHO_CLIENT_SECRET": "check-client-secret",
        "SLACK_API_URL": f"{NOBODY}/api/",
        "ZOHO_ACCOUNTS_URL": NOBODY,
        **extra,
    }


def check(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--check"], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


async def check_beside_emulators(cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """The check in a subprocess while this test's event loop keeps the emulators answering."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--check", cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, stdout.decode()


def files_in(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_every_settings_problem_is_reported_in_one_run_and_nothing_is_created(tmp_path):
    env = base_env(SLACK_BOT_TOKEN="oops", PORT="80a", DATABASE_URL="sqlite://x.db", TOKEN_ENCRYPTION_KEY="abc")

    result = check(tmp_path, env)

    out = result.stdout
    assert result.returncode == 1, out
    assert "settings: FAILED: 4 problem(s)" in out
    assert "SLACK_BOT_TOKEN must be a bot token starting with xoxb-" in out
    assert "PORT must be a port number" in out
    assert "use three, sqlite:///x.db" in out
    assert "TOKEN_ENCRYPTION_KEY is malformed: it is not a Fernet key" in out
    assert "Traceback" not in out + result.stderr
    assert list(tmp_path.iterdir()) == []


async def test_a_good_setup_asks_slack_and_zoho_and_creates_no_database(tmp_path):
    zoho, slack = await start_emulators()
    try:
        env = base_env(SLACK_API_URL=slack.api_url, ZOHO_ACCOUNTS_URL=zoho.url, DATABASE_URL="sqlite:///data/bot.db")

        code, out = await check_beside_emulators(tmp_path, env)

        assert code == 0, out
        assert "slack: ok (workspace" in out and "bot user" in out
        assert f"zoho: ok (accounts server {zoho.url} answered HTTP" in out
        assert f"{tmp_path / 'data' / 'bot.db'} does not exist yet; it will be created at start" in out
        assert f"a key file {tmp_path / 'data' / 'bot.db.key'} will be created" in out
        assert re.search(r"^  DATABASE_URL +sqlite:///data/bot\.db$", out, re.M)
        assert list(tmp_path.iterdir()) == []
    finally:
        await slack.stop()
        await zoho.stop()


def test_a_port_in_use_now_is_a_warning_naming_it_and_free_ports_are_said_free(tmp_path):
    metrics_port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = check(tmp_path, base_env(PORT=str(port), METRICS_PORT=str(metrics_port)))

    assert f"ports: WARNING: PORT {port} is in use now: the bot cannot start while it is" in result.stdout
    assert f"METRICS_PORT {metrics_port} is in use" not in result.stdout
    again = check(tmp_path, base_env(PORT=str(port), METRICS_PORT=str(metrics_port)))  # the socket is closed now
    assert f"ports: ok (PORT {port}, METRICS_PORT {metrics_port} free on 127.0.0.1)" in again.stdout


def test_a_sqlite_file_two_missing_folders_away_is_a_problem_naming_the_folder(tmp_path):
    result = check(tmp_path, base_env(DATABASE_URL="sqlite:///srv/data/bot.db"))

    assert result.returncode == 1, result.stdout
    assert (
        f"database: FAILED: DATABASE_URL names the SQLite file {tmp_path / 'srv' / 'data' / 'bot.db'}, but the folder "
        f"{tmp_path / 'srv' / 'data'} does not exist (a start creates one missing folder, not more): create it, or "
        "correct the path"
    ) in result.stdout
    assert list(tmp_path.iterdir()) == []


async def test_a_token_slack_refuses_is_a_problem(tmp_path):
    zoho, slack = await start_emulators()
    try:
        env = base_env(SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN="xoxb-revoked-long-ago")

        code, out = await check_beside_emulators(tmp_path, env)

        assert code == 1, out
        assert "slack: FAILED: Slack refused SLACK_BOT_TOKEN at auth.test: invalid_auth" in out
    finally:
        await slack.stop()
        await zoho.stop()


def test_slack_and_zoho_out_of_reach_are_warnings_not_failures(tmp_path):
    result = check(tmp_path, base_env(DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}"))

    assert result.returncode == 0, result.stdout
    assert f"slack: WARNING: {NOBODY}/api/ not reached (Connection refused)" in result.stdout
    assert f"zoho: WARNING: accounts server {NOBODY} not reached" in result.stdout
    assert result.stderr == ""  # the SDK's own ERROR line is not shown: the warning says it


def test_an_existing_database_is_read_never_written(tmp_path):
    first, second = generate_key(), generate_key()
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    PeeweeTokenStore(url, first).close()
    before = files_in(tmp_path)

    fits = check(tmp_path, base_env(DATABASE_URL=url, TOKEN_ENCRYPTION_KEY=first))
    wrong = check(tmp_path, base_env(DATABASE_URL=url, TOKEN_ENCRYPTION_KEY=second))
    rotation = [check(tmp_path, base_env(DATABASE_URL=url, TOKEN_ENCRYPTION_KEY=f"{second},{first}")) for _ in "12"]
    backwards = check(tmp_path, base_env(DATABASE_URL=url, TOKEN_ENCRYPTION_KEY=f"{first},{second}"))

    assert fits.returncode == 0 and f"schema version {LATEST_VERSION}" in fits.stdout and "key: ok\n" in fits.stdout
    assert wrong.returncode == 1 and "key: FAILED: TOKEN_ENCRYPTION_KEY does not open" in wrong.stdout
    # Told twice: the check did not do the re-encryption it announces.
    assert all("the next start re-encrypts under the first" in run.stdout for run in rotation)
    # The new key listed after the old one: nothing would rotate, and the check says how to make it
    assert backwards.returncode == 0 and "the 1 key(s) after it are not needed" in backwards.stdout
    assert "to rotate to one of them, list it first" in backwards.stdout
    assert files_in(tmp_path) == before


def test_files_others_can_read_are_warnings_of_the_check_as_of_the_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    PeeweeTokenStore(url).close()
    for name in ("bot.db", "bot.db.key"):
        (tmp_path / name).chmod(0o644)

    result = check(tmp_path, base_env(DATABASE_URL=url))

    assert f"database: WARNING: {tmp_path / 'bot.db'} can be read by other users: chmod 600" in result.stdout
    assert f"key: WARNING: {tmp_path / 'bot.db.key'} can be read by other users: chmod 600" in result.stdout
    assert result.stdout.rstrip().endswith("warning(s)") and "0 warning(s)" not in result.stdout


def test_a_bad_port_still_leaves_a_host_no_server_could_listen_on_reported(tmp_path):
    result = check(tmp_path, base_env(DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", PORT="abc", HOST="192.0.2.7"))

    assert result.returncode == 1
    assert "  - PORT must be a port number 1-65535, got 'abc'" in result.stdout
    assert "ports: FAILED: HOST 192.0.2.7" in result.stdout


def test_an_existing_sqlite_database_without_its_key_file_is_a_problem(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    PeeweeTokenStore(url).close()
    (tmp_path / "bot.db.key").unlink()

    result = check(tmp_path, base_env(DATABASE_URL=url))

    assert result.returncode == 1
    assert f"key: FAILED: {tmp_path / 'bot.db.key'} is missing" in result.stdout
    assert not (tmp_path / "bot.db.key").exists()


@pytest.mark.parametrize(
    ("scheme", "module", "extra"), [("postgresql", "psycopg2", "postgres"), ("mysql", "pymysql", "mysql")]
)
def test_a_missing_database_driver_names_the_extra_to_install(tmp_path, scheme, module, extra):
    # A package of that name that fails to import, first on the path: as on a machine without the driver.
    shadow = tmp_path / "no-driver" / module
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(f'raise ImportError("no {module} on this machine")\n')
    env = base_env(
        PYTHONPATH=f"{shadow.parent}{os.pathsep}{ROOT}",
        DATABASE_URL=f"{scheme}://u:p@127.0.0.1:1/db",
        TOKEN_ENCRYPTION_KEY=generate_key(),
    )

    result = check(tmp_path, env)

    assert result.returncode == 1
    assert f"pip install -e '.[{extra}]'" in result.stdout
    assert "database: not checked" in result.stdout


def test_listening_everywhere_and_plain_http_are_warned(tmp_path):
    env = base_env(DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", HOST="0.0.0.0", PUBLIC_URL="http://bot.example.com")

    result = check(tmp_path, env)

    assert result.returncode == 0
    assert "HOST: WARNING: 0.0.0.0 accepts connections from other machines" in result.stdout
    assert "PUBLIC_URL: WARNING: http://bot.example.com is plain http" in result.stdout
    assert "METRICS_PORT: WARNING" not in result.stdout  # none set: nothing to warn about


def test_metrics_listening_everywhere_is_warned_too(tmp_path):
    port = str(free_port())
    env = base_env(DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", HOST="0.0.0.0", METRICS_PORT=port)

    result = check(tmp_path, env)

    assert f"METRICS_PORT: WARNING: {port} listens on 0.0.0.0 too: let only the scraper reach it" in result.stdout


def test_every_bad_setting_is_listed_in_one_run_and_a_host_nothing_can_listen_on_is_a_problem(tmp_path):
    result = check(
        tmp_path,
        base_env(ZOHO_ORG_CONCURRENCY="abc", LOG_FORMAT="xml", DATABASE_URL="sqlite://bot.db", HOST="999.1.1.1"),
    )

    assert result.returncode == 1, result.stdout
    assert "settings: FAILED: 3 problem(s)" in result.stdout
    assert "  - ZOHO_ORG_CONCURRENCY must be a whole number from 1 to 25" in result.stdout
    assert "  - LOG_FORMAT must be text or json, got 'xml'" in result.stdout
    assert "  - DATABASE_URL sqlite://bot.db has two slashes" in result.stdout
    assert "ports: FAILED: HOST 999.1.1.1 names no address (" in result.stdout
    assert "accepts connections from other machines" not in result.stdout  # no warning about an address unused
    assert "FAILED: 4 problem(s)" in result.stdout
    assert list(tmp_path.iterdir()) == []
