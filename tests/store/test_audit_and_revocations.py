"""The audit trail an admin reads, and the queue of revocations Zoho could not take at the time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store import ChatIdentity, PeeweeTokenStore
from store.clock import datetime_from_ms
from tests.store.sample_connections import save_sample_connection

from .conftest import FakeClock


def test_the_audit_trail_lists_a_workspace_newest_first(store: PeeweeTokenStore, clock: FakeClock) -> None:
    store.audit.record("T1", "U-ann", "login", "U-ann", "ann@acme.test", "ok")
    clock.advance(1)
    store.audit.record("T1", "U-admin", "revoke", "U-ann", "ann@acme.test", "revoked", "by /zoho-revoke")
    store.audit.record("T2", "U-x", "logout", "U-x", None, "ok")
    clock.advance(1)
    store.audit.record("T1", "U-admin", "revoke_all", None, None, "partial", "Zoho unreachable; queued 1")

    entries = store.audit.list("T1")

    assert [(e.action, e.actor_user_id, e.subject_user_id, e.outcome) for e in entries] == [
        ("revoke_all", "U-admin", None, "partial"),
        ("revoke", "U-admin", "U-ann", "revoked"),
        ("login", "U-ann", "U-ann", "ok"),
    ]
    assert entries[1].detail == "by /zoho-revoke" and entries[1].zoho_email == "ann@acme.test"
    assert entries[0].created_at > entries[2].created_at
    assert [e.action for e in store.audit.list("T1", limit=2)] == ["revoke_all", "revoke"]
    assert [e.action for e in store.audit.list("T2")] == ["logout"]


def test_audit_text_is_kept_verbatim(store: PeeweeTokenStore) -> None:
    store.audit.record("T1", "U1", "uninstall", None, "O'Brien名前@acme.test", "ok", "'; DROP TABLE audit_entries; --")

    [entry] = store.audit.list("T1")

    assert (entry.zoho_email, entry.detail) == ("O'Brien名前@acme.test", "'; DROP TABLE audit_entries; --")


def test_an_unknown_audit_action_is_refused(store: PeeweeTokenStore) -> None:
    with pytest.raises(ValueError):
        store.audit.record("T1", "U1", "hack", None, None, "ok")  # type: ignore[arg-type]
    assert store.audit.list("T1") == []


def test_queued_revocations_come_due_are_retried_and_done(store: PeeweeTokenStore, clock: FakeClock) -> None:
    now = datetime_from_ms(int(clock() * 1000))
    first = store.revocations.queue("1000.r-ann", "https://accounts.zoho.eu", "T1", "U-ann")
    later = store.revocations.queue("1000.r-bob", "https://accounts.zoho.com", "T1", "U-bob", now + timedelta(hours=1))

    [due] = store.revocations.due(now, limit=10)
    assert (due.id, due.refresh_token, due.accounts_server, due.team_id, due.subject_user_id, due.attempts) == (
        first,
        "1000.r-ann",
        "https://accounts.zoho.eu",
        "T1",
        "U-ann",
        0,
    )
    assert "1000.r-ann" not in repr(due)

    assert store.revocations.reschedule(first, now + timedelta(minutes=5), "Zoho unreachable: timeout") is True
    assert store.revocations.due(now, limit=10) == []

    soon = now + timedelta(hours=2)
    due_now = store.revocations.due(soon, limit=10)
    assert [(d.id, d.attempts, d.last_error) for d in due_now] == [
        (first, 1, "Zoho unreachable: timeout"),
        (later, 0, ""),
    ]
    assert [d.id for d in store.revocations.due(soon, limit=1)] == [first]

    assert store.revocations.mark_done(first) is True
    assert store.revocations.mark_done(first) is False
    assert store.revocations.reschedule(first, soon, "gone") is False
    assert [d.id for d in store.revocations.due(soon, limit=10)] == [later]


def test_a_pending_grant_is_cancelled_by_saving_the_connection(store: PeeweeTokenStore, clock: FakeClock) -> None:
    ann = ChatIdentity("T1", "U-ann")
    store.revocations.hold_grant(ann, accounts_server="https://accounts.zoho.eu", refresh_token="1000.r-fresh")
    assert store.revocations.due(datetime_from_ms(int(clock() * 1000)), limit=10) == [], "not due at once"

    save_sample_connection(store, ann, refresh_token="1000.r-fresh")

    clock.advance(3600)
    assert store.revocations.due(datetime_from_ms(int(clock() * 1000)), limit=10) == []


def test_a_grant_left_pending_by_a_crash_comes_due_for_revocation(store: PeeweeTokenStore, clock: FakeClock) -> None:
    ann = ChatIdentity("T1", "U-ann")
    kept = store.revocations.hold_grant(ann, accounts_server="https://accounts.zoho.eu", refresh_token="1000.r-kept")
    orphan = store.revocations.hold_grant(ann, accounts_server="https://accounts.zoho.eu", refresh_token="1000.r-lost")
    assert store.revocations.mark_done(kept) is True
    assert store.revocations.mark_done(kept) is False

    clock.advance(601)

    [due] = store.revocations.due(datetime_from_ms(int(clock() * 1000)), limit=10)
    assert (due.id, due.refresh_token, due.team_id, due.subject_user_id) == (orphan, "1000.r-lost", "T1", "U-ann")


def test_forgetting_a_connection_deletes_it_and_queues_its_token_together(
    store: PeeweeTokenStore, clock: FakeClock
) -> None:
    ann = ChatIdentity("T1", "U-ann")
    save_sample_connection(store, ann, refresh_token="1000.refresh-ann")
    later = datetime_from_ms(int(clock() * 1000)) + timedelta(seconds=30)

    deleted, held = store.forget_connection(ann, later)

    assert deleted is not None and deleted.refresh_token == "1000.refresh-ann"
    assert store.connections.get(ann) is None
    assert store.revocations.due(later - timedelta(seconds=1)) == []  # not before it is due
    [due] = store.revocations.due(later)
    assert due.id == held and due.refresh_token == "1000.refresh-ann" and due.subject_user_id == "U-ann"
    assert store.forget_connection(ann, later) == (None, None)


def test_the_revocations_waiting_for_a_workspace_are_counted_and_named_oldest_first_without_tokens(
    store: PeeweeTokenStore, clock: FakeClock
) -> None:
    store.revocations.queue("1000.ann-refresh", "https://accounts.zoho.com", "T1", "U-ann")
    clock.advance(1)
    second = store.revocations.queue("1000.bob-refresh", "https://accounts.zoho.eu", "T1", "U-bob")
    store.revocations.queue("1000.other-refresh", "https://accounts.zoho.com", "T2", "U-x")
    store.revocations.reschedule(second, datetime_from_ms(0), "Zoho unreachable")

    count, oldest = store.revocations.waiting("T1", limit=1)

    assert count == 2
    assert [(w.subject_user_id, w.attempts) for w in oldest] == [("U-ann", 0)]
    assert "refresh" not in repr(store.revocations.waiting("T1"))
    assert [(w.subject_user_id, w.attempts, w.last_error) for w in store.revocations.waiting("T1")[1]][1] == (
        "U-bob",
        1,
        "Zoho unreachable",
    )
    assert store.revocations.waiting("T3") == (0, [])
