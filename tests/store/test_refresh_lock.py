"""`refresh_locks.hold` keeps a token refresh single-flight across threads, connections and processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from store import ChatIdentity, PeeweeTokenStore, RefreshLockTimeout
from tests.store.sample_connections import save_sample_connection

from .conftest import Backend

ANN = ChatIdentity("T0001", "U0001")
BOB = ChatIdentity("T0001", "U0002")
REPO = Path(__file__).resolve().parents[2]


def refresh_like_the_oauth_layer(store: PeeweeTokenStore, connection_id: str) -> None:
    """Read the token, 'refresh' it (count + 1), save it: loses updates unless serialised."""
    with store.refresh_locks.hold(connection_id):
        current = store.connections.secrets(connection_id)
        count = int(current.access_token.rsplit("-", 1)[1])
        store.connections.update_access_token(connection_id, f"1000.at-{count + 1}", current.expires_at_ms + 1)


def test_refreshes_of_one_connection_from_many_threads_never_overlap(backend: Backend) -> None:
    stores = [backend.open(), backend.open()]  # two stores: two connections, two in-process lock tables
    connection = save_sample_connection(stores[0], ANN, access_token="1000.at-0")

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda i: refresh_like_the_oauth_layer(stores[i % 2], connection.id), range(30)))

    assert stores[0].connections.secrets(connection.id).access_token == "1000.at-30"


def test_a_second_holder_waits_and_gives_up_after_its_timeout(backend: Backend) -> None:
    first, second = backend.open(), backend.open()
    connection = save_sample_connection(first, ANN)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with first.refresh_locks.hold(connection.id):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    try:
        with pytest.raises(RefreshLockTimeout), second.refresh_locks.hold(connection.id, timeout=0.3):
            pass
        with pytest.raises(RefreshLockTimeout), first.refresh_locks.hold(connection.id, timeout=0.3):
            pass
    finally:
        release.set()
        holder.join(10)

    with second.refresh_locks.hold(connection.id, timeout=5):
        assert second.connections.update_access_token(connection.id, "1000.after", 1)


def test_the_lock_is_released_when_the_block_fails(store: PeeweeTokenStore) -> None:
    connection = save_sample_connection(store, ANN)

    with pytest.raises(RuntimeError), store.refresh_locks.hold(connection.id):
        raise RuntimeError("Zoho said no")

    done = threading.Event()

    def take_it() -> None:
        with store.refresh_locks.hold(connection.id, timeout=5):
            done.set()

    worker = threading.Thread(target=take_it)
    worker.start()
    worker.join(10)
    assert done.is_set()


@pytest.mark.backends("postgres", "mysql")
def test_on_a_server_other_connections_are_not_held_up(backend: Backend) -> None:
    first, second = backend.open(), backend.open()
    ann = save_sample_connection(first, ANN)
    bob = save_sample_connection(first, BOB)

    with first.refresh_locks.hold(ann.id):
        outcome = ThreadPoolExecutor(1).submit(lambda: _lock_and_update(second, bob.id)).result(10)

    assert outcome is True


def _lock_and_update(store: PeeweeTokenStore, connection_id: str) -> bool:
    with store.refresh_locks.hold(connection_id, timeout=2):
        return store.connections.update_access_token(connection_id, "1000.bob-new", 1)


HOLDER = """
import sys
from store import PeeweeTokenStore
store = PeeweeTokenStore(sys.argv[1], sys.argv[2] or None)
with store.refresh_locks.hold(sys.argv[3]):
    print("locked", flush=True)
    sys.stdin.readline()
print("released", flush=True)
store.close()
"""


def test_another_process_holding_the_lock_keeps_this_one_out(backend: Backend) -> None:
    store = backend.open()
    connection = save_sample_connection(store, ANN)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, backend.url, backend.key or "", connection.id],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RefreshLockTimeout), store.refresh_locks.hold(connection.id, timeout=0.5):
            pass
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "released"
    finally:
        holder.stdin.close()
        holder.wait(20)

    with store.refresh_locks.hold(connection.id, timeout=5):
        assert store.connections.update_access_token(connection.id, "1000.mine", 1)
