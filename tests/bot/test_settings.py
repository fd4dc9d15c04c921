"""Settings: every variable of the contract is read, validated, and a bad one is named in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import LOCAL_IS_ONE_PROCESS
from bot.settings import SettingsError, load_settings, mask_database_url

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
    "SLACK_SIGNING_SECRET": "sig",
    "ZOHO_CLIENT_ID": "1000.CLIENT",
    "ZOHO_CLIENT_SECRET": "s3cret",
}


def load(env: dict[str, str], **kw):
    return load_settings(env, dotenv_path=None, **kw)


def test_defaults_follow_the_contract():
    s = load(GOOD)
    assert (s.host, s.port, s.database_url, s.log_level) == (
        "127.0.0.1",
        3000,
        "sqlite:///zohobot.db",
        "INFO",
    )
    assert s.public_url == "http://localhost:3000"
    assert s.redirect_uri == "http://localhost:3000/zoho/callback"
    assert s.slack_api_url == "https://slack.com/api/"
    assert not s.socket_mode and s.zoho_accounts_url is None
    assert s.log_format == "text" and s.metrics_port is None
    assert s.zoho_org_concurrency == 10


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN"),
        ({"ZOHO_CLIENT_SECRET": " "}, "ZOHO_CLIENT_SECRET"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"DATABASE_URL": "oracle://x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://u:p@h/db"}, "TOKEN_ENCRYPTION_KEY"),
        ({"ZOHO_ADMIN_USER_IDS": "U123ABC, bob"}, "ZOHO_ADMIN_USER_IDS"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"PUBLIC_URL": "bot.example.com"}, "PUBLIC_URL"),
        ({"ZOHO_ACCOUNTS_URL": "https://accounts.zoho.eu/oauth"}, "ZOHO_ACCOUNTS_URL"),
        ({"SLACK_APP_TOKEN": "xoxb-not-an-app-token"}, "SLACK_APP_TOKEN"),
        ({"WORKERS": "two"}, "WORKERS"),
        ({"WORKERS": "0"}, "WORKERS"),
        ({"WORKERS": "65"}, "WORKERS"),
        ({"WORKERS": "11", "SLACK_APP_TOKEN": "xapp-1-abc"}, "WORKERS"),
        ({"PORT": "0"}, "PORT"),
        ({"DATABASE_URL": "sqlite://:memory:"}, "DATABASE_URL"),  # peewee would read ":memory:" as a host and port
        ({"LOG_FORMAT": "yaml"}, "LOG_FORMAT"),
        ({"METRICS_PORT": "metrics"}, "METRICS_PORT"),
        ({"METRICS_PORT": "0"}, "METRICS_PORT"),
        ({"METRICS_PORT": "3000"}, "METRICS_PORT"),
        ({"ZOHO_REQUIRE_EMAIL_MATCH": "sometimes"}, "ZOHO_REQUIRE_EMAIL_MATCH"),
        ({"ZOHO_ORG_CONCURRENCY": "0"}, "ZOHO_ORG_CONCURRENCY"),
        ({"ZOHO_ORG_CONCURRENCY": "26"}, "ZOHO_ORG_CONCURRENCY"),
        ({"ZOHO_ORG_CONCURRENCY": "ten"}, "ZOHO_ORG_CONCURRENCY"),
    ],
)
def test_a_bad_setting_is_named(change, variable):
    with pytest.raises(SettingsError) as err:
        load({**GOOD, **change})
    assert err.value.variable == variable
    assert str(err.value).startswith(variable)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("variable", "typed"),
    [
        ("ZOHO_REQUIRE_EMAIL_MATCH", "Sometimes"),
        ("LOG_FORMAT", "YAML"),
        ("METRICS_PORT", "ninety-one hundred"),
        ("METRICS_PORT", "3000"),
        ("LOG_LEVEL", "verbose"),  # as typed, not as upper-cased for the comparison
        ("DATABASE_URL", "oracle://scott@db/orcl"),
        ("ZOHO_ADMIN_USER_IDS", "bob, @ann"),  # the wrong ids in the order typed
    ],
)
def test_a_bad_value_is_echoed_in_one_line_naming_the_variable(variable, typed):
    with pytest.raises(SettingsError) as err:
        load({**GOOD, variable: typed})
    assert str(err.value).startswith(f"{variable} must ")
    assert repr(typed) in str(err.value) and "\n" not in str(err.value)


def test_a_bad_database_url_is_echoed_with_its_password_masked():
    with pytest.raises(SettingsError) as err:
        load({**GOOD, "DATABASE_URL": "oracle://scott:tiger@db/orcl"})
    assert "got 'oracle://scott:***@db/orcl'" in str(err.value) and "tiger" not in str(err.value)


def test_metrics_port_and_log_format_are_read_and_shown_by_check():
    s = load({**GOOD, "METRICS_PORT": "9100", "LOG_FORMAT": "JSON", "HOST": "0.0.0.0"})
    assert (s.metrics_port, s.log_format) == (9100, "json")
    shown = dict(s.describe())
    assert shown["METRICS_PORT"] == "9100 (GET /metrics on 0.0.0.0:9100)" and shown["LOG_FORMAT"] == "json"
    assert dict(load(GOOD).describe())["METRICS_PORT"] == "unset (no metrics)"


def test_metrics_port_with_workers_is_served_by_their_parent_added_up():
    s = load({**GOOD, "METRICS_PORT": "9100", "WORKERS": "2"})
    assert (s.metrics_port, s.workers) == (9100, 2)
    assert dict(s.describe())["METRICS_PORT"] == "9100 (GET /metrics on 127.0.0.1:9100, the workers added up)"


def test_socket_mode_needs_no_signing_secret_and_local_needs_no_accounts():
    s = load({**GOOD, "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": "xapp-1-abc"})
    assert s.socket_mode
    assert load({}, local=True).local


def test_values_are_parsed():
    s = load(
        {
            **GOOD,
            "PORT": "8080",
            "PUBLIC_URL": "https://bot.example.com/",
            "LOG_LEVEL": "debug",
            "ZOHO_ADMIN_USER_IDS": "U01ABC, W02DEF  U03GHI",
            "SLACK_API_URL": "http://127.0.0.1:9/api",
            "ZOHO_ORG_CONCURRENCY": " 15 ",
        }
    )
    assert s.zoho_org_concurrency == 15
    assert s.port == 8080 and s.public_url == "https://bot.example.com" and s.log_level == "DEBUG"
    assert s.zoho_admin_user_ids == {"U01ABC", "W02DEF", "U03GHI"}
    assert s.slack_api_url == "http://127.0.0.1:9/api/"


def test_dotenv_is_read_and_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "SLACK_BOT_TOKEN=xoxb-from-file\nSLACK_SIGNING_SECRET=file\nZOHO_CLIENT_ID=id\n"
        "ZOHO_CLIENT_SECRET=sec\nPORT=4000\n"
    )
    s = load_settings({"PORT": "5000"}, dotenv_path=dotenv)
    assert s.slack_bot_token == "xoxb-from-file" and s.port == 5000


def test_secrets_are_masked_everywhere():
    s = load({**GOOD, "DATABASE_URL": "postgresql://bot:hunter2@db/zoho", "TOKEN_ENCRYPTION_KEY": "k" * 44})
    shown = repr(s) + str(s.describe())
    for secret in ("xoxb-1-2-abc", "s3cret", "hunter2", "k" * 44):
        assert secret not in shown
    assert mask_database_url("postgresql://bot:hunter2@db/zoho") == "postgresql://bot:***@db/zoho"


def test_missing_signing_secret_stops_start_up_with_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", **{k: v for k, v in GOOD.items() if k != "SLACK_SIGNING_SECRET"}}
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SLACK_SIGNING_SECRET" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_workers_are_one_by_default_and_read_from_workers():
    assert load(GOOD).workers == 1
    assert load({**GOOD, "WORKERS": "4"}).workers == 4
    assert load({**GOOD, "WORKERS": "10", "SLACK_APP_TOKEN": "xapp-1-abc"}).workers == 10  # Slack's most per app
    assert ("WORKERS", "4") in load({**GOOD, "WORKERS": "4"}).describe()
    assert load({"WORKERS": "4"}, local=True).workers == 1  # the playground is one process


def run_bot(tmp_path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_workers_with_local_is_refused_in_one_line(tmp_path):
    result = run_bot(tmp_path, "--local", "--workers", "2")
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {LOCAL_IS_ONE_PROCESS}"
    assert not list(tmp_path.iterdir())  # nothing started, nothing made


def test_a_bad_workers_flag_is_named_with_what_was_typed(tmp_path):
    result = run_bot(tmp_path, "--workers", "many", env=GOOD)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --workers must") and "'many'" in lines[0], result.stderr


@pytest.mark.parametrize("url", ["sqlite://zohobot.db", "postgresql://u:p@db/zohobot", "mysql:/x"])
def test_local_mode_takes_port_0_and_ignores_a_database_url_it_does_not_use(url):
    local = load_settings({"PORT": "0", "DATABASE_URL": url}, local=True, dotenv_path=None)  # no key either
    assert local.port == 0  # the playground claims a free port and builds its links from it


@pytest.mark.parametrize("url", ["sqlite://:memory:", "sqlite://file::memory:?cache=shared"])
def test_a_two_slash_in_memory_url_is_told_to_name_a_file(url):
    with pytest.raises(SettingsError) as err:
        load({**GOOD, "DATABASE_URL": url})
    assert "use three, sqlite:///zohobot.db, or four for an absolute path, sqlite:////srv/zohobot/zohobot.db" in str(
        err.value
    )


@pytest.mark.parametrize(
    ("url", "port"), [("postgresql://bot:hunter2@db:54x2/zoho", "54x2"), ("mysql://bot:hunter2@db:99999/zoho", "99999")]
)
def test_a_port_that_is_not_one_is_told_in_one_line_with_the_url_masked(url, port):
    with pytest.raises(SettingsError) as err:
        load({**GOOD, "DATABASE_URL": url, "TOKEN_ENCRYPTION_KEY": "k" * 44})
    message = str(err.value)
    assert f"the port `{port}` is not a number from 1 to 65535" in message and "bot:***@db" in message
    assert "hunter2" not in message and "\n" not in message


def test_a_server_url_without_a_host_or_database_is_left_to_the_driver():  # the local socket, the default database
    for url in ("postgresql://bot:hunter2@/zoho", "postgresql:///zoho", "mysql://bot:hunter2@db"):
        assert load({**GOOD, "DATABASE_URL": url, "TOKEN_ENCRYPTION_KEY": "k" * 44}).database_url == url


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("https://bot.example.com/zoho/callback", "ends with /zoho/callback; set 'https://bot.example.com'"),
        ("https://bot.example.com/bot/slack/events/", "ends with /slack/events; set 'https://bot.example.com/bot'"),
        ("https://bot.example.com?team=1", "without ? or #, got 'https://bot.example.com?team=1'"),
    ],
)
def test_a_public_url_that_would_make_a_broken_redirect_uri_is_refused_saying_what_to_set(typed, said):
    with pytest.raises(SettingsError) as err:
        load({**GOOD, "PUBLIC_URL": typed})
    assert str(err.value).startswith("PUBLIC_URL ") and said in str(err.value)


def test_a_public_url_with_a_path_a_proxy_strips_builds_the_redirect_uri_under_it():
    assert load({**GOOD, "PUBLIC_URL": "https://acme.example/zohobot/"}).redirect_uri == (
        "https://acme.example/zohobot/zoho/callback"
    )


def test_check_names_a_bad_workers_flag_as_the_flag_too(tmp_path):
    result = run_bot(tmp_path, "--check", "--workers", "many", env={**GOOD, "SLACK_API_URL": "http://127.0.0.1:9/api/"})
    assert result.returncode == 1
    assert "  - --workers must be a whole number of processes from 1 to 64, got 'many'" in result.stdout
    assert "WORKERS" not in result.stdout
