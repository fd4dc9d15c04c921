"""deploy/zoho-slack-bot.service passes `systemd-analyze verify` and keeps what the README promises of it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.limits import DEFAULT_LIMITS

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "zoho-slack-bot.service"
INSTALLED_AT = "/srv/zoho-slack-bot"


def directives(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def test_the_unit_stops_gracefully_and_confines_the_bot():
    unit = directives(SHIPPED.read_text())

    assert unit["ExecStart"] == f"{INSTALLED_AT}/.venv/bin/python -m bot"
    assert unit["WorkingDirectory"] == INSTALLED_AT and unit["EnvironmentFile"] == f"{INSTALLED_AT}/bot.env"
    assert unit["User"] and unit["Restart"] == "on-failure" and unit["KillSignal"] == "SIGTERM"
    assert int(unit["TimeoutStopSec"]) > DEFAULT_LIMITS.shutdown_grace_s
    assert unit["KillMode"] == "mixed"  # with WORKERS, the parent alone is signalled and stops its workers
    assert unit["NoNewPrivileges"] == "yes" and unit["PrivateTmp"] == "yes" and unit["ProtectSystem"] == "strict"
    assert unit["ReadWritePaths"] == f"{INSTALLED_AT}/data"


def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze does not exist on this machine")
    # The unit as installed, with its folder here: verify wants the program and the files it names to exist.
    home = tmp_path / "zoho-slack-bot"
    (home / ".venv" / "bin").mkdir(parents=True)
    (home / ".venv" / "bin" / "python").symlink_to(sys.executable)
    (home / "data").mkdir()
    (home / "bot.env").write_text("")
    unit = tmp_path / SHIPPED.name
    unit.write_text(SHIPPED.read_text().replace(INSTALLED_AT, str(home)))

    verified = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)

    assert verified.returncode == 0, verified.stderr
    assert "zoho-slack-bot.service" not in verified.stderr, verified.stderr  # no complaint about our unit
