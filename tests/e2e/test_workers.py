"""`python -m bot --workers 2`: two processes serve one port and one database. Both answer signed commands; a
SIGTERM to the parent lets every command in flight, in either worker, finish and answer, then exits 0; a worker
killed from outside is reported and started again while the other keeps serving. With METRICS_PORT the parent
serves both workers' figures added up, and a worker started again takes nothing away from the totals.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_outages import cut_off
from tests.processes import BotProcess, running_fleet, server_database, shown, sqlite_url
from tests.stack import ADA, ANN, BOB, free_port

pytestmark = pytest.mark.slow

TWO_WORKERS = {"WORKERS": "2", "LOG_LEVEL": "DEBUG"}
ACCEPTED = "signed Slack request accepted"


async def both_listening(bot: BotProcess, timeout: float = 60.0) -> None:
    """Until each worker has logged that it listens (the parent's /healthz answer means worker 1 does)."""
    deadline = time.monotonic() + timeout
    while not all(f"[worker {n}] bot.server: listening" in bot.logs() for n in (1, 2)):
        assert time.monotonic() < deadline, bot.logs()
        await asyncio.sleep(0.1)


@asynccontextmanager
async def two_workers(tmp_path: Path, env: dict[str, str] = TWO_WORKERS) -> AsyncIterator[tuple[Any, BotProcess]]:
    """One `python -m bot` with two workers on SQLite, both listening: its fleet and its process."""
    async with running_fleet(tmp_path, sqlite_url(tmp_path), replicas=1, extra_env=env) as fleet:
        (bot,) = fleet.replicas
        await both_listening(bot)
        yield fleet, bot


def requests_by_worker(bot: BotProcess) -> dict[str, int]:
    lines = [line for line in bot.logs().splitlines() if ACCEPTED in line]
    return {n: sum(f"[worker {n}]" in line for line in lines) for n in ("1", "2")}


async def test_two_workers_serve_one_port_and_both_answer_commands(tmp_path: Path) -> None:
    async with two_workers(tmp_path) as (fleet, bot):
        await fleet.connect(ANN, "ann@acme.test")
        await fleet.connect(BOB, "bob@globex.test")
        fleet.zoho.seed_leads("ann@acme.test", [{"Last_Name": "Shared", "Company": "Port Co"}])

        answers = await asyncio.gather(*(fleet.ask(ANN if n % 2 else BOB, "whoami", via=bot) for n in range(24)))

        assert sum("ann@acme.test" in a for a in answers) == 12 and sum("bob@globex.test" in a for a in answers) == 12
        assert "Shared" in await fleet.ask(ANN, "list", via=bot)
        served = requests_by_worker(bot)
        assert served["1"] > 0 and served["2"] > 0, served  # the kernel spread the connections over both
        assert "Traceback" not in bot.logs()


async def test_sigterm_to_two_workers_answers_what_was_in_flight_and_exits_0(tmp_path: Path) -> None:
    async with two_workers(tmp_path) as (fleet, bot):
        await fleet.connect(ANN, "ann@acme.test")
        await fleet.connect(BOB, "bob@globex.test")
        fleet.zoho.seed_leads("ann@acme.test", [{"Last_Name": "Patient", "Company": "Slow Co"}])
        fleet.zoho.seed_leads("bob@globex.test", [{"Last_Name": "Patient", "Company": "Slower Co"}])
        assert "Patient" in await fleet.ask(ANN, "list", via=bot)
        assert "Patient" in await fleet.ask(BOB, "list", via=bot)
        fleet.zoho.latency = 3.0  # every Zoho request takes 3 s

        # two commands each: a person's commands all start at once (two at a time per worker)
        results = await asyncio.gather(*(fleet.command(person, "list", via=bot) for person in (ANN, BOB, ANN, BOB)))
        await asyncio.sleep(0.5)  # all in flight, waiting for Zoho
        served = requests_by_worker(bot)
        bot.proc.send_signal(signal.SIGTERM)
        answers = await asyncio.gather(*(fleet.answer(result, timeout=40) for result in results))
        code = await bot.wait_exit(40)

        assert all("Patient" in shown(answer) for answer in answers), [shown(answer) for answer in answers]
        assert code == 0
        logs = bot.logs()
        assert any(f"[worker {n}] bot.app: shutting down: waiting for" in logs for n in served if served[n])
        for n in ("1", "2"):
            assert f"[worker {n}] bot.server: stopped" in logs
        assert "all workers stopped" in logs and "Traceback" not in logs


async def test_a_worker_killed_from_outside_is_reported_and_started_again(tmp_path: Path) -> None:
    async with two_workers(tmp_path) as (fleet, bot):
        await fleet.connect(ANN, "ann@acme.test")
        pid = int(re.search(r"worker 2 started \(pid (\d+)\)", bot.logs()).group(1))

        os.kill(pid, signal.SIGKILL)  # seconds after its start: it had listened, so it is not failing to start
        await listening_again(bot, 2, times=2)

        assert f"worker 2 (pid {pid}) ended on its own (killed by SIGKILL): starting it again\n" in bot.logs()
        answers = await asyncio.gather(*(fleet.ask(ANN, "whoami", via=bot) for _ in range(8)))
        assert all("ann@acme.test" in a for a in answers)
        assert bot.running


async def test_a_sqlite_file_moved_away_under_the_bot_turns_health_red_and_no_worker_makes_a_new_one(
    tmp_path: Path,
) -> None:
    async with two_workers(tmp_path) as (fleet, bot):
        await fleet.connect(ANN, "ann@acme.test")
        aside = tmp_path / "aside"
        aside.mkdir()
        for file in tmp_path.glob("bot.db*"):  # the database, its journal and its key file, as a careless mv does
            file.rename(aside / file.name)

        assert await bot.health() == 503  # every worker still writes to the file it opened: not healthy
        await logged(bot, f"the SQLite file {tmp_path / 'bot.db'} was moved, deleted or replaced")
        os.kill(started_pid(bot, 2, 1), signal.SIGKILL)
        code = await bot.wait_exit(40)

        assert code == 1
        assert f"the SQLite database {tmp_path / 'bot.db'} is gone since the bot started" in bot.logs()
        assert not (tmp_path / "bot.db").exists()  # no new, empty database beside the one moved away
        with sqlite3.connect(aside / "bot.db") as moved:
            assert moved.execute("SELECT COUNT(*) FROM zoho_connections").fetchone() == (1,)


async def listening_again(bot: BotProcess, number: int, times: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while bot.logs().count(f"[worker {number}] bot.server: listening") < times:
        assert time.monotonic() < deadline, bot.logs()
        await asyncio.sleep(0.1)


async def logged(bot: BotProcess, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in bot.logs():
        assert time.monotonic() < deadline, bot.logs()
        await asyncio.sleep(0.05)


def started_pid(bot: BotProcess, number: int, nth: int) -> int:
    return int(re.findall(rf"worker {number} started \(pid (\d+)\)", bot.logs())[nth - 1])


async def test_a_worker_that_keeps_crashing_is_started_again_after_growing_pauses_while_the_other_serves(
    tmp_path: Path,
) -> None:
    async with two_workers(tmp_path) as (fleet, bot):
        await fleet.connect(ANN, "ann@acme.test")
        for crash in (1, 2, 3):
            pid = started_pid(bot, 2, crash)
            os.kill(pid, signal.SIGKILL)
            if crash == 2:  # while worker 2 waits out its pause, worker 1 answers everything
                await logged(bot, "2 times in a row: starting it again in 1 s")  # its socket is closed by then
                answers = await asyncio.gather(*(fleet.ask(ANN, "whoami", via=bot) for _ in range(6)))
                assert all("ann@acme.test" in a for a in answers)
            await listening_again(bot, 2, times=crash + 1)

        logs = bot.logs()
        first = started_pid(bot, 2, 1)
        assert f"worker 2 (pid {first}) ended on its own (killed by SIGKILL): starting it again\n" in logs
        assert (
            f"worker 2 (pid {started_pid(bot, 2, 2)}) ended on its own (killed by SIGKILL), 2 times in a row: "
            "starting it again in 1 s"
        ) in logs
        assert (
            f"worker 2 (pid {started_pid(bot, 2, 3)}) ended on its own (killed by SIGKILL), 3 times in a row: "
            "starting it again in 2 s"
        ) in logs
        assert "worker 1 (pid" not in logs  # worker 1 never ended
        assert bot.running
    assert bot.proc.returncode == 0, bot.logs()


async def test_a_second_bot_with_workers_on_a_port_in_use_is_refused_in_one_line_and_the_first_serves_on(
    tmp_path: Path,
) -> None:
    async with two_workers(tmp_path) as (fleet, bot):
        await fleet.connect(ANN, "ann@acme.test")
        second = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            env={**bot.env, "DATABASE_URL": sqlite_url(tmp_path / "other")},
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(second.communicate(), 60)

        assert second.returncode == 1, err.decode()
        assert err.decode().strip() == f"error: port {bot.port} is in use; set PORT=… to another port"
        assert "worker" not in out.decode() + err.decode()  # refused before any worker started
        answers = await asyncio.gather(*(fleet.ask(ANN, "whoami", via=bot) for _ in range(6)))
        assert all("ann@acme.test" in a for a in answers)
        assert bot.running


async def test_in_socket_mode_each_worker_opens_its_own_connection_to_slack(tmp_path: Path) -> None:
    socket_mode = {**TWO_WORKERS, "SLACK_APP_TOKEN": "xapp-fake-socket-mode-test", "SLACK_SIGNING_SECRET": ""}
    async with two_workers(tmp_path, socket_mode) as (fleet, bot):
        fleet.slack.bot_events_url = "http://127.0.0.1:9/nowhere"  # nothing may come over HTTP

        opened = [c for c in fleet.slack.calls if c.method == "apps.connections.open"]
        assert len(opened) == 2
        assert "[worker 1] bot.server: Slack: Socket Mode connected" in bot.logs()
        assert "[worker 2] bot.server: Slack: Socket Mode connected" in bot.logs()
        result = await fleet.slack.send_command(ANN, "/lead", "help")
        assert result.status == 200 and "/lead create" in json.dumps(result.ack_body)


async def test_first_commands_in_both_workers_fetch_no_field_metadata_read_at_login(tmp_path: Path) -> None:
    async with two_workers(tmp_path) as (fleet, bot):
        await fleet.connect(ANN, "ann@acme.test")
        await fleet.connect(ADA, "ada@acme.test")  # the same org
        fleet.zoho.seed_leads("ann@acme.test", [{"Last_Name": "Once", "Company": "Acme"}])
        fleet.zoho.seed_leads("ada@acme.test", [{"Last_Name": "Once", "Company": "Acme"}])
        fleet.zoho.latency = 0.3
        before = len(fleet.zoho.crm_calls)

        answers = await asyncio.gather(*(fleet.ask(person, "list", via=bot) for person in (ANN, ADA) * 8))

        assert all("Once" in answer for answer in answers), answers
        calls = fleet.zoho.crm_calls
        # The org's fields (ours, bot.leads.org_fields, and the SDK's own file) were read when Ann logged in and
        # kept in the database: neither worker's first command fetches any of them.
        fetched = [call.path for call in calls[before:] if "/settings/" in call.path]
        assert fetched == [], fetched
        assert any(call.path.endswith("/settings/fields") for call in calls[:before])
        served = requests_by_worker(bot)
        assert served["1"] > 0 and served["2"] > 0, served


async def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as answer:
        assert answer.status == 200, answer.status
        text = await answer.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


ANSWERED = ("zohobot_slack_requests_total", frozenset({("kind", "command"), ("outcome", "answered")}))
RESTARTS = ("zohobot_worker_restarts_total", frozenset())
RUNNING = ("zohobot_workers_running", frozenset())


async def scraped_when(port: int, ready: Any, timeout: float = 15.0) -> dict:
    """Scrape until `ready(samples)` holds (work is counted just after its answer; gauges are published every
    few seconds); the last scrape either way."""
    deadline = time.monotonic() + timeout
    while True:
        samples = await scrape(port)
        if ready(samples) or time.monotonic() > deadline:
            return samples
        await asyncio.sleep(0.1)


async def test_with_metrics_port_the_parent_serves_both_workers_figures_added_up(tmp_path: Path) -> None:
    port = free_port()
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**TWO_WORKERS, "METRICS_PORT": str(port), "TMPDIR": str(temp)}
    async with two_workers(tmp_path, env) as (fleet, bot):
        await fleet.connect(ANN, "ann@acme.test")
        await fleet.connect(BOB, "bob@globex.test")
        async with aiohttp.ClientSession() as http, http.get(f"{bot.url}/metrics") as public:
            assert public.status == 404  # never on the public port
        before = await scrape(port)

        answers = await asyncio.gather(*(fleet.ask(ANN if n % 2 else BOB, "whoami", via=bot) for n in range(24)))

        assert all("@" in answer for answer in answers)
        served = requests_by_worker(bot)
        assert served["1"] > 0 and served["2"] > 0, served  # both workers answered some of them
        after = await scraped_when(port, lambda s: s.get(ANSWERED, 0) - before.get(ANSWERED, 0) >= 24)
        assert after.get(ANSWERED, 0) - before.get(ANSWERED, 0) == 24  # every one counted, once, whichever worker
        # what each worker reads at scrape time is published for the parent: the queues added up, the revocations
        # (a figure of the database) as one
        published = await scraped_when(port, lambda s: ("zohobot_revocations_waiting", frozenset()) in s)
        assert published[("zohobot_revocations_waiting", frozenset())] == 0
        assert published[("zohobot_admission_waiting", frozenset())] == 0

        assert (published[RUNNING], published[RESTARTS]) == (2, 0)

        pid = int(re.search(r"worker 2 started \(pid (\d+)\)", bot.logs()).group(1))
        os.kill(pid, signal.SIGKILL)
        await listening_again(bot, 2, times=2)

        again = await scrape(port)
        assert again.get(ANSWERED, 0) == after.get(ANSWERED, 0)  # the killed worker's answers still count
        assert (again[RUNNING], again[RESTARTS]) == (2, 1)  # what an alert on a crashing worker watches
        (folder,) = temp.glob("zohobot-metrics-*")
        live = {str(pid) for pid in re.findall(r"worker \d started \(pid (\d+)\)", bot.logs())} - {str(pid)}
        kept = {path.stem.rsplit("_", 1)[1] for path in folder.glob("*.db")}
        assert kept and kept <= live, (kept, live)  # the killed worker's files are gone, its figures kept
        await asyncio.gather(*(fleet.ask(ANN, "whoami", via=bot) for _ in range(6)))
        final = await scraped_when(port, lambda s: s.get(ANSWERED, 0) - after.get(ANSWERED, 0) >= 6)
        assert final.get(ANSWERED, 0) - after.get(ANSWERED, 0) == 6
        assert bot.running

    assert bot.proc.returncode == 0, bot.logs()  # SIGTERM at the end: the parent and its metrics stop cleanly
    assert "Traceback" not in bot.logs()
    assert list(temp.glob("zohobot-metrics-*")) == []  # removed at the stop


async def test_with_metrics_port_busy_the_workers_parent_stops_with_one_line_naming_it(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        async with running_fleet(tmp_path, sqlite_url(tmp_path), replicas=0) as fleet:
            bot = fleet.replica("a", {**TWO_WORKERS, "METRICS_PORT": str(taken)})
            bot.start()
            code = await asyncio.to_thread(bot.proc.wait, 60)
    assert code == 1
    assert f"error: METRICS_PORT {taken} is in use; set METRICS_PORT=… to another port" in bot.logs()
    assert "worker 1 started" not in bot.logs()  # told once, before any worker
    assert "Traceback" not in bot.logs()


async def test_with_workers_a_figure_the_database_cannot_give_is_nan_not_the_last_one_read(tmp_path: Path) -> None:
    port = free_port()
    revocations = ("zohobot_revocations_waiting", frozenset())
    async with two_workers(tmp_path, {**TWO_WORKERS, "METRICS_PORT": str(port)}) as (_fleet, bot):
        published = await scraped_when(port, lambda s: revocations in s)
        assert published[revocations] == 0

        with sqlite3.connect(tmp_path / "bot.db") as db:  # the queue cannot be read: as a database gone wrong
            db.execute("ALTER TABLE pending_revocations RENAME TO pending_revocations_away")
        unknown = await scraped_when(port, lambda s: math.isnan(s.get(revocations, 0)))
        assert math.isnan(unknown[revocations])  # not the 0 read before
        await asyncio.sleep(12)  # two more rounds of publishing: told once per worker, not every 5 s
        assert bot.logs().count("metrics: zohobot_revocations_waiting not read") == 2, bot.logs()

        with sqlite3.connect(tmp_path / "bot.db") as db:
            db.execute("ALTER TABLE pending_revocations_away RENAME TO pending_revocations")
        again = await scraped_when(port, lambda s: s.get(revocations) == 0)
        assert again[revocations] == 0
        assert bot.logs().count("metrics: zohobot_revocations_waiting read again") >= 1


async def test_workers_of_a_parent_killed_outright_stop_rather_than_serve_on_alone(tmp_path: Path) -> None:
    async with two_workers(tmp_path) as (fleet, bot):
        await fleet.connect(ANN, "ann@acme.test")
        workers = [int(pid) for pid in re.findall(r"worker \d started \(pid (\d+)\)", bot.logs())]
        assert len(workers) == 2

        bot.kill()  # SIGKILL to the parent: it can pass nothing on

        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in workers):
            assert time.monotonic() < deadline, bot.logs()
            await asyncio.sleep(0.1)
        assert bot.logs().count(f"the parent process (pid {bot.proc.pid}) is gone: stopping") == 2
        async with aiohttp.ClientSession() as http:  # nothing serves the port any more
            with pytest.raises(aiohttp.ClientConnectionError):
                await http.get(f"{bot.url}/healthz")
        await asyncio.sleep(1)  # multiprocessing's resource tracker ends once the workers have: it has nothing to say
        assert "leaked" not in bot.logs() and "Warning" not in bot.logs(), bot.logs()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:  # a zombie is no longer running
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.postgres
async def test_a_worker_started_again_while_the_database_refuses_is_tried_again_until_it_answers(
    tmp_path: Path,
) -> None:
    with server_database("postgres") as url:
        async with running_fleet(tmp_path, url, replicas=1, extra_env=TWO_WORKERS) as fleet:
            (bot,) = fleet.replicas
            await both_listening(bot)
            await fleet.connect(ANN, "ann@acme.test")
            pid = started_pid(bot, 2, 1)
            await asyncio.to_thread(cut_off, url, False)
            try:
                os.kill(pid, signal.SIGKILL)
                # started again at once, it cannot open the database: not the bot's start, so tried again, paused
                await logged(bot, "ended before it listened (exit code 1), 2 times in a row: starting it again in 1 s")
                assert bot.running
            finally:
                await asyncio.to_thread(cut_off, url, True)
            await listening_again(bot, 2, times=2)

            answers = await asyncio.gather(*(fleet.ask(ANN, "whoami", via=bot) for _ in range(6)))

            assert all("ann@acme.test" in answer for answer in answers), answers
            assert "error: cannot open the postgresql database at DATABASE_URL" in bot.logs()
        assert bot.proc.returncode == 0, bot.logs()
