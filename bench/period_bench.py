"""What the CRM calls of a busy machine feel when an org's field metadata is fetched: at the end of an org's field
period (`FIELD_CACHE_SECONDS`), and when a new org's first command comes in.

    python bench/period_bench.py                   # 20 calls/s, 8 s per step, Zoho answering in 300 ms
    python bench/period_bench.py --rate 40 --seconds 5

The CRM adapter (`bot.zoho.ZohoCrm`, the real zohocrmsdk inside) in this process, with the bot's thread and slot
limits, against the Zoho emulator over loopback HTTP, also in this process. 20 people are connected, 10 in each of
two orgs (A and B), and one person in a third org (C). Every org but C has listed once (its fields are on the
disk). Then three steps, each `/lead list` calls at `--rate` a second from A's and B's people in turn, open load
(call n starts at n / rate seconds whatever happened to the others):

- steady: nothing else happens;
- period end: at the step's start the SDK's clock moves on one field period (every org's file is of the past
  period, as at the end of an hour);
- new org: one second in, C's person lists for the first time (C's fields are fetched: four calls).

For each step it prints the calls made, those answered, their completion p50 / p99 / slowest, the field-metadata
calls Zoho saw during the step and the most calls of one org in flight. Not a test: docs/benchmarks.md keeps the
figures.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import percentile  # noqa: E402
from bot.limits import CrmLimits  # noqa: E402
from bot.zoho import CrmError, ZohoCrm, sdk_runtime  # noqa: E402
from playground.zoho import ZohoEmulator  # noqa: E402
from tests.bot.leads_fixtures import (  # noqa: E402
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    MemoryTokenStore,
    ZohoAccount,
    connect_account,
)

HEADER = (
    f"{'step':<12} {'calls':>6} {'answered':>9} {'p50 s':>7} {'p99 s':>7} {'max s':>7} {'field':>6} {'in flight':>10}"
)


class ShiftedClock(types.SimpleNamespace):
    """Stands in for the `time` module that `bot.zoho.sdk_runtime` reads the date from: `time()` is the real one
    moved on by `shift` seconds, so the SDK's field periods can end on demand (nothing else in the process moves)."""

    def __init__(self) -> None:
        super().__init__(**{name: getattr(time, name) for name in dir(time) if name[0] != "_" and name != "time"})
        self.shift = 0.0

    def time(self) -> float:  # type: ignore[override]
        return time.time() + self.shift


@dataclass
class Step:
    name: str
    calls: int = 0
    answered: int = 0
    took: list[float] = field(default_factory=list)
    field_calls: int = 0
    most_in_flight: int = 0

    def row(self) -> str:
        p50, p99 = percentile(self.took, 0.5), percentile(self.took, 0.99)
        slowest = max(self.took, default=0.0)
        return (
            f"{self.name:<12} {self.calls:>6} {self.answered:>9} {p50:>7.2f} {p99:>7.2f} {slowest:>7.2f} "
            f"{self.field_calls:>6} {self.most_in_flight:>10}"
        )


async def run_step(
    name: str, crm: ZohoCrm, emu: ZohoEmulator, people: list[ZohoAccount], args: argparse.Namespace, extra=None
) -> Step:
    step = Step(name)
    emu.most_in_flight.clear()
    before = len(emu.crm_calls)

    async def one(person: ZohoAccount) -> None:
        started = time.monotonic()
        try:
            await crm.list_leads(person.connection)
        except CrmError:
            return
        step.took.append(time.monotonic() - started)
        step.answered += 1

    began = time.monotonic()
    calls = []
    total = int(args.rate * args.seconds)
    for n in range(total):
        await asyncio.sleep(max(0.0, began + n / args.rate - time.monotonic()))
        if extra is not None and n == int(args.rate):  # one second in
            calls.append(asyncio.create_task(extra()))
        calls.append(asyncio.create_task(one(people[n % len(people)])))
        step.calls += 1
    await asyncio.gather(*calls)
    step.field_calls = sum(1 for call in emu.crm_calls[before:] if call.path.endswith("/settings/fields"))
    step.most_in_flight = max(emu.most_in_flight.values(), default=0)
    return step


async def main(args: argparse.Namespace) -> None:
    clock = ShiftedClock()
    sdk_runtime.time = clock  # type: ignore[assignment]
    limits = CrmLimits()
    emu = ZohoEmulator()
    emu.register_client(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
    store = MemoryTokenStore()
    await emu.start()
    try:
        async with aiohttp.ClientSession() as http:
            people = []
            for n in range(20):
                org, domain = ("Alpha Inc", "alpha") if n % 2 == 0 else ("Beta Ltd", "beta")
                email = f"p{n}@{domain}.test"
                emu.add_user(email=email, full_name=f"Person {n}", org_name=org)
                people.append(await connect_account(http, emu, store, email))
            emu.add_user(email="carol@gamma.test", full_name="Carol Gamma", org_name="Gamma Co")
            carol = await connect_account(http, emu, store, "carol@gamma.test")
        emu.seed_leads("p0@alpha.test", 30)
        emu.seed_leads("p1@beta.test", 30)
        emu.seed_leads("carol@gamma.test", 30)
        with tempfile.TemporaryDirectory(prefix="period-bench-") as folder:
            crm = ZohoCrm(
                store,
                folder,
                max_workers=limits.workers,
                jobs_per_user=limits.jobs_per_person,
                connect_timeout=limits.connect_timeout_s,
                read_timeout=limits.read_timeout_s,
                call_timeout=limits.call_timeout_s,
            )
            try:
                await crm.list_leads(people[0].connection)
                await crm.list_leads(people[1].connection)
                emu.latency = args.latency
                print(
                    f"period bench: {args.rate}/s for {args.seconds:g} s per step, Zoho latency "
                    f"{args.latency * 1000:.0f} ms\n{HEADER}",
                    flush=True,
                )
                print((await run_step("steady", crm, emu, people, args)).row(), flush=True)
                clock.shift += sdk_runtime.FIELD_CACHE_SECONDS
                print((await run_step("period end", crm, emu, people, args)).row(), flush=True)
                await asyncio.sleep(2 * args.latency * 5)  # the last fetches behind, if any, end

                async def carols_first() -> None:
                    await crm.list_leads(carol.connection)

                print((await run_step("new org", crm, emu, people, args, carols_first)).row(), flush=True)
            finally:
                await crm.close()
    finally:
        await emu.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=20.0, help="calls per second from orgs A and B")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each step")
    parser.add_argument("--latency", type=float, default=0.3, help="Zoho emulator latency, seconds")
    asyncio.run(main(parser.parse_args()))
