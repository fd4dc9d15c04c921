"""Token refresh at expiry and memory per connected user, on real `python -m bot` processes.

    python bench/refresh_bench.py                     # SQLite, 1 and 2 replicas (+ PostgreSQL if TEST_POSTGRES_URL)
    python bench/refresh_bench.py --calls 100 --latency 0.1 --users 10000 --commands 1000
    python bench/refresh_bench.py --skip-memory

1. Refresh: one user's access token expires (at the Zoho emulator and in the store); `--calls` concurrent
   `/lead list` commands then arrive, spread round robin over 1 or 2 replicas on one database. Printed: how
   many refreshes the emulator saw, how many answers listed the Leads, and the time from sending each command
   to its answer reaching Slack (p50/p99/max). Target: exactly 1 refresh, every command answered with the Leads
   (a person's flood is queued and worked on two at a time per replica, not refused).
   Beside it, the same load through the SDK's own refresh (no TokenRefresher): `--calls` concurrent
   ZohoCrm.list_leads in one process with the expired token in our PeeweeTokenStore, first with the emulator's
   refresh throttle lifted (how many refreshes), then with Zoho's real one (10 per refresh token per 10 min).
2. Memory: a bot process (SQLite) with `--users` connected users (inserted through the store API, each with a
   live token at the emulator), after `--commands` commands: 60 % `/lead whoami` from random users, 40 %
   `/lead list` from 200 users (each with its own SDK field cache). Printed: RSS before and after (VmRSS from
   /proc). Target: <= 200 MB.

Every Zoho request takes `--latency` seconds at the emulator. Not a test: prints figures; exit status 1 when
a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.slack.front_door import OVERLOADED  # noqa: E402
from bot.zoho import CrmConnection, ZohoCrm  # noqa: E402
from oauth.login import SCOPES  # noqa: E402
from playground.zoho import ZohoEmulator  # noqa: E402
from store import ChatIdentity, NewConnection, PeeweeTokenStore, generate_key  # noqa: E402
from tests.processes import running_fleet, shown, sqlite_url  # noqa: E402
from tests.stack import ANN, CLIENT_ID, CLIENT_SECRET, TEAM_ID  # noqa: E402

ANN_EMAIL = "ann@acme.test"
RSS_TARGET_MB = 200.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def timings(seconds: list[float]) -> str:
    if not seconds:
        return "no completed calls"
    return (
        f"p50 {statistics.median(seconds) * 1000:.0f} ms, p99 {percentile(seconds, 0.99) * 1000:.0f} ms, "
        f"max {max(seconds) * 1000:.0f} ms"
    )


def mint(zoho: ZohoEmulator, email: str, redirect_uri: str, lifetime: float = 3600) -> tuple[str, str, int]:
    """A live (refresh token, access token, expiry ms) for `email`, issued by the emulator's ledger directly."""
    user = zoho.user(email)
    code = zoho.ledger.issue_code(CLIENT_ID, redirect_uri, email, user.org_id, SCOPES, True)
    grant = zoho.ledger.exchange_code(CLIENT_ID, code, redirect_uri, lifetime)
    return grant.refresh_token, grant.access_token.value, int(grant.access_token.expires_at * 1000)


def save_minted_connection(
    store: PeeweeTokenStore, zoho: ZohoEmulator, identity: ChatIdentity, email: str, redirect: str
):
    refresh, access, expires_ms = mint(zoho, email, redirect)
    user = zoho.user(email)
    new = NewConnection(
        zoho_email=email,
        zoho_user_id=user.crm_user_id,
        org_id=user.org_id,
        org_name=user.org_name,
        location="us",
        accounts_server=zoho.url,
        api_domain=zoho.url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=refresh,
        access_token=access,
        expires_at_ms=expires_ms,
        redirect_uri=redirect,
    )
    connection, _ = store.connections.save(identity, new)
    return connection


async def expire(store: PeeweeTokenStore, zoho: ZohoEmulator, connection_id: str) -> None:
    secrets = await asyncio.to_thread(store.connections.secrets, connection_id)
    zoho.expire_access_tokens()
    await asyncio.to_thread(store.connections.update_access_token, connection_id, secrets.access_token, 0)


@contextlib.contextmanager
def postgres_database(url: str) -> Iterator[str]:
    from tests.processes import admin_connection

    name = f"zohobot_bench_{os.getpid()}"
    base, _, _ = url.rpartition("/")
    admin = admin_connection(url)
    try:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
        yield f"{base}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# ----- 1. refresh through the bot ----------------------------------------------------------------------------


async def bot_refresh(label: str, database_url: str, replicas: int, calls: int, latency: float) -> bool:
    with tempfile.TemporaryDirectory(prefix="refresh-bench-") as tmp:
        async with running_fleet(Path(tmp), database_url, replicas=replicas) as fleet:
            bots = fleet.replicas
            await fleet.connect(ANN, ANN_EMAIL, via=bots[0])
            fleet.zoho.seed_leads(ANN_EMAIL, 3)
            for bot in bots:  # each process's first call fills its SDK field cache
                assert "Your Leads" in await fleet.ask(ANN, "list", via=bot)
            store = PeeweeTokenStore(database_url, fleet.key)
            try:
                connection = await asyncio.to_thread(store.connections.get, ChatIdentity(TEAM_ID, ANN))
                await expire(store, fleet.zoho, connection.id)
            finally:
                store.close()
            fleet.zoho.latency = latency
            before = fleet.zoho.counters["refresh"]

            async def one(i: int) -> tuple[float, str]:
                started = time.perf_counter()
                result = await fleet.command(ANN, "list", via=bots[i % len(bots)])
                answer = shown(await fleet.answer(result, timeout=120))
                outcome = "listed" if "Your Leads" in answer else "turned away" if OVERLOADED in answer else "other"
                return time.perf_counter() - started, outcome

            results = await asyncio.gather(*(one(i) for i in range(calls)))
            refreshes = fleet.zoho.counters["refresh"] - before
            outcomes = [outcome for _, outcome in results]
            print(
                f"  bot, single-flight, {label}, {replicas} replica(s): {refreshes} refresh(es) at Zoho; of {calls} "
                f"answers {outcomes.count('listed')} listed the Leads, {outcomes.count('turned away')} said "
                f"'nothing was done, try again' (a person's commands are queued, 2 at a time per replica), "
                f"{outcomes.count('other')} other; {timings([s for s, _ in results])}"
            )
            return refreshes == 1 and outcomes.count("listed") == calls


# ----- 1b. refresh by the SDK itself -------------------------------------------------------------------------


async def sdk_refresh(calls: int, latency: float, refresh_limit: int | None) -> None:
    with tempfile.TemporaryDirectory(prefix="refresh-bench-sdk-") as tmp:
        zoho = ZohoEmulator()
        await zoho.start("127.0.0.1", 0)
        redirect = "http://127.0.0.1:1/zoho/callback"
        zoho.register_client(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=redirect)
        zoho.add_user(email=ANN_EMAIL, full_name="Ann Smith", org_name="Acme Ltd")
        zoho.seed_leads(ANN_EMAIL, 3)
        store = PeeweeTokenStore(f"sqlite:///{tmp}/sdk.db", generate_key())
        # Our per-user and per-org bounds lifted too: this is the SDK on its own, each call refreshing as it sees fit.
        crm = ZohoCrm(
            store,
            f"{tmp}/resources",
            max_workers=calls,
            jobs_per_user=calls,
            org_concurrency=calls,
            read_timeout=60,
            call_timeout=120,
        )
        try:
            stored = await asyncio.to_thread(
                save_minted_connection, store, zoho, ChatIdentity(TEAM_ID, ANN), ANN_EMAIL, redirect
            )
            target = CrmConnection.of(stored)
            await crm.list_leads(target)  # fills the field cache, as in the bot runs
            await expire(store, zoho, stored.id)
            zoho.latency = latency
            if refresh_limit is not None:
                zoho.refresh_limit = refresh_limit
            before = zoho.counters["refresh"]

            async def one() -> tuple[float, str | None]:
                started = time.perf_counter()
                try:
                    await crm.list_leads(target)
                    return time.perf_counter() - started, None
                except Exception as exc:
                    return time.perf_counter() - started, type(exc).__name__

            results = await asyncio.gather(*(one() for _ in range(calls)))
            failures: dict[str, int] = {}
            for _, error in results:
                if error:
                    failures[error] = failures.get(error, 0) + 1
            limit = f"throttle {refresh_limit}/10 min" if refresh_limit is not None else "Zoho's throttle (10/10 min)"
            print(
                f"  SDK's own refresh (no single-flight), {limit}: {zoho.counters['refresh'] - before} refresh "
                f"requests at Zoho, {calls - sum(failures.values())}/{calls} calls succeeded"
                f"{' (failed: ' + ', '.join(f'{n} {k}' for k, n in failures.items()) + ')' if failures else ''}; "
                f"{timings([s for s, e in results if e is None])}"
            )
        finally:
            await crm.close()
            store.close()
            await zoho.stop()


# ----- 2. memory -----------------------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def memory(users: int, commands: int, list_users: int = 200) -> bool:
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        url = sqlite_url(Path(tmp))
        async with running_fleet(Path(tmp), url, replicas=1) as fleet:
            (bot,) = fleet.replicas
            fleet.zoho.ledger.max_refresh_per_user_client = users + 10
            redirect = f"{fleet.lb.url}/zoho/callback"
            emails = [f"member{i}@acme.test" for i in range(list_users)]
            for email in emails:
                fleet.zoho.add_user(email=email, org_name="Acme Ltd")
            fleet.zoho.seed_leads(emails[0], 5)
            ids = [f"UM{i:05d}" for i in range(users)]
            for uid in ids:
                fleet.slack.add_user(uid, name=uid.lower(), real_name=uid, email=f"{uid.lower()}@acme.test")
            store = PeeweeTokenStore(url, fleet.key)
            started = time.perf_counter()

            def fill() -> None:
                for i, uid in enumerate(ids):
                    save_minted_connection(
                        store, fleet.zoho, ChatIdentity(TEAM_ID, uid), emails[i % list_users], redirect
                    )

            await asyncio.to_thread(fill)
            fill_s = time.perf_counter() - started
            store.close()
            await asyncio.sleep(1)
            idle = rss_mb(bot.proc.pid)

            rng = random.Random(7)
            plan = [
                ("list", ids[rng.randrange(list_users)]) if rng.random() < 0.4 else ("whoami", rng.choice(ids))
                for _ in range(commands)
            ]
            gate = asyncio.Semaphore(16)
            ok = 0

            async def one(text: str, uid: str) -> None:
                nonlocal ok
                async with gate:
                    answer = await fleet.ask(uid, text, via=bot, timeout=60)
                    ok += ("Your Leads" in answer) if text == "list" else ("Acme Ltd" in answer)

            started = time.perf_counter()
            await asyncio.gather(*(one(text, uid) for text, uid in plan))
            run_s = time.perf_counter() - started
            after = rss_mb(bot.proc.pid)
            met = after <= RSS_TARGET_MB
            print(
                f"  {users} connected users inserted in {fill_s:.1f} s; bot RSS idle {idle:.0f} MB; after {commands} "
                f"commands ({sum(t == 'list' for t, _ in plan)} list from {list_users} users, the rest whoami; "
                f"{ok}/{commands} answered as expected, {commands / run_s:.0f} commands/s): RSS {after:.0f} MB "
                f"(target <= {RSS_TARGET_MB:.0f} MB: {'met' if met else 'MISSED'})"
            )
            return met and ok == commands


async def main(args: argparse.Namespace) -> int:
    print(f"refresh_bench: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, Zoho latency {args.latency} s")
    met = True
    if args.skip_refresh:
        print("2. memory")
        met &= await memory(args.users, args.commands)
        print(f"targets {'met' if met else 'MISSED'}")
        return 0 if met else 1
    print(f"1. {args.calls} concurrent calls of one user at token expiry")
    with tempfile.TemporaryDirectory() as tmp:
        met &= await bot_refresh("SQLite", sqlite_url(Path(tmp)), 1, args.calls, args.latency)
    with tempfile.TemporaryDirectory() as tmp:
        met &= await bot_refresh("SQLite", sqlite_url(Path(tmp)), 2, args.calls, args.latency)
    postgres = os.environ.get("TEST_POSTGRES_URL", "").strip()
    if postgres:
        with postgres_database(postgres) as url:
            met &= await bot_refresh("PostgreSQL", url, 2, args.calls, args.latency)
    await sdk_refresh(args.calls, args.latency, refresh_limit=10_000)
    await sdk_refresh(args.calls, args.latency, refresh_limit=None)
    if not args.skip_memory:
        print("2. memory")
        met &= await memory(args.users, args.commands)
    print(f"targets {'met' if met else 'MISSED'}")
    return 0 if met else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds every Zoho request takes")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-refresh", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
