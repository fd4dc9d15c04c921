"""A server that cannot bind its port still shuts down what it built: the database, the clients, the SDK's folder."""

from __future__ import annotations

import asyncio
import os
import signal
import socket

import pytest

from bot.app import COMPONENTS, build_application
from bot.server import serve
from bot.settings import load_settings
from tests.stack import emulator_settings, start_emulators


async def test_a_busy_port_fails_the_start_and_leaves_nothing_open(tmp_path) -> None:
    zoho, slack = await start_emulators()
    try:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            settings = load_settings(
                {**emulator_settings(slack, zoho), "PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"},
                dotenv_path=None,
            )
            app = await build_application(settings)
            components = app[COMPONENTS]
            assert components.store.ping() and os.path.isdir(components.crm.resource_path)

            with pytest.raises(OSError):
                await serve(app, "127.0.0.1", port)

        assert not components.store.ping()  # closed, not left to the garbage collector
        # the orgs' field metadata stays for the next start, readable by this user only
        assert os.stat(components.crm.resource_path).st_mode & 0o777 == 0o700
    finally:
        await slack.stop()
        await zoho.stop()


@pytest.mark.parametrize("worker", [True, False])
async def test_a_worker_that_has_stopped_lets_a_late_stop_signal_pass_and_a_lone_server_does_not(
    tmp_path, worker: bool
) -> None:
    """Ctrl-C or a service manager signals every process of the group: a worker of `--workers` stops on its own
    signal, and then gets its parent's forwarded one. That one must not kill it on its way out (its parent would
    count an unclean stop and exit 1); a lone server is killed by a second signal, as a second Ctrl-C means."""
    zoho, slack = await start_emulators()
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        settings = load_settings(
            {**emulator_settings(slack, zoho), "PORT": "0", "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"},
            local=True,
            dotenv_path=None,
        )
        app = await build_application(settings)
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(app, "127.0.0.1", 0, stop=stop, reuse_port=worker))
        await asyncio.sleep(0.3)
        os.kill(os.getpid(), signal.SIGTERM)  # the group's signal, through the server's own handler
        await asyncio.wait_for(serving, 15)

        assert stop.is_set()
        if worker:
            assert signal.getsignal(signal.SIGTERM) == signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        else:  # Python's own again: a second SIGTERM ends the process, a second Ctrl-C raises KeyboardInterrupt
            assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
            assert signal.getsignal(signal.SIGINT) == signal.default_int_handler
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
        await slack.stop()
        await zoho.stop()
