"""Buttons that only open a link (the DM's "Login with Zoho").

Slack still sends the app a `block_actions` request when someone presses a link button, and shows a warning
next to the button unless the app acks it. There is nothing else to do: the browser follows the link.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.app.async_app import AsyncApp

LOGIN_LINK_ACTION = "zoho_login_link"


def register_link_buttons(app: AsyncApp) -> None:
    @app.action(LOGIN_LINK_ACTION)
    async def link_opened(ack: Any) -> None:
        await ack()
