"""`app.yaml`, the manifest operators paste into Slack: valid by Slack's published schema, and in step with what the
bot listens to (a command or event the bot handles but the manifest does not ask for never arrives)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.leads.links import CRM_HOSTS
from bot.slack.commands import events, home, interrupted, lead, lead_buttons, revoke, shortcuts, unfurls
from bot.slack.views.help import help_blocks, help_text

ROOT = Path(__file__).resolve().parents[1]


def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "app.yaml").read_text(encoding="utf-8"))


class Recorder:
    """Stands in for the front door: records what each commands module registers."""

    def __init__(self) -> None:
        self.registered: dict[str, list[str]] = {"command": [], "action": [], "view": [], "event": [], "shortcut": []}

    def __getattr__(self, kind: str) -> Any:
        if kind not in self.registered:
            raise AttributeError(kind)
        return lambda name, read, run: self.registered[kind].append(name)


def registered() -> dict[str, list[str]]:
    recorder = Recorder()
    for commands in (lead, lead_buttons, revoke, events, shortcuts, home, unfurls, interrupted):
        commands.register(recorder)  # type: ignore[arg-type]
    return recorder.registered


def test_the_manifest_is_valid_by_slacks_published_schema() -> None:
    app = manifest()
    version = app["_metadata"]["major_version"]
    schema = json.loads((ROOT / "tests" / "data" / f"slack-manifest.schema.{version}.0.0.json").read_text())
    jsonschema.validate(app, schema)


def test_the_manifest_asks_for_every_command_and_event_the_bot_handles() -> None:
    app, wanted = manifest(), registered()
    commands = {c["command"]: c for c in app["features"]["slash_commands"]}
    assert set(wanted["command"]) == set(commands)
    assert all(c["should_escape"] is True for c in commands.values())  # mentions arrive as user ids
    assert set(wanted["event"]) <= set(app["settings"]["event_subscriptions"]["bot_events"])
    assert set(wanted["shortcut"]) == {s["callback_id"] for s in app["features"].get("shortcuts", [])}
    assert app["settings"]["interactivity"]["is_enabled"] is True  # buttons and forms
    if "app_home_opened" in wanted["event"]:  # the event comes only for an enabled Home tab
        assert app["features"]["app_home"]["home_tab_enabled"] is True
    scopes = set(app["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "users:read"} <= scopes  # users:read: admins and user_change


def test_lead_links_of_the_five_unfurl_domains_reach_the_bot_and_it_may_unfurl_them() -> None:
    app = manifest()
    domains = app["features"]["unfurl_domains"]
    assert len(domains) == len(set(domains)) == 5  # Slack's most
    assert set(domains) <= set(CRM_HOSTS)  # hosts whose Lead links the bot reads
    assert "link_shared" in registered()["event"]
    assert {"links:read", "links:write"} <= set(app["oauth_config"]["scopes"]["bot"])


def test_the_check_notices_an_event_the_manifest_forgot() -> None:
    app = manifest()
    bot_events = app["settings"]["event_subscriptions"]["bot_events"]
    bot_events.remove("user_change")
    assert not set(registered()["event"]) <= set(bot_events)


def test_the_lead_usage_hint_and_help_name_every_subcommand_and_alias() -> None:
    [lead_command] = [c for c in manifest()["features"]["slash_commands"] if c["command"] == "/lead"]
    hint = lead_command["usage_hint"]
    shown = help_text() + json.dumps(help_blocks())
    for word in ("help", *lead.SUBCOMMANDS):
        assert re.search(rf"\b{word}\b", hint), word
        assert f"`{word}`" in shown or f"/lead {word}" in shown, word
    assert '"phrase"' in hint and "key=value" in hint  # a quoted search, and fields typed after create/edit
