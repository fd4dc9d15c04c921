"""The Slack listeners, run in-process through the real bolt app and the front door, with the services faked."""
