"""What an admin may type after `/zoho-revoke`, as Slack delivers it, and how the answers read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.slack.commands.revoke import RevokeKind, parse_revoke_text
from bot.slack.views.revoke import all_summary, audit_line, revoked_line, sections
from oauth.revocation import RETRY_ACTOR, Forgotten, RevokeOutcome
from store import ChatIdentity
from store.audit import AuditEntry


@pytest.mark.parametrize(
    ("raw", "user_ids"),
    [
        ("<@U012ABCDEF|ernie>", ("U012ABCDEF",)),
        ("<@U012ABCDEF>", ("U012ABCDEF",)),
        ("<@W012ABCDEF|ernie bert>", ("W012ABCDEF",)),
        ("U012ABCDEF", ("U012ABCDEF",)),
        ("  <@U1AA|a>   <@U2BB|b> U1AA ", ("U1AA", "U2BB")),
        ("&lt;@U012ABCDEF&gt;", ("U012ABCDEF",)),  # the contract's <@U…> typed out by hand (Slack escapes it)
    ],
)
def test_people_by_mention_or_member_id(raw, user_ids):
    request = parse_revoke_text(raw)
    assert request.kind is RevokeKind.USERS
    assert request.user_ids == user_ids


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("", RevokeKind.USAGE),
        ("  ", RevokeKind.USAGE),
        ("help", RevokeKind.USAGE),
        ("--all", RevokeKind.ALL),
        ("--ALL", RevokeKind.ALL),
        ("--list", RevokeKind.LIST),
        ("--audit", RevokeKind.AUDIT),
    ],
)
def test_flags_and_usage(raw, kind):
    assert parse_revoke_text(raw).kind is kind


def test_a_plain_name_asks_for_a_mention_and_echoes_it():
    request = parse_revoke_text("@ernie")
    assert request.kind is RevokeKind.INVALID
    assert "`@ernie`" in request.problem and "Mention the person" in request.problem
    assert "so Slack sends their id" in request.problem


def test_anything_else_is_echoed_escaped():
    request = parse_revoke_text("everyone &lt;b&gt; <mailto:x@y.test|x@y.test>")
    assert request.kind is RevokeKind.INVALID
    assert "`/zoho-revoke everyone &lt;b&gt; x@y.test`" in request.problem
    assert "<b>" not in request.problem


def test_a_flag_goes_alone():
    request = parse_revoke_text("--all <@U1AA|a>")
    assert request.kind is RevokeKind.INVALID
    assert "`--all` goes on its own" in request.problem and "`/zoho-revoke --all @a`" in request.problem


def test_lines_for_the_admin():
    ann = ChatIdentity(team_id="T1", user_id="U0ANN")
    assert (
        revoked_line(Forgotten(ann, RevokeOutcome.REVOKED, "ann@acme.test"))
        == "Revoked <@U0ANN>'s Zoho CRM connection (ann@acme.test). Zoho confirmed the revocation."
    )
    queued = revoked_line(Forgotten(ann, RevokeOutcome.QUEUED, "a<b>@acme.test"))
    assert "(a&lt;b&gt;@acme.test)" in queued and "queued and retried in the background" in queued
    assert revoked_line(Forgotten(ann, RevokeOutcome.NOT_CONNECTED)) == "<@U0ANN> has no Zoho connection."

    bob = ChatIdentity(team_id="T1", user_id="U0BOB")
    summary = all_summary([Forgotten(ann, RevokeOutcome.REVOKED, "a@x"), Forgotten(bob, RevokeOutcome.QUEUED, "b@x")])
    assert summary[0].startswith("Revoked 2 Zoho CRM connections in this workspace (1 confirmed by Zoho, 1 queued).")
    assert summary[1:] == [
        "• <@U0ANN> (a@x): revoked, confirmed by Zoho",
        "• <@U0BOB> (b@x): deleted here; Zoho not reached yet, retrying",
    ]


def test_audit_lines_name_people_and_the_background_retry():
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    entry = AuditEntry("1", "T1", RETRY_ACTOR, "revoke", "U0ANN", None, "revoked", "delivered after 3 attempts", when)
    assert audit_line(entry) == (
        "• `2026-01-02 03:04 UTC` background retry *revoked* <@U0ANN>: confirmed by Zoho — delivered after 3 attempts"
    )


def test_an_admin_revoking_their_own_connection_is_named_as_its_subject_but_a_logout_is_not():
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    revoked = AuditEntry("1", "T1", "U0ADA", "revoke", "U0ADA", None, "not_connected", None, when)
    logged_out = AuditEntry("2", "T1", "U0ADA", "logout", "U0ADA", "ada@acme.test", "revoked", None, when)

    assert audit_line(revoked) == "• `2026-01-02 03:04 UTC` <@U0ADA> *revoked* <@U0ADA>: was not connected"
    assert audit_line(logged_out).startswith("• `2026-01-02 03:04 UTC` <@U0ADA> *logged out* (ada@acme.test)")


def test_long_answers_are_split_within_block_kit_limits():
    lines = [
        f"• <@U{i:08d}> — someone{i}@example.test · Some Org · US data centre · since 2026-01-01" for i in range(900)
    ]
    blocks = sections("*900 connected*", lines)
    texts = [b["text"]["text"] for b in blocks]
    assert len(blocks) == 20
    assert all(len(t) <= 3000 for t in texts)
    shown = sum(t.count("• <@U") for t in texts)
    assert texts[-1] == f"…and {900 - shown} more."
    assert "<@U00000000>" in texts[0] and texts[0].startswith("*900 connected*\n")

    few = sections("*2 connected*", lines[:2])
    assert [b["text"]["text"] for b in few] == ["\n".join(["*2 connected*", *lines[:2]])]
