"""`python -m bot --local` on the port PORT names: its links lead there, and a busy port is one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "/lead list\nfollow 1\nquit\n"


def local_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path), **extra}


def start_local(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "--local"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_local(tmp_path: Path, env: dict[str, str], script: str = SCRIPT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--local"],
        cwd=tmp_path,
        env=env,
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_connected_through(result: subprocess.CompletedProcess, port: int) -> None:
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert f"bot server: http://localhost:{port}" in out
    assert f"http://localhost:{port}/zoho/login?state=" in out
    assert "localhost:3000" not in out
    assert "Connected to Zoho CRM as ann@acme.test" in out, out
    assert "Traceback" not in out + result.stderr


def test_port_from_the_environment_is_where_the_login_link_leads(tmp_path):
    port = free_port()

    result = run_local(tmp_path, local_env(tmp_path, PORT=str(port)))

    assert_connected_through(result, port)


def test_a_dotenv_port_is_followed_and_its_public_url_left_to_the_deployment(tmp_path):
    port = free_port()
    (tmp_path / ".env").write_text(f"PORT={port}\nPUBLIC_URL=https://bot.example.com\n")

    result = run_local(tmp_path, local_env(tmp_path))

    assert_connected_through(result, port)
    assert "bot.example.com" not in result.stdout


def test_a_second_run_on_the_same_port_says_so_in_one_line(tmp_path):
    port = free_port()
    env = local_env(tmp_path, PORT=str(port))
    first = start_local(tmp_path, env)
    try:
        for line in first.stdout:  # its banner: the port is taken from here on
            if line.startswith("bot server:"):
                break

        second = run_local(tmp_path, env, script="")

        assert second.returncode == 1
        assert second.stderr == f"error: port {port} is in use; set PORT=… to another port\n"
        assert second.stdout == ""
    finally:
        first.communicate("quit\n", timeout=60)
    assert first.returncode == 0, first.stderr
