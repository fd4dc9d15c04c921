"""A local Slack for tests and `python -m bot --local`: Web API, signed deliveries to the app, a console.

from emulators.slack import SlackEmulator, SlackUser, sign_slack_request
"""

from emulators.slack.emulator import SlackEmulator
from emulators.slack.records import (
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
from emulators.slack.signing import sign_slack_request

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
