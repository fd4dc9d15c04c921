"""A crowd using the bot: how many `/lead list` commands are answered, refused, and how fast, as the rate rises.

    python bench/crowd_bench.py                    # 60 people in 2 orgs, rates 10 20 40 80 160 /s, 10 s each
    python bench/crowd_bench.py --workers 2        # the same with `python -m bot --workers 2`
    python bench/crowd_bench.py --rates 10 40 --seconds 5 --people 40
    python bench/crowd_bench.py --orgs 12 --people 120 --rates 80 160 240   # Zoho no longer the limit: the CPU
    python bench/crowd_bench.py --closed 6 --bot-code ../old   # 6 at once, closed loop; the bot of another checkout

For each rate: a fresh Zoho emulator (its own process, answering every call after `--latency`, counting the calls
in flight per org), a fresh bot (`python -m bot --workers N`: its own processes, SQLite, LOG_LEVEL=INFO) and
`--people` connected through the real login, spread over `--orgs` Zoho orgs (2 by default: the knee is Zoho's,
2 × ZOHO_ORG_CONCURRENCY calls per latency; with more orgs it is the machine's). The Slack emulator runs here,
behind this bench's own HTTP server, which also takes the commands' answers (the bot posts to response URLs on
its SLACK_API_URL's origin only). Then the bot is restarted with an empty temp directory (no field metadata cached
anywhere) and two steps run at that rate:

- cold: every person's first command since the bot started (the SDK has fetched no org's field metadata);
- warm: the same again, everyone having used the bot.

Each command comes on a connection of its own, as from Slack's many senders (with keep-alive, a few
connections would carry everything, and each stays with the one worker the kernel gave it). The load is open:
command n is sent at n / rate seconds whatever happened to the others, from person n mod people, so many
distinct people type at once. It is sent from a process of its own, whose event loop does nothing but send and
time the acks: the loop that serves the Slack emulator and takes the answers is busy at high rates, and an ack
timed there would carry its delays (`--same-process` times them there, as this bench did until 2026-12-06).
`--closed K` offers a pace every version answers instead: K commands at once, the next sent when one is answered.

For each step it prints: answered (the Lead list arrived on the response URL), refused (told to try again, in
the ack or later), other answers, ack p50/p99 (request → HTTP answer), completion p50/p99 (request → the
answer), the most Zoho calls in flight for one org, and the CPU the bot's processes (parent and workers) used
per answered command, from which the CPU ceiling: commands per second one core could finish; and the CPU this
bench (both its processes) and the Zoho emulator used per answered command (on a small machine they take cores
the bot would otherwise have). Not a test: it prints figures (docs/benchmarks.md keeps them).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import ctypes
import json
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import Sinks, command_body, cpu_seconds, percentile  # noqa: E402
from playground.slack import sign_slack_request  # noqa: E402
from playground.zoho.remote import RemoteZohoEmulator  # noqa: E402
from tests.oauth.http_browser import HttpBrowser  # noqa: E402
from tests.stack import (  # noqa: E402
    CLIENT_ID,
    CLIENT_SECRET,
    SIGNING_SECRET,
    button_url,
    emulator_settings,
    free_port,
    start_emulators,  # noqa: E402
)

ANSWER_WAIT_S = 40.0  # after the last command of a step: longer than any answer may take (the 30 s promise)
REFUSED_WORDS = ("try again", "could not get its turn")
FORWARDED_HEADERS = ("content-type", "authorization")
PR_SET_PDEATHSIG = 1  # prctl(2)


# ----- Slack's side: the emulator behind this bench's server --------------------------------------------------


class SlackFront:
    """This bench's HTTP server: the response URLs (`Sinks`), and the Slack emulator's Web API forwarded, so that
    both share the origin the bot's SLACK_API_URL names."""

    def __init__(self, sinks: Sinks) -> None:
        self.sinks = sinks
        self.slack = None
        self.zoho: RemoteZohoEmulator | None = None
        self._http: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        self.zoho = RemoteZohoEmulator(preexec_fn=ends_with_the_bench)
        self.zoho, self.slack = await start_emulators(self.zoho)
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/r/{key}", self.sinks.handle)
        app.router.add_route("*", "/api/{method}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def _forward(self, request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_HEADERS}
        target = self.slack.api_url.rstrip("/") + "/" + request.match_info["method"]
        if request.query_string:
            target += "?" + request.query_string
        async with self._http.request(request.method, target, data=await request.read(), headers=headers) as answer:
            return web.Response(body=await answer.read(), status=answer.status, content_type=answer.content_type)

    async def stop(self) -> None:
        await self._runner.cleanup()
        await self._http.close()
        await self.slack.stop()
        await self.zoho.stop()


# ----- the bot's processes ------------------------------------------------------------------------------------


@dataclass
class Bot:
    """`python -m bot --workers N` on a SQLite file in `folder`, its temp directory and log there too."""

    front: SlackFront
    folder: Path
    workers: int
    code: Path = ROOT
    metrics: bool = False
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, temp: Path) -> dict[str, str]:
        settings = emulator_settings(self.front.slack, self.front.zoho)
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(self.code),
            **settings,
            "SLACK_API_URL": f"{self.front.url}/api/",
            "PUBLIC_URL": self.url,
            "PORT": str(self.port),
            "DATABASE_URL": f"sqlite:///{self.folder / 'bot.db'}",
            "LOG_LEVEL": "INFO",
            "WORKERS": str(self.workers),
            "TMPDIR": str(temp),
            **({"METRICS_PORT": str(free_port())} if self.metrics else {}),
        }

    async def start(self) -> None:
        """Start it with a new, empty temp directory (no field metadata cached); return once every worker listens."""
        temp = Path(tempfile.mkdtemp(dir=self.folder, prefix="tmp-"))
        log_path = self.folder / "bot.log"
        before = _listening(log_path)
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot"],
                env=self.env(temp),
                cwd=self.folder,
                stdout=log,
                stderr=log,
                preexec_fn=ends_with_the_bench,
            )
        deadline = time.monotonic() + 120
        while _listening(log_path) < before + self.workers:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the bot did not start:\n" + log_path.read_text(errors="replace"))
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        await asyncio.to_thread(self.proc.wait, 60)

    def cpu(self) -> float | None:
        """CPU seconds the parent and its workers have used so far."""
        pids = [self.proc.pid, *_children(self.proc.pid)]
        used = [cpu_seconds(pid) for pid in pids]
        return None if None in used else sum(used)


def _listening(log_path: Path) -> int:
    return log_path.read_text(errors="replace").count("bot.server: listening") if log_path.exists() else 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                found += [int(child) for child in children.read().split()]
    return found


def org_of(n: int, orgs: int) -> tuple[str, str]:
    """Person n's Zoho org: its name and its people's mail domain (the first two as the bench always had)."""
    k = n % orgs
    return ("Acme Ltd", "acme") if k == 0 else ("Globex", "globex") if k == 1 else (f"Org {k}", f"org{k}")


async def connect_people(
    http: aiohttp.ClientSession, front: SlackFront, bot: Bot, people: int, orgs: int = 2
) -> list[str]:
    """`people` Slack users, spread over `orgs` Zoho orgs, each logged in through the real flow; their Slack ids."""
    ids = []
    for n in range(people):
        org, domain = org_of(n, orgs)
        user_id, email = f"U0CROWD{n:03d}", f"crowd{n}@{domain}.test"
        front.slack.add_user(user_id, name=f"crowd{n}", real_name=f"Crowd {n}", email=email)
        front.zoho.add_user(email=email, full_name=f"Crowd {n}", org_name=org)
        front.zoho.auto_approve_as = email
        before = len(front.slack.dms(user_id))
        await _send(http, bot.url, command_body(user_id, f"{front.url}/r/login-{user_id}", n, "login"))
        deadline = time.monotonic() + 20
        while len(front.slack.dms(user_id)) <= before:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no login link for {user_id}:\n" + (bot.folder / "bot.log").read_text())
            await asyncio.sleep(0.02)
        async with HttpBrowser() as browser:
            page = await browser.log_in(button_url(front.slack.dms(user_id)[-1].blocks))
        if page.status != 200:
            raise RuntimeError(f"login of {user_id} failed: {page.status}")
        ids.append(user_id)
    return ids


def ends_with_the_bench() -> None:
    """In a child the bench starts, before it runs (Linux): SIGTERM to it when the bench ends, even killed outright
    (the kernel's parent-death signal), so no bot or emulator is left serving after a bench that was killed. The
    bench starts its children from its main thread, which lives as long as it does."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _end_with_parent(parent: int) -> None:
    """In the sender's process: end it when the bench that started it is gone (killed outright, it cannot say so),
    rather than go on sending to a bot nobody reads."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent watch", daemon=True).start()


def _send_plan(
    bot_url: str, plan: list[tuple[float, str, bytes]]
) -> tuple[list[tuple[str, float, float | None, int, bytes]], float]:
    """In the sender's own process: post each (offset, key, body) of `plan` `offset` seconds after the start,
    whatever happened to the others; for each, (key, sent, acked or None where no answer came, status, ack body),
    the times by `time.perf_counter`, the machine's monotonic clock, which the parent reads too; and the CPU
    seconds this process used for it."""

    async def run() -> list[tuple[str, float, float | None, int, bytes]]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=True)) as http:

            async def one(key: str, body: bytes) -> tuple[str, float, float | None, int, bytes]:
                start = time.perf_counter()
                try:
                    status, acked = await _send(http, bot_url, body)
                except aiohttp.ClientError:
                    return key, start, None, 0, b""
                return key, start, time.perf_counter(), status, acked

            began, tasks = time.perf_counter(), []
            for offset, key, body in plan:
                delay = began + offset - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(key, body)))
            return await asyncio.gather(*tasks)

    cpu_before = time.process_time()
    return asyncio.run(run()), time.process_time() - cpu_before


async def _send(http: aiohttp.ClientSession, bot_url: str, body: bytes) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign_slack_request(SIGNING_SECRET, body)}
    async with http.post(f"{bot_url}/slack/events", data=body, headers=headers) as answer:
        return answer.status, await answer.read()


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
    harness_cpu: float | None = None

    def row(self) -> str:
        cpu = f"{self.cpu / self.answered * 1000:6.1f} ms" if self.cpu is not None and self.answered else "     —"
        ceiling = f"{self.answered / self.cpu:6.0f}/s" if self.cpu else "     —"
        harness = (
            f"{self.harness_cpu / self.answered * 1000:6.1f} ms"
            if self.harness_cpu is not None and self.answered
            else "     —"
        )
        return (
            f"{self.rate:>5}/s {self.label:<5} {self.answered:>5}/{self.sent:<5} {self.refused:>7} "
            f"{self.other + self.unanswered + self.non_200:>5}  {percentile(self.acks, 0.5) * 1000:6.0f} "
            f"{percentile(self.acks, 0.99) * 1000:6.0f}  {percentile(self.done, 0.5):6.2f} "
            f"{percentile(self.done, 0.99):6.2f}  {self.most_in_flight:>9}  {cpu}  {ceiling}  {harness}"
        )


HEADER = (
    " rate   step  answered refused other  ack p50 p99 ms  done p50 p99 s  Zoho/org  CPU/answer  ceiling  harness\n"
    "------- ----- ----------- ------- -----  -------------  -------------  ---------  ----------  -------  -------"
)


async def _zoho(http: aiohttp.ClientSession, zoho_url: str, method: str, path: str) -> dict:
    async with http.request(method, f"{zoho_url}/_emulator/{path}") as answer:
        return await answer.json()


async def _step(
    http: aiohttp.ClientSession,
    front: SlackFront,
    bot: Bot,
    users: list[str],
    step: Step,
    seconds: float,
    closed: int = 0,
    sender: concurrent.futures.Executor | None = None,
) -> Step:
    """Offer `/lead list` for `seconds`: at `step.rate` per second whatever happens (open; sent from `sender`'s
    process when given), or, with `closed`, that many at once, each sent when another is answered (`step.rate`
    then becomes the pace reached)."""
    sinks, zoho_url = front.sinks, front.zoho.url
    await _zoho(http, zoho_url, "POST", "reset_counters")
    sent_at: dict[str, float] = {}
    cpu_before, harness_before = bot.cpu(), _harness_cpu(front)
    run = f"{time.monotonic_ns():x}"  # a rate given twice (`--rates 20 20`) answers to URLs of its own each time

    async def send(n: int) -> str | None:
        key = f"{run}-{step.rate}-{step.label}-{n}"
        body = command_body(users[n % len(users)], f"{front.url}/r/{key}", n)
        start = time.perf_counter()
        sent_at[key] = start
        try:
            status, acked = await _send(http, bot.url, body)
        except aiohttp.ClientError:
            step.non_200 += 1
            return None
        now = time.perf_counter()
        step.acks.append(now - start)
        if status != 200:
            step.non_200 += 1
        elif acked:  # answered in the ack itself: told to try again at the door
            sinks.record(key, str(json.loads(acked).get("text", "")), now)
        return key

    began, sender_cpu = time.perf_counter(), 0.0
    if closed:
        # `closed` commands at once, each from a person none of the others is: the next is sent when one is
        # answered, so the bot sets the pace, and a version that refuses more than one at a time per person (or
        # more than a few at once) is not measured by its refusals
        counter = iter(range(10**9))

        async def one_at_a_time() -> None:
            while time.perf_counter() - began < seconds:
                key = await send(next(counter))
                if key is not None:
                    await sinks.wait_for(key, ANSWER_WAIT_S)

        await asyncio.gather(*(one_at_a_time() for _ in range(closed)))
        total = len(sent_at)
        step.rate = round(total / (time.perf_counter() - began))
    elif sender is not None:
        total = int(step.rate * seconds)
        plan = []
        for n in range(total):
            key = f"{run}-{step.rate}-{step.label}-{n}"
            plan.append((n / step.rate, key, command_body(users[n % len(users)], f"{front.url}/r/{key}", n)))
        results, sender_cpu = await asyncio.get_running_loop().run_in_executor(sender, _send_plan, bot.url, plan)
        for key, start, acked_at, status, acked in results:
            sent_at[key] = start
            if acked_at is None:
                step.non_200 += 1
                continue
            step.acks.append(acked_at - start)
            if status != 200:
                step.non_200 += 1
            elif acked:
                sinks.record(key, str(json.loads(acked).get("text", "")), acked_at)
    else:
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
    cpu_after, harness_after = bot.cpu(), _harness_cpu(front)
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
    state = await _zoho(http, zoho_url, "GET", "state")
    step.most_in_flight = max(state.get("most_in_flight", {}).values(), default=0)
    step.cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    if harness_before is not None and harness_after is not None:
        step.harness_cpu = harness_after - harness_before + sender_cpu
    return step


def _harness_cpu(front: SlackFront) -> float | None:
    """CPU seconds this bench (its client, the Slack emulator and the response URLs) and the Zoho emulator's
    process have used so far: on a small machine they compete with the bot for its cores."""
    emulator = cpu_seconds(front.zoho.pid)
    return None if emulator is None else time.process_time() + emulator


async def _rate(
    http: aiohttp.ClientSession,
    args: argparse.Namespace,
    rate: int,
    sinks: Sinks,
    sender: concurrent.futures.Executor | None,
) -> None:
    """One rate: fresh emulators and bot, people connected, the bot restarted cold, then the cold and warm steps."""
    front = SlackFront(sinks)
    await front.start()
    with tempfile.TemporaryDirectory(prefix="crowd-bench-") as folder:
        bot = Bot(front, Path(folder), args.workers, args.bot_code.resolve(), args.metrics)
        front.zoho.register_client(CLIENT_ID, CLIENT_SECRET, f"{bot.url}/zoho/callback")
        try:
            await bot.start()
            users = await connect_people(http, front, bot, args.people, args.orgs)
            for n in range(min(args.orgs, args.people)):  # 30 Leads in every org, from its first person
                front.zoho.seed_leads(f"crowd{n}@{org_of(n, args.orgs)[1]}.test", 30)
            await bot.stop()
            await bot.start()  # cold: a fresh start with nothing cached
            front.zoho.latency = args.latency
            for label in ("cold", "warm"):
                step = await _step(http, front, bot, users, Step(label, rate), args.seconds, args.closed, sender)
                print(step.row(), flush=True)
        finally:
            if bot.proc is not None and bot.proc.poll() is None:
                await bot.stop()
            await front.stop()


async def _main(args: argparse.Namespace) -> int:
    sinks = Sinks()
    print(
        f"crowd bench: {args.people} people in {args.orgs} orgs, `/lead list`, "
        f"Zoho latency {args.latency * 1000:.0f} ms, "
        f"{args.seconds:g} s per step, {os.cpu_count()} cores, {args.workers} worker(s)"
        f"{f', {args.closed} at once (closed loop)' if args.closed else ''}"
        f"{', METRICS_PORT set' if args.metrics else ''}"
        f"{f', bot from {args.bot_code}' if args.bot_code.resolve() != ROOT else ''}\n{HEADER}",
        flush=True,
    )
    sender = None
    if not args.closed and not args.same_process:
        sender = concurrent.futures.ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("spawn"), initializer=_end_with_parent, initargs=(os.getpid(),)
        )
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=True)) as http:
            for rate in [0] if args.closed else args.rates:
                await _rate(http, args, rate, sinks, sender)
    finally:
        if sender is not None:
            sender.shutdown()
    return 0


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=int, nargs="+", default=[10, 20, 40, 80, 160], help="commands per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each step")
    parser.add_argument("--people", type=int, default=60, help="distinct connected people, spread over the orgs")
    parser.add_argument("--orgs", type=int, default=2, help="Zoho orgs the people belong to")
    parser.add_argument("--latency", type=float, default=0.3, help="Zoho emulator latency, seconds")
    parser.add_argument("--workers", type=int, default=1, help="bot processes: python -m bot --workers N")
    parser.add_argument(
        "--closed",
        type=int,
        default=0,
        metavar="K",
        help="instead of the rates: K commands at once, each from another person, the next sent when one is "
        "answered (a pace every version answers, to set their CPU per command side by side)",
    )
    parser.add_argument(
        "--metrics",
        action="store_true",
        help="with METRICS_PORT set (with --workers above 1: the workers' figures kept in shared files)",
    )
    parser.add_argument(
        "--same-process",
        action="store_true",
        help="send the open load from this bench's own event loop, beside the Slack emulator and the response "
        "URLs, rather than from a process of its own (as the bench did before 2026-12-06)",
    )
    parser.add_argument(
        "--bot-code",
        type=Path,
        default=ROOT,
        metavar="DIR",
        help="run the bot from this checkout (e.g. a `git worktree` of an older commit) instead of this one",
    )
    return asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
