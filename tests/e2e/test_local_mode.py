"""`python -m bot --local`: the README's quick start, driven through the terminal console as a person would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.stack import free_port

ROOT = Path(__file__).resolve().parents[2]


def run_local(tmp_path: Path, script: str, **settings: str) -> subprocess.CompletedProcess:
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TMPDIR": str(tmp_path),
        **settings,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "--local"],
        cwd=tmp_path,
        env=env,
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_person_gets_help_logs_in_from_the_console_and_is_connected(tmp_path):
    result = run_local(tmp_path, "/lead help\n/lead whoami\n/lead login\nclick 1\nfollow 1\n/lead whoami\nquit\n")

    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "/lead create" in out and "/zoho-revoke --all" in out  # the help text
    assert "You're not connected to Zoho CRM" in out
    assert "Login with Zoho" in out and "/zoho/login?state=" in out
    assert "You can close this tab and go back to Slack." in out
    assert out.rstrip().count("Connected to Zoho CRM as ann@acme.test, Acme Ltd, United States data centre.") >= 2
    assert "Traceback" not in out + result.stderr


def test_the_server_log_goes_to_a_file_and_keeps_tokens_out(tmp_path):
    (tmp_path / "zohobot-local-999999999-gone").mkdir()  # an earlier session's folder, whose process has ended
    result = run_local(tmp_path, "/lead login\nclick 1\nfollow 1\nquit\n")

    assert result.returncode == 0, result.stderr
    logs = list(tmp_path.glob("zohobot-local-*/bot.log"))
    assert len(logs) == 1 and f"server log: {logs[0]}" in result.stdout
    assert f"the server log stays at {logs[0]}" in result.stderr
    assert [p.name for p in logs[0].parent.iterdir()] == ["bot.log"]  # the session's database and key are gone
    text = logs[0].read_text()
    assert "connected identity=" in text
    assert "state=" not in text.replace("state=***", "")
    assert " INFO " not in result.stdout + result.stderr  # the terminal shows Slack, not the server log
    assert not (tmp_path / "zohobot-local-999999999-gone").exists()

    again = run_local(tmp_path, "quit\n")  # the next session removes the last one's folder, log and all

    assert again.returncode == 0, again.stderr
    (kept,) = tmp_path.glob("zohobot-local-*/bot.log")
    assert kept != logs[0] and not logs[0].exists()


def test_log_format_json_reaches_the_local_server_log(tmp_path):
    result = run_local(tmp_path, "/lead login\nclick 1\nfollow 1\nquit\n", LOG_FORMAT="json")

    assert result.returncode == 0, result.stderr
    (log,) = tmp_path.glob("zohobot-local-*/bot.log")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    connected = [line for line in lines if line["message"].startswith("connected identity=")]
    assert len(connected) == 1 and connected[0]["request_id"]  # logged while the OAuth callback was answered
    assert "state=" not in log.read_text().replace("state=***", "")


def test_the_pretend_org_has_custom_fields_a_person_can_set_and_sees_changed(tmp_path):
    script = (
        "/lead login\nclick 1\nfollow 1\n"
        '/lead create last=Local "customer tier"=gold status=contacted\n'
        "/lead create last=Local status=Bogus\nquit\n"
    )
    result = run_local(tmp_path, script)

    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "custom Lead fields: Deal size (currency), Customer tier (picklist)" in out  # the banner
    assert "Customer tier: Gold" in out and "Lead Status: Contacted" in out
    assert "Lead Status `Bogus` is not one of its values" in out
    assert "Traceback" not in out + result.stderr
