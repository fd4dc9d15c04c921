#!/usr/bin/env python3
"""The two set-up commands of the README, with nothing but Python and pip on the machine.

    python3 dev.py local   # make .venv, install, start the bot with the built-in Slack console and Zoho emulator
    python3 dev.py test    # make .venv, install with the test extras, run the test suite (extra args go to pytest)
    python3 dev.py run     # make .venv, install, start the bot for real (settings from the environment / .env)

The virtual environment is reinstalled only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_environment(extras: str) -> None:
    """Create .venv and install the project (editable) with `extras`, unless already done for this pyproject."""
    if not PYTHON.exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing dependencies{' (' + extras + ')' if extras else ''} into .venv …", flush=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True, cwd=ROOT)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", target], check=True, cwd=ROOT)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("local", "test", "run"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "test":
        ensure_environment("test")
        return subprocess.call([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT)
    ensure_environment("")
    mode = ["--local"] if command == "local" else []
    try:
        return subprocess.call([str(PYTHON), "-m", "bot", *mode, *rest], cwd=ROOT)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
