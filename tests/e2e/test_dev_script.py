"""`python3 dev.py run` is the bot: SIGTERM to dev.py's process id stops the bot cleanly (exit 0) and leaves
nothing listening, instead of killing dev.py and leaving `python -m bot` running behind it.

Runs `dev.py` from this checkout with its `.venv` (made by `python3 dev.py test`, which runs this test).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from store import generate_key
from tests.processes import ROOT, bot_env, health, sqlite_url
from tests.stack import free_port, start_emulators

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.name != "posix", reason="signals by process id: POSIX"),
    # dev.py runs the bot from the checkout's .venv; `python3 dev.py test` (and so CI) always makes it, and under CI
    # a missing one must fail rather than skip.
    pytest.mark.skipif(
        not (ROOT / ".venv" / "bin" / "python").exists() and not os.environ.get("CI"),
        reason="no .venv in this checkout (pytest run from another environment): run `python3 dev.py test`",
    ),
]


async def test_sigterm_to_dev_py_run_stops_the_bot_and_exits_0(tmp_path: Path) -> None:
    zoho, slack = await start_emulators()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = bot_env(
        port=port, database_url=sqlite_url(tmp_path), key=generate_key(), slack=slack, zoho=zoho, public_url=url
    )
    log_path = tmp_path / "dev.log"
    with open(log_path, "wb") as log:
        # Its own process group, so that whatever it leaves behind can be killed at the end.
        dev = subprocess.Popen(
            [sys.executable, str(ROOT / "dev.py"), "run"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        await _until(lambda: health(url), 200, seconds=60, why=lambda: log_path.read_text())
        dev.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(dev.wait, 30)
        assert code == 0, log_path.read_text()
        assert await health(url) == 0  # nothing answers on the port any more
        assert "stopped" in log_path.read_text()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(dev.pid, signal.SIGKILL)
        await slack.stop()
        await zoho.stop()


async def _until(probe, expected: int, seconds: float, why) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while await probe() != expected:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not {expected} after {seconds} s:\n{why()}")
        await asyncio.sleep(0.2)
