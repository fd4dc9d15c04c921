"""Who counts as an admin: asked of the Slack emulator's users.info through the real slack_sdk client."""

from __future__ import annotations

from bot.slack.admin import AdminCheck, AdminReason
from store import ChatIdentity
from tests.playground.slack_fixtures import *  # noqa: F403 - the slack and client fixtures
from tests.playground.slack_fixtures import ANN, BOB, CAROL

TEAM = "T0LOCAL"


def who(user_id: str) -> ChatIdentity:
    return ChatIdentity(team_id=TEAM, user_id=user_id)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_workspace_admins_and_owners_are_admins_members_are_not(slack, client):
    slack.add_user("U0PRIME", name="prime", is_primary_owner=True, is_owner=True)
    slack.add_user("U0OWNER", name="owner", is_owner=True)
    slack.add_user("U0ADMIN", name="admin", is_admin=True)
    check = AdminCheck(client, frozenset())

    assert (await check.check(who("U0PRIME"))).reason is AdminReason.WORKSPACE_OWNER
    assert (await check.check(who("U0OWNER"))).allowed
    admin = await check.check(who("U0ADMIN"))
    assert admin.allowed and admin.reason is AdminReason.WORKSPACE_ADMIN
    assert (await check.check(who(CAROL))).allowed
    member = await check.check(who(ANN))
    assert not member.allowed and member.reason is AdminReason.NOT_ADMIN


async def test_listed_ids_are_admins_without_asking_slack(slack, client):
    check = AdminCheck(client, frozenset({BOB}))
    calls_before = len(slack.calls)
    verdict = await check.check(who(BOB))
    assert verdict.allowed and verdict.reason is AdminReason.LISTED
    assert len(slack.calls) == calls_before
    assert not (await check.check(who(ANN))).allowed


async def test_a_slack_failure_means_not_admin_and_is_not_cached(slack, client):
    check = AdminCheck(client, frozenset())
    slack.fail_method("users.info", status=500, times=1)
    failed = await check.check(who(CAROL))
    assert not failed.allowed and failed.reason is AdminReason.UNCONFIRMED
    assert (await check.check(who(CAROL))).allowed  # asked again, Slack answers now

    unknown = await check.check(who("U0NOBODY"))  # users.info answers user_not_found
    assert not unknown.allowed and unknown.reason is AdminReason.UNCONFIRMED


async def test_a_yes_is_asked_again_every_time_a_no_is_cached_for_a_minute(slack, client):
    clock = FakeClock()
    check = AdminCheck(client, frozenset(), cache_seconds=60, clock=clock)
    assert (await check.check(who(CAROL))).allowed
    slack.add_user(CAROL, name="carol")  # demoted in Slack a moment later
    calls = len(slack.calls)

    assert not (await check.check(who(CAROL))).allowed  # no stale "yes"
    assert [c.method for c in slack.calls[calls:]] == ["users.info"]

    clock.now += 59
    assert not (await check.check(who(CAROL))).allowed
    assert len(slack.calls) == calls + 1  # the "no" came from the cache

    clock.now += 2
    assert not (await check.check(who(CAROL))).allowed
    assert len(slack.calls) == calls + 2
