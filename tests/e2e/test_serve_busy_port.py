"""A server that cannot bind its port still shuts down what it built: the database, the clients, the SDK's folder."""

from __future__ import annotations

import os
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
