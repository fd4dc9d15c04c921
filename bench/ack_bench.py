"""How fast the real bot acks `/lead list`, beside a bare slack-bolt AsyncApp on aiohttp that only acks.

    python bench/ack_bench.py                       # 1000 commands per target, concurrency 50, Zoho latency 300 ms
    python bench/ack_bench.py --requests 2000 --concurrency 50 --latency 0.3

Four processes: this one sends signed slash-command requests (closed loop, `--concurrency` in flight) and
serves the response_urls; a child runs the real bot (bot.app, SQLite) with the Slack emulator (the Zoho
emulator runs in a process of its own, as Zoho is another machine in real life) and
`--users` connected users (logged in through the real flow); another child runs the bare bolt app. The targets
are measured one after the other. Ack = request sent → HTTP answer; completion = request sent → the answer
(not the "Working on it…" notice) posted to its response_url. Not a test: it prints figures and says whether the
bars were met (ratio ≥ 0.8, ack p99 < 250 ms); exit status 1 when missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulators.slack import sign_slack_request  # noqa: E402

SIGNING_SECRET = "bench-signing-secret"
WORKING_PREFIX = ":hourglass"
TEXT = os.environ.get("ACK_BENCH_TEXT", "list")
RATIO_TARGET = 0.8
ACK_P99_TARGET_MS = 250.0


# ----- child processes ---------------------------------------------------------------------------------------------


async def _serve_bot(users: int, latency: float, sink_url: str) -> None:
    """Child: emulators + the real bot; prints one JSON line {url, users} when ready, runs until stdin closes."""
    from tests.stack import SIGNING_SECRET as STACK_SECRET
    from tests.stack import start_stack

    assert STACK_SECRET  # the stack's own secret; the bench signs with it (printed below)
    from emulators.zoho.remote import RemoteZohoEmulator

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


def _body(user_id: str, response_url: str, n: int, text: str = "list") -> bytes:
    return urlencode(
        {
            "token": "x",
            "team_id": "T0TEST",
            "team_domain": "bench",
            "channel_id": "C0BENCH",
            "channel_name": "bench",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/lead",
            "text": text,
            "api_app_id": "A0BENCH",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": f"{n}.1.bench",
        }
    ).encode()


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _load(
    name: str, target: dict, sinks: Sinks, sink_url: str, requests: int, concurrency: int, wait_answers: bool
) -> dict:
    url = target["url"] + "/slack/events"
    users = target["users"]
    sent_at: dict[str, float] = {}
    acks: list[float] = []
    failures = 0
    counter = iter(range(requests))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal failures
        for n in counter:
            key = f"{name}-{n}"
            body = _body(users[n % len(users)], f"{sink_url}/r/{key}", n, TEXT)
            signed = {**headers, **sign_slack_request(target["secret"], body)}
            start = time.perf_counter()
            async with http.post(url, data=body, headers=signed) as answer:
                await answer.read()
                ok = answer.status == 200
            acks.append(time.perf_counter() - start)
            sent_at[key] = start
            failures += not ok

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        # warm up (auth.test, first SDK call) outside the measurement
        for n in range(3):
            body = _body(users[n % len(users)], f"{sink_url}/r/warm-{name}-{n}", n)
            async with http.post(url, data=body, headers={**headers, **sign_slack_request(target["secret"], body)}):
                pass
        await asyncio.sleep(2 if wait_answers else 0.2)
        began = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    result = {
        "name": name,
        "requests": requests,
        "failures": failures,
        "elapsed": elapsed,
        "throughput": requests / elapsed,
        "ack_p50": _pct(acks, 0.5) * 1000,
        "ack_p99": _pct(acks, 0.99) * 1000,
    }
    if wait_answers:
        deadline = time.perf_counter() + 300
        while time.perf_counter() < deadline and sum(k in sinks.arrived for k in sent_at) < len(sent_at):
            sinks.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sinks.changed.wait(), 5)
        done = [sinks.arrived[k] - sent_at[k] for k in sent_at if k in sinks.arrived]
        result |= {
            "answered": len(done),
            "done_p50": _pct(done, 0.5) * 1000,
            "done_p99": _pct(done, 0.99) * 1000,
            "all_done_after": (max(sinks.arrived[k] for k in sent_at if k in sinks.arrived) - began) if done else 0,
            "wrong_answers": sinks.bad,
        }
    return result


async def _main(args: argparse.Namespace) -> int:
    sinks = Sinks()
    sink_app = web.Application()
    sink_app.router.add_post("/r/{key}", sinks.handle)
    runner = web.AppRunner(sink_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sink_url = f"http://127.0.0.1:{runner.addresses[0][1]}"

    bare, bare_info = await _start_child("--serve-bare")
    try:
        bare_result = await _load("bare", bare_info, sinks, sink_url, args.requests, args.concurrency, False)
    finally:
        await _stop_child(bare)
    bot, bot_info = await _start_child("--serve-bot", str(args.users), str(args.latency), sink_url)
    try:
        bot_result = await _load("bot", bot_info, sinks, sink_url, args.requests, args.concurrency, True)
    finally:
        await _stop_child(bot)
    await runner.cleanup()

    ratio = bot_result["throughput"] / bare_result["throughput"]
    print(
        f"ack bench: {args.requests} signed `/lead list` per target, concurrency {args.concurrency}, "
        f"Zoho latency {args.latency * 1000:.0f} ms, {args.users} connected users, {os.cpu_count()} cores"
    )
    for r in (bare_result, bot_result):
        line = (
            f"  {r['name']:<5} acks {r['throughput']:7.1f}/s  ack p50 {r['ack_p50']:6.1f} ms  "
            f"p99 {r['ack_p99']:6.1f} ms  non-200 {r['failures']}"
        )
        if "answered" in r:
            line += (
                f"\n        answered {r['answered']}/{r['requests']}  completion p50 {r['done_p50']:7.0f} ms  "
                f"p99 {r['done_p99']:7.0f} ms  (last answer {r['all_done_after']:.1f} s after the first "
                f"command; {r['wrong_answers']} not a Lead list)"
            )
        print(line)
    ok = ratio >= RATIO_TARGET and bot_result["ack_p99"] < ACK_P99_TARGET_MS and bot_result["failures"] == 0
    print(
        f"  ratio bot/bare {ratio:.2f} (target ≥ {RATIO_TARGET}); bot ack p99 {bot_result['ack_p99']:.1f} ms "
        f"(target < {ACK_P99_TARGET_MS:.0f} ms): {'MET' if ok else 'MISSED'}"
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
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.3, help="Zoho emulator latency, seconds")
    parser.add_argument("--users", type=int, default=5, help="connected users the commands rotate over")
    return asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
