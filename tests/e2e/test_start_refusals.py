"""`python -m bot` refusing to start because of its database or its address: one line naming DATABASE_URL or HOST
and what to do, exit 1, no traceback, and no empty database left where a typo pointed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from store import PeeweeTokenStore, generate_key
from tests.bot.test_settings import GOOD
from tests.e2e.test_socket_mode import APP_TOKEN
from tests.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {**GOOD, "TOKEN_ENCRYPTION_KEY": generate_key()}  # the settings tests' good ones, and a key


def bot_env(
    database_url: str, pythonpath: str = str(ROOT), settings: dict[str, str] = SETTINGS, **more: str
) -> dict[str, str]:
    """`python -m bot`'s environment: the settings tests' good ones on a free port, with `more` over them."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": pythonpath,
        "PORT": str(free_port()),
        **settings,
        **more,
        "DATABASE_URL": database_url,
    }


def start(
    cwd: Path, database_url: str, *args: str, pythonpath: str = str(ROOT), **more: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=bot_env(database_url, pythonpath, **more),
        capture_output=True,
        text=True,
        timeout=60,
    )


def serving_until(cwd: Path, env: dict[str, str], said: str) -> tuple[subprocess.Popen[bytes], Path]:
    """`python -m bot` started with its log in a file, once the log says `said` (30 s at most)."""
    log = cwd / "bot.log"
    with open(log, "w") as written:
        bot = subprocess.Popen([sys.executable, "-m", "bot"], cwd=cwd, env=env, stderr=written)
    deadline = time.monotonic() + 30
    while said not in log.read_text() and time.monotonic() < deadline:
        if bot.poll() is not None:
            break
        time.sleep(0.1)
    return bot, log


def only_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [
        ("postgresql://zohobot:pw@127.0.0.1:9/zohobot", "psycopg2", "postgres"),
        ("mysql://zohobot:pw@127.0.0.1:9/zohobot", "pymysql", "mysql"),
    ],
)
@pytest.mark.parametrize("workers", [(), ("--workers", "2")])
def test_a_database_server_without_its_driver_installed_is_one_line_saying_what_to_install(
    tmp_path, url, module, extra, workers
):
    shadow = tmp_path / "without-driver"
    shadow.mkdir()
    (shadow / f"{module}.py").write_text("raise ImportError('not installed on this machine')\n")

    result = start(tmp_path, url, *workers, pythonpath=f"{shadow}{os.pathsep}{ROOT}")

    line = only_error_line(result)
    assert line == (
        f"error: DATABASE_URL needs the {url.split(':')[0]} driver ({module}), which is not installed: "
        f".venv/bin/pip install -e '.[{extra}]'"
    )
    assert "pw" not in result.stderr


def test_a_sqlite_file_two_missing_folders_away_is_taken_for_a_typo_and_nothing_is_created(tmp_path):
    path = tmp_path / "srv" / "zohobot" / "bot.db"

    result = start(tmp_path, f"sqlite:///{path}")

    line = only_error_line(result)
    assert line == (
        f"error: DATABASE_URL names the SQLite file {path}, but the folder {path.parent} does not exist (a start "
        "creates one missing folder, not more): create it, or correct the path"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_file_where_no_file_can_be_made_names_the_file_and_why_not_the_port(tmp_path):
    result = start(tmp_path, "sqlite:////proc/zohobot.db")

    line = only_error_line(result)
    assert line.startswith("error: DATABASE_URL names the SQLite file /proc/zohobot.db, which cannot be created: ")
    assert "HOST/PORT" not in line


@pytest.mark.parametrize("workers", [(), ("--workers", "2")])
def test_a_sqlite_url_with_two_slashes_is_one_line_saying_how_many_and_nothing_is_created(tmp_path, workers):
    result = start(tmp_path, "sqlite://zohobot.db", *workers)

    line = only_error_line(result)
    assert line == (
        "error: DATABASE_URL sqlite://zohobot.db has two slashes, which names no file (an in-memory database, lost "
        "at every stop): use three, sqlite:///zohobot.db, or four for an absolute path, sqlite:////srv/zohobot/zohobot.db"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("host", "said"),
    [
        ("999.1.1.1", "error: HOST 999.1.1.1 names no address ("),
        ("192.0.2.7", "error: HOST 192.0.2.7 is not an address of this machine ("),  # TEST-NET-1: nobody's
    ],
)
@pytest.mark.parametrize("workers", [(), ("--workers", "2")])
def test_a_host_nothing_can_listen_on_is_one_line_naming_it_before_any_database_is_made(tmp_path, host, said, workers):
    result = start(tmp_path, f"sqlite:///{tmp_path / 'bot.db'}", *workers, HOST=host)

    assert only_error_line(result).startswith(said)
    assert list(tmp_path.iterdir()) == []


def test_slack_out_of_reach_at_start_is_a_warning_in_words_and_the_bot_serves_on(tmp_path):
    nobody = free_port()  # nothing listens there
    env = bot_env(f"sqlite:///{tmp_path / 'bot.db'}", SLACK_API_URL=f"http://127.0.0.1:{nobody}/api/")
    bot, log = serving_until(tmp_path, env, "Slack could not be reached at start")
    bot.terminate()
    bot.wait(30)
    warned = next((line for line in log.read_text().splitlines() if "could not be reached at start" in line), "")

    assert f"Cannot connect to host 127.0.0.1:{nobody}" in warned, warned  # its words, not a class name
    assert "will try again on the first command" in warned
    assert bot.returncode == 0  # it served until stopped


def test_a_file_the_start_cannot_use_is_named_as_such_not_as_a_port_problem(tmp_path):
    (tmp_path / "bot.db.key").mkdir()  # where the start would read or write the database's key file
    settings = {name: value for name, value in SETTINGS.items() if name != "TOKEN_ENCRYPTION_KEY"}

    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=bot_env(f"sqlite:///{tmp_path / 'bot.db'}", settings=settings),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert only_error_line(result) == f"error: cannot start: {tmp_path / 'bot.db.key'}: Is a directory"


def test_a_database_that_lost_its_key_file_is_refused_and_gets_no_new_key_that_could_not_read_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    PeeweeTokenStore(url).close()  # a database opened once: it holds the check of its key
    (tmp_path / "bot.db.key").unlink()  # restored from a backup without its key file, say
    settings = {name: value for name, value in SETTINGS.items() if name != "TOKEN_ENCRYPTION_KEY"}

    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=bot_env(url, settings=settings), capture_output=True, text=True
    )

    said = only_error_line(result)
    assert f"{tmp_path / 'bot.db.key'} is missing: the tokens in {tmp_path / 'bot.db'} cannot be read" in said
    assert "restore it from its backup" in said and "rotate" not in said
    assert not (tmp_path / "bot.db.key").exists()  # so the next start, and --check, say the same


def test_in_socket_mode_a_stop_while_slack_is_out_of_reach_ends_the_start_at_once(tmp_path):
    env = bot_env(
        f"sqlite:///{tmp_path / 'bot.db'}",
        SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",  # nothing listens: no socket URL, retried
        SLACK_APP_TOKEN=APP_TOKEN,
    )
    bot, log = serving_until(tmp_path, env, "Slack could not be reached at start")
    try:
        time.sleep(1)  # it is trying to open the socket now
        bot.terminate()
        code = bot.wait(15)
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()

    said = log.read_text()
    assert code == 0, said
    assert "stop requested before Socket Mode connected" in said and "Traceback (most recent call last)" not in said
