"""A crowd using the bot: how many `/lead list` commands are answered, refused, and how fast, as the rate rises.

    python bench/crowd_bench.py                    # 60 people in 2 orgs, rates 10 20 40 80 160 /s, 10 s each
    python bench/crowd_bench.py --rates 10 40 --seconds 5 --people 40

For each rate, a fresh Zoho emulator (its own process, answering every call after `--latency`, counting the
calls in flight per org) and a fresh bot (its own process: the real bot.app on SQLite, with the Slack
emulator) with `--people` connected through the real login, half in each org. Then two steps at that rate:

- cold: every person's first command since the bot started (the SDK has not fetched anyone's field metadata);
- warm: the same again, everyone having used the bot.

The load is open: command n is sent at n / rate seconds whatever happened to the others, from person
n mod people, so many distinct people type at once. For each step it prints: answered (the Lead list arrived on
the response URL), refused (told to try again, in the ack or later), other answers, ack p50/p99 (request →
HTTP answer), completion p50/p99 (request → the answer), the most Zoho calls in flight for one org, and the
bot's CPU per answered command, from which the CPU ceiling: commands per second one core could finish.
Not a test: it prints figures (docs/benchmarks.md keeps them). `--workers` is for when the bot has them.
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
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import Sinks, command_body, cpu_seconds, percentile  # noqa: E402
from playground.slack import sign_slack_request  # noqa: E402

ANSWER_WAIT_S = 40.0  # after the last command of a step: longer than any answer may take (the 30 s promise)
REFUSED_WORDS = ("try again", "could not get its turn")


# ----- the bot's process --------------------------------------------------------------------------------------


async def _serve_bot(people: int, latency: float, sink_url: str) -> None:
    """Child: a Zoho emulator process of its own, the Slack emulator and the real bot; `people` connected, half in
    each org. Prints one JSON line {url, users, secret, zoho} when ready; runs until stdin closes."""
    from bot.logs import configure_logging
    from playground.zoho.remote import RemoteZohoEmulator
    from tests.stack import SIGNING_SECRET, start_stack

    configure_logging("INFO")  # as deployed: what the bot logs costs CPU too (stderr goes nowhere)
    zoho = RemoteZohoEmulator()
    with tempfile.TemporaryDirectory(prefix="crowd-bench-") as tmp:
        stack = await start_stack(Path(tmp), zoho=zoho, response_url_origins=(sink_url,))
        ids = []
        for n in range(people):
            user_id, org = f"U0CROWD{n:03d}", ("Acme Ltd", "Globex")[n % 2]
            email = f"crowd{n}@{'acme' if n % 2 == 0 else 'globex'}.test"
            stack.slack.add_user(user_id, name=f"crowd{n}", real_name=f"Crowd {n}", email=email)
            stack.zoho.add_user(email=email, full_name=f"Crowd {n}", org_name=org)
            await stack.connect(user_id, email)
            ids.append(user_id)
        stack.zoho.seed_leads("crowd0@acme.test", 30)
        stack.zoho.seed_leads("crowd1@globex.test", 30)
        stack.zoho.latency = latency
        print(json.dumps({"url": stack.url, "users": ids, "secret": SIGNING_SECRET, "zoho": zoho.url}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await stack.stop()
        await stack.slack.stop()
        await stack.zoho.stop()


async def _start_bot(people: int, latency: float, sink_url: str) -> tuple[asyncio.subprocess.Process, dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve-bot",
        str(people),
        str(latency),
        sink_url,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
        cwd=str(ROOT),
    )
    line = await asyncio.wait_for(child.stdout.readline(), 300)
    if not line:
        raise RuntimeError("the bot did not start")
    return child, json.loads(line)


async def _stop_bot(child: asyncio.subprocess.Process) -> None:
    child.stdin.close()
    try:
        await asyncio.wait_for(child.wait(), 60)
    except TimeoutError:
        child.terminate()
        await child.wait()


# ----- one step ------------------------------------------------------------------------------------------------


@dataclass
class Step:
    """What one rate, cold or warm, measured."""

    label: str
    rate: int
    sent: int = 0
    acks: list[float] = field(default_factory=list)
    done: list[float] = field(default_factory=list)
    answered: int = 0
    refused: int = 0
    other: int = 0
    unanswered: int = 0
    non_200: int = 0
    most_in_flight: int = 0
    cpu: float | None = None

    def row(self) -> str:
        cpu = f"{self.cpu / self.answered * 1000:6.1f} ms" if self.cpu is not None and self.answered else "     —"
        ceiling = f"{self.answered / self.cpu:6.0f}/s" if self.cpu else "     —"
        return (
            f"{self.rate:>5}/s {self.label:<5} {self.answered:>5}/{self.sent:<5} {self.refused:>7} "
            f"{self.other + self.unanswered + self.non_200:>5}  {percentile(self.acks, 0.5) * 1000:6.0f} "
            f"{percentile(self.acks, 0.99) * 1000:6.0f}  {percentile(self.done, 0.5):6.2f} "
            f"{percentile(self.done, 0.99):6.2f}  {self.most_in_flight:>9}  {cpu}  {ceiling}"
        )


HEADER = (
    " rate   step  answered refused other  ack p50 p99 ms  done p50 p99 s  Zoho/org  CPU/answer  ceiling\n"
    "------- ----- ----------- ------- -----  -------------  -------------  ---------  ----------  -------"
)


async def _zoho(http: aiohttp.ClientSession, zoho_url: str, method: str, path: str) -> dict:
    async with http.request(method, f"{zoho_url}/_emulator/{path}") as answer:
        return await answer.json()


async def _step(
    http: aiohttp.ClientSession, bot: dict, pid: int, sinks: Sinks, sink_url: str, step: Step, seconds: float
) -> Step:
    url, users, secret = bot["url"] + "/slack/events", bot["users"], bot["secret"]
    await _zoho(http, bot["zoho"], "POST", "reset_counters")
    sent_at: dict[str, float] = {}
    cpu_before = cpu_seconds(pid)

    async def send(n: int) -> None:
        key = f"{step.rate}-{step.label}-{n}"
        body = command_body(users[n % len(users)], f"{sink_url}/r/{key}", n)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign_slack_request(secret, body)}
        start = time.perf_counter()
        sent_at[key] = start
        try:
            async with http.post(url, data=body, headers=headers) as answer:
                acked = await answer.read()
                status = answer.status
        except aiohttp.ClientError:
            step.non_200 += 1
            return
        now = time.perf_counter()
        step.acks.append(now - start)
        if status != 200:
            step.non_200 += 1
        elif acked:  # answered in the ack itself: told to try again at the door
            sinks.arrived.setdefault(key, now)
            sinks.texts.setdefault(key, str(json.loads(acked).get("text", "")))

    began = time.perf_counter()
    total = int(step.rate * seconds)
    tasks = []
    for n in range(total):
        delay = began + n / step.rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(n)))
    await asyncio.gather(*tasks)
    deadline = time.perf_counter() + ANSWER_WAIT_S
    while time.perf_counter() < deadline and sum(k in sinks.arrived for k in sent_at) < len(sent_at):
        sinks.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sinks.changed.wait(), 2)
    cpu_after = cpu_seconds(pid)
    step.sent = total
    for key, start in sent_at.items():
        text = sinks.texts.get(key)
        if text is None:
            step.unanswered += 1
            continue
        step.done.append(sinks.arrived[key] - start)
        if "Your Leads" in text:
            step.answered += 1
        elif any(words in text for words in REFUSED_WORDS):
            step.refused += 1
        else:
            step.other += 1
    state = await _zoho(http, bot["zoho"], "GET", "state")
    step.most_in_flight = max(state.get("most_in_flight", {}).values(), default=0)
    step.cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    return step


async def _main(args: argparse.Namespace) -> int:
    if args.workers != 1:
        print("--workers: the bot runs one process today (the capacity issue adds more); measuring 1")
    sinks = Sinks()
    runner, sink_url = await sinks.start()
    print(
        f"crowd bench: {args.people} people in 2 orgs, `/lead list`, Zoho latency {args.latency * 1000:.0f} ms, "
        f"{args.seconds:g} s per step, {os.cpu_count()} cores, 1 worker\n{HEADER}",
        flush=True,
    )
    try:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            for rate in args.rates:
                child, bot = await _start_bot(args.people, args.latency, sink_url)
                try:
                    for label in ("cold", "warm"):
                        step = await _step(http, bot, child.pid, sinks, sink_url, Step(label, rate), args.seconds)
                        print(step.row(), flush=True)
                finally:
                    await _stop_bot(child)
    finally:
        await runner.cleanup()
    return 0


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-bot":
        asyncio.run(_serve_bot(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=int, nargs="+", default=[10, 20, 40, 80, 160], help="commands per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each step")
    parser.add_argument("--people", type=int, default=60, help="distinct connected people, half in each org")
    parser.add_argument("--latency", type=float, default=0.3, help="Zoho emulator latency, seconds")
    parser.add_argument("--workers", type=int, default=1, help="bot processes (1 today)")
    return asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
