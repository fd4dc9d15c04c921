"""How fast the real bot acks `/lead list`, beside a bare slack-bolt AsyncApp on aiohttp that only acks.

    python bench/ack_bench.py             # 9 rounds of 2000 commands per target, concurrency 50, Zoho latency 300 ms
    python bench/ack_bench.py --rounds 5 --requests 1000 --concurrency 50 --latency 0.3

Four processes: this one sends signed slash-command requests (closed loop, `--concurrency` in flight) and
serves the response_urls; a child runs the real bot (bot.app, SQLite) with the Slack emulator (the Zoho
emulator runs in a process of its own, as Zoho is another machine in real life) and
`--users` connected users (logged in through the real flow); another child runs the bare bolt app. Both run for
the whole bench and are measured in `--rounds` rounds, one target after the other within a round and the order
alternating between rounds, so a slow spell of this shared machine hits both alike; a bot round ends when every
answer has arrived, so the next starts with nothing left behind. The ratio is the median of the rounds' ratios.
Ack = request sent → HTTP answer; completion = request sent → the answer (not the "Working on it…" notice)
posted to its response_url, or the ack itself when it carries the answer (a command turned away at the door);
CPU per ack = the target process's CPU time over its rounds (Linux /proc), a figure the machine's noise moves
less than a rate. Not a test: it prints figures and says whether the bars
were met (median ratio ≥ 0.8, ack p99 < 250 ms); exit status 1 when missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import command_body as _body  # noqa: E402
from bench.load import cpu_seconds as _cpu_seconds  # noqa: E402
from bench.load import percentile as _pct  # noqa: E402
from playground.slack import sign_slack_request  # noqa: E402

SIGNING_SECRET = "bench-signing-secret"
WORKING_PREFIX = ":hourglass"
TEXT = os.environ.get("ACK_BENCH_TEXT", "list")
RATIO_TARGET = 0.8
SETTLE_S = 1.0  # after a bot round's last answer, for the bot to finish its own share of those answers
ACK_P99_TARGET_MS = 250.0


# ----- child processes ---------------------------------------------------------------------------------------------


async def _serve_bot(users: int, latency: float, sink_url: str) -> None:
    """Child: emulators + the real bot; prints one JSON line {url, users} when ready, runs until stdin closes."""
    from tests.stack import SIGNING_SECRET as STACK_SECRET
    from tests.stack import start_stack

    assert STACK_SECRET  # the stack's own secret; the bench signs with it (printed below)
    from playground.zoho.remote import RemoteZohoEmulator

    # Zoho is another machine in real life: its emulator gets its own process, not a share of the bot's GIL.
    zoho = RemoteZohoEmulator()
    with tempfile.TemporaryDirectory(prefix="ack-bench-") as tmp:
        # The answers go to this bench's own response URLs, which the bot accepts only when told so.
        stack = await start_stack(Path(tmp), zoho=zoho, response_url_origins=(sink_url,))
        ids = []
        for n in range(users):
            user_id, email = f"U0BENCH{n:03d}", f"bench{n}@acme.test"
            stack.slack.add_user(user_id, name=f"bench{n}", real_name=f"Bench {n}", email=email)
            stack.zoho.add_user(email=email, full_name=f"Bench {n}", org_name="Acme Ltd")
            await stack.connect(user_id, email)
            ids.append(user_id)
        stack.zoho.seed_leads("bench0@acme.test", 30)
        stack.zoho.latency = latency
        print(json.dumps({"url": stack.url, "users": ids, "secret": STACK_SECRET}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await stack.stop()
        await stack.slack.stop()
        await stack.zoho.stop()


async def _serve_bare() -> None:
    """Child: a bare slack-bolt AsyncApp that only acks `/lead`, on aiohttp like the bot."""
    from slack_bolt.app.async_app import AsyncApp
    from slack_bolt.authorization import AuthorizeResult

    async def authorize(**_kwargs):
        return AuthorizeResult(enterprise_id=None, team_id="T0TEST", bot_token="xoxb-bare", bot_user_id="UBOT")

    app = AsyncApp(signing_secret=SIGNING_SECRET, authorize=authorize)

    @app.command("/lead")
    async def lead(ack):
        await ack()

    runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({"url": f"http://127.0.0.1:{port}", "users": ["U0BARE"], "secret": SIGNING_SECRET}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


async def _start_child(mode: str, *extra: str) -> tuple[asyncio.subprocess.Process, dict]:
    env = {**os.environ, "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        mode,
        *extra,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
        cwd=str(ROOT),
    )
    line = await asyncio.wait_for(child.stdout.readline(), 120)
    if not line:
        raise RuntimeError(f"{mode} did not start")
    return child, json.loads(line)


async def _stop_child(child: asyncio.subprocess.Process) -> None:
    child.stdin.close()
    try:
        await asyncio.wait_for(child.wait(), 60)
    except TimeoutError:
        child.terminate()
        await child.wait()


# ----- the load ----------------------------------------------------------------------------------------------------


class Sinks:
    """The response_urls: records when each command's answer (not the working notice) arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.bad: int = 0
        self.changed = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not str(body.get("text", "")).startswith(WORKING_PREFIX):
            key = request.match_info["key"]
            self.arrived.setdefault(key, time.perf_counter())
            if "Your Leads" not in str(body.get("text")):
                self.bad += 1
            self.changed.set()
        return web.json_response({"ok": True})


class Target:
    """One server under load (a child process), and what its rounds measured."""

    def __init__(self, name: str, child: asyncio.subprocess.Process, info: dict, wait_answers: bool) -> None:
        self.name = name
        self.child = child
        self.url = info["url"] + "/slack/events"
        self.users = info["users"]
        self.secret = info["secret"]
        self.wait_answers = wait_answers
        self.throughputs: list[float] = []
        self.elapsed = 0.0
        self.acks: list[float] = []
        self.done: list[float] = []
        self.requests = 0
        self.failures = 0
        self.wrong = 0
        self.at_door = 0
        self.cpu: float | None = 0.0

    def signed(self, n: int, key: str, sink_url: str) -> tuple[bytes, dict[str, str]]:
        body = _body(self.users[n % len(self.users)], f"{sink_url}/r/{key}", n, TEXT)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign_slack_request(self.secret, body)}
        return body, headers


async def _warm_up(http: aiohttp.ClientSession, target: Target, sink_url: str) -> None:
    """auth.test, each user's first SDK call: outside the measurement."""
    for n in range(len(target.users)):
        body, headers = target.signed(n, f"warm-{target.name}-{n}", sink_url)
        async with http.post(target.url, data=body, headers=headers):
            pass
    await asyncio.sleep(2)


async def _round(
    http: aiohttp.ClientSession,
    target: Target,
    number: int,
    sinks: Sinks,
    sink_url: str,
    requests: int,
    concurrency: int,
) -> float:
    """`requests` commands, `concurrency` in flight; then (bot) every answer awaited. Returns acks per second."""
    sent_at: dict[str, float] = {}
    wrong_before = sinks.bad
    counter = iter(range(requests))

    async def worker() -> None:
        for n in counter:
            key = f"{target.name}-{number}-{n}"
            body, headers = target.signed(n, key, sink_url)
            start = time.perf_counter()
            async with http.post(target.url, data=body, headers=headers) as answer:
                acked = await answer.read()
                ok = answer.status == 200
            now = time.perf_counter()
            target.acks.append(now - start)
            sent_at[key] = start
            target.failures += not ok
            if ok and acked and target.wait_answers:  # answered in the ack itself: turned away at the door
                target.at_door += 1
                sinks.arrived.setdefault(key, now)
                sinks.bad += "Your Leads" not in str(json.loads(acked).get("text"))

    cpu_before = _cpu_seconds(target.child.pid)
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    cpu_after = _cpu_seconds(target.child.pid)
    if cpu_before is None or cpu_after is None or target.cpu is None:
        target.cpu = None
    else:
        target.cpu += cpu_after - cpu_before
    target.requests += requests
    target.elapsed += elapsed
    target.throughputs.append(requests / elapsed)
    if target.wait_answers:  # the next round starts with nothing left behind
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline and sum(k in sinks.arrived for k in sent_at) < len(sent_at):
            sinks.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sinks.changed.wait(), 5)
        target.done += [sinks.arrived[k] - sent_at[k] for k in sent_at if k in sinks.arrived]
        target.wrong += sinks.bad - wrong_before
        await asyncio.sleep(SETTLE_S)
    return requests / elapsed


async def _main(args: argparse.Namespace) -> int:
    sinks = Sinks()
    sink_app = web.Application()
    sink_app.router.add_post("/r/{key}", sinks.handle)
    runner = web.AppRunner(sink_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sink_url = f"http://127.0.0.1:{runner.addresses[0][1]}"

    bot_child, bot_info = await _start_child("--serve-bot", str(args.users), str(args.latency), sink_url)
    bare_child, bare_info = await _start_child("--serve-bare")
    bot = Target("bot", bot_child, bot_info, wait_answers=TEXT == "list")
    bare = Target("bare", bare_child, bare_info, wait_answers=False)
    print(
        f"ack bench: {args.rounds} rounds of {args.requests} signed `/lead {TEXT}` per target, concurrency "
        f"{args.concurrency}, Zoho latency {args.latency * 1000:.0f} ms, {args.users} connected users, "
        f"{os.cpu_count()} cores"
    )
    ratios: list[float] = []
    try:
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(connector=connector) as http:
            await _warm_up(http, bot, sink_url)
            await _warm_up(http, bare, sink_url)
            for number in range(args.rounds):
                # Side by side, the order alternating, so a slow spell of the machine hits both alike.
                order = (bare, bot) if number % 2 == 0 else (bot, bare)
                rates = {
                    t.name: await _round(http, t, number, sinks, sink_url, args.requests, args.concurrency)
                    for t in order
                }
                ratios.append(rates["bot"] / rates["bare"])
                print(
                    f"  round {number + 1}: bare {rates['bare']:7.1f} acks/s, bot {rates['bot']:7.1f} acks/s, "
                    f"ratio {ratios[-1]:.2f}",
                    flush=True,
                )
    finally:
        await _stop_child(bot_child)
        await _stop_child(bare_child)
        await runner.cleanup()

    for t in (bare, bot):
        cpu = f"{t.cpu / t.requests * 1e6:5.0f} µs CPU per ack" if t.cpu is not None else "CPU not measured"
        line = (
            f"  {t.name:<5} acks/s median {statistics.median(t.throughputs):7.1f}  "
            f"ack p50 {_pct(t.acks, 0.5) * 1000:5.1f} ms  p99 {_pct(t.acks, 0.99) * 1000:5.1f} ms  {cpu}  "
            f"non-200 {t.failures}"
        )
        if t.wait_answers:
            line += (
                f"\n        answered {len(t.done)}/{t.requests}  completion p50 {_pct(t.done, 0.5) * 1000:5.0f} ms  "
                f"p99 {_pct(t.done, 0.99) * 1000:5.0f} ms  ({t.wrong} told 'nothing was done, try again' or other than "
                f"a Lead list, {t.at_door} of them at once in the ack)"
            )
        print(line)
    ratio = statistics.median(ratios)
    pooled = (bot.requests / bot.elapsed) / (bare.requests / bare.elapsed)
    ack_p99 = _pct(bot.acks, 0.99) * 1000
    ok = ratio >= RATIO_TARGET and ack_p99 < ACK_P99_TARGET_MS and bot.failures == 0
    print(
        f"  ratio bot/bare: median {ratio:.3f} of rounds {', '.join(f'{r:.2f}' for r in ratios)}; all rounds pooled "
        f"{pooled:.2f}\n  bars: median ratio ≥ {RATIO_TARGET}, bot ack p99 {ack_p99:.1f} ms "
        f"< {ACK_P99_TARGET_MS:.0f} ms: {'MET' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-bot":
        asyncio.run(_serve_bot(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-bare":
        asyncio.run(_serve_bare())
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="commands per target per round")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.3, help="Zoho emulator latency, seconds")
    parser.add_argument("--users", type=int, default=5, help="connected users the commands rotate over")
    return asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
