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
import signal
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
    if installed(extras) or (not extras and installed("test")):  # the test extras include everything `run` needs
        return
    print(f"installing dependencies{' (' + extras + ')' if extras else ''} into .venv …", flush=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip", "setuptools"], check=True, cwd=ROOT
    )
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", target], check=True, cwd=ROOT)
    _stamp(extras).write_text(_digest(extras))


def installed(extras: str) -> bool:
    """Whether .venv holds the project with `extras`, installed from this very pyproject.toml."""
    stamp = _stamp(extras)
    return stamp.exists() and stamp.read_text() == _digest(extras)


def _stamp(extras: str) -> Path:
    return VENV / f".installed-{extras or 'base'}"


def _digest(extras: str) -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()


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
    return run_bot([str(PYTHON), "-m", "bot", *mode, *rest])


def run_bot(command: list[str]) -> int:
    """Become the bot (POSIX), so SIGTERM or Ctrl-C reach it directly and stop it cleanly, and nothing outlives
    this process; on Windows run it as a child and pass a stop request on to it."""
    os.chdir(ROOT)
    if os.name != "nt":
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(command[0], command)
    child = subprocess.Popen(command)
    # Ctrl-C reaches the child through the shared console: wait for it to stop, don't die first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    return child.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
