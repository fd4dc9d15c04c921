"""A local Slack for tests and `python -m bot --local`: Web API, signed deliveries to the app, a console.

from playground.slack import SlackEmulator, SlackUser, sign_slack_request
"""

from playground.slack.emulator import SlackEmulator
from playground.slack.records import (
    ActionResult,
    ApiCall,
    BotReply,
    Channel,
    CommandResult,
    RecordedMessage,
    RecordedView,
    SlackUser,
    ViewSubmitResult,
)
from playground.slack.signing import sign_slack_request

__all__ = [
    "ActionResult",
    "ApiCall",
    "BotReply",
    "Channel",
    "CommandResult",
    "RecordedMessage",
    "RecordedView",
    "SlackEmulator",
    "SlackUser",
    "ViewSubmitResult",
    "sign_slack_request",
]
