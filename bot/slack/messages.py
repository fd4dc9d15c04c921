"""Messages the bot sends on its own (not as a reply): DMs with the login link and connection news."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.text import escape
from oauth.datacentres import data_centre_name
from store import ChatIdentity, Connection

log = logging.getLogger(__name__)

LOGIN_LINK_ACTION = "zoho_login_link"  # a link button: its click is acked and nothing more (bot.slack.commands)
RUN_INTERRUPTED = "zoho_run_interrupted"  # "Run it now" after a login: its value is an opaque one-off id
# Where a posted message is: (channel id, ts).
Posted = tuple[str, str]


def login_blocks(link: str, reason: str) -> list[dict[str, Any]]:
    """The DM with the personal "Login with Zoho" button."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": reason}},
        {
            "type": "actions",
            "block_id": "zoho_login",
            "elements": [
                {
                    "type": "button",
                    "action_id": LOGIN_LINK_ACTION,
                    "text": {"type": "plain_text", "text": "Login with Zoho"},
                    "style": "primary",
                    "url": link,
                }
            ],
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "This link is just for you, works once and expires in 10 minutes."}
            ],
        },
    ]


def connected_text(connection: Connection) -> str:
    return (
        f"Connected to Zoho CRM as {escape(connection.zoho_email)}, {escape(connection.org_name)}, "
        f"{data_centre_name(connection.location)} data centre."
    )


class Messenger:
    """Sends DMs through the Web API; a failure is logged and reported as False, never raised."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def dm(self, user_id: str, text: str, blocks: list[dict[str, Any]] | None = None) -> bool:
        """Post into the app's direct message with `user_id`; False (logged) when Slack refused or failed."""
        return await self._post_dm(user_id, text, blocks) is not None

    async def _post_dm(self, user_id: str, text: str, blocks: list[dict[str, Any]] | None) -> Posted | None:
        try:
            opened = await self._client.conversations_open(users=user_id)
            channel = opened["channel"]["id"]
            sent = await self._client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
            return str(sent.get("channel") or channel), str(sent.get("ts") or "")
        except SlackApiError as exc:
            log.error("DM to user=%s failed: %s", user_id, exc.response.get("error"))
            return None
        except Exception as exc:  # network failures: the caller tells the user another way
            log.error("DM to user=%s failed: %s", user_id, type(exc).__name__)
            return None

    async def send_login_link(self, identity: ChatIdentity, link: str, reason: str) -> Posted | None:
        """DM the login link; where the message is (None, logged, when it could not be sent)."""
        return await self._post_dm(identity.user_id, f"{reason} Login with Zoho: {link}", login_blocks(link, reason))

    async def take_down(self, posted: Posted) -> None:
        """Delete one of the bot's messages (an older login link's); a message already gone is no matter."""
        channel, ts = posted
        try:
            await self._client.chat_delete(channel=channel, ts=ts)
        except SlackApiError as exc:
            log.info("old login link message not deleted: %s", exc.response.get("error"))
        except Exception as exc:  # network trouble: its link no longer works anyway
            log.info("old login link message not deleted: %s", type(exc).__name__)

    async def send_login_undone(self, identity: ChatIdentity, zoho_email: str | None) -> None:
        """Tell `identity` that the Zoho account their link connected was disconnected by its owner."""
        account = f" ({escape(zoho_email)})" if zoho_email else ""
        await self.dm(
            identity.user_id,
            f"The Zoho CRM account{account} connected through your login link was disconnected from the login "
            "page by that account's owner, and its access revoked. Type `/lead login` to connect your own.",
        )

    async def send_login_refused(self, identity: ChatIdentity, zoho_email: str) -> None:
        """Tell `identity` that a login through their link was refused: the Zoho e-mail was not theirs."""
        await self.dm(
            identity.user_id,
            f"A login through your link with the Zoho account {escape(zoho_email)} was refused: this workspace "
            "connects only a Zoho account with your Slack e-mail address, and that one has another. Nothing was "
            "connected and its access was revoked. If you did not share your link, someone may have tried to; "
            "type `/lead login` to connect your own.",
        )

    async def send_connected(self, connection: Connection, resume_id: str | None = None) -> None:
        """Tell the person they are connected; with `resume_id`, offer to run the command their login interrupted
        (the button carries only that opaque id: what they typed stays with the bot)."""
        # A login link can be forwarded and finished by someone else: the owner of the chat identity is told
        # which Zoho account now acts for them, and how to undo it.
        text = f"{connected_text(connection)} Not the Zoho account you meant? Type `/lead logout`."
        blocks = connected_blocks(text, resume_id) if resume_id else None
        await self.dm(connection.identity.user_id, text, blocks)


def connected_blocks(text: str, resume_id: str) -> list[dict[str, Any]]:
    """The "connected" DM with the "Run it now" button for the command typed before the login."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "You typed a `/lead` command before you were connected."},
            "accessory": {
                "type": "button",
                "action_id": RUN_INTERRUPTED,
                "text": {"type": "plain_text", "text": "Run it now"},
                "style": "primary",
                "value": resume_id,
            },
        },
    ]
