"""`python -m bot --workers N`: N server processes on one port and one database, under a small parent.

One Python process uses one core at most (one event loop, one GIL); workers use the others. Each worker is the
ordinary server (`bot.process`) listening with SO_REUSEPORT, so the kernel spreads new connections across them;
in Socket Mode each opens its own connection to Slack, and Slack spreads the requests. What workers must agree on
lives in the database (tokens, login links, replays, refresh locks) or in the machine's shared field cache.

The parent builds nothing. It starts worker 1 and waits until it listens, so a bad setting or a busy port is told
once (and the database schema made once), then starts the others. SIGTERM or SIGINT to the parent is passed on to
every worker as SIGTERM; each finishes or answers its work in flight as a single process does, and the parent exits
0 once all have stopped cleanly (1 otherwise). A parent killed outright (SIGKILL) passes nothing on: each worker
sees within a second that its parent is gone and stops the same way, so no worker serves on without a parent.

Before any worker starts, the parent checks that no one listens on the port: workers listen with SO_REUSEPORT, so
the workers of a second bot started by mistake on the same port would otherwise share its connections silently.

A worker that exits on its own (a crash, the OOM killer) is logged with how it ended and started again: the others
keep serving meanwhile. Ends in a row, each within STEADY_S of its start, are started again after growing pauses
(RESTART_PAUSES_S), so a worker that keeps crashing does not spin. A worker that ends before it ever listened, at
the bot's start, is failing to start (a bad setting, the database refusing): starting it again would only repeat
that, so the parent stops the others and exits 1. One started again that ends before it listens (the database
down for a while) is tried again after the pauses, while the others serve.

With METRICS_PORT set, the parent serves it, before any worker starts (a busy port is told once, as for one
process): each scrape adds up every worker's figures, kept in a private folder of the parent's (bot.metrics).
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import time
from dataclasses import dataclass
from types import FrameType
from typing import Any

from bot.logs import configure_logging
from bot.metrics import MULTIPROCESS_FOLDER, WorkersFigures
from bot.metrics_http import MetricsPortUnavailable, WorkersMetrics
from bot.process import PORT_IN_USE, fail, host_problem, port_taken, run_server_process
from bot.process_folders import new_process_folder
from bot.settings import Settings
from store.database import Dialect, dialect_of, sqlite_path

log = logging.getLogger(__name__)

STEADY_S = 60.0  # a worker that ran this long before it ended was not crashing in a loop: no pause
RESTART_PAUSES_S = (0.0, 1.0, 2.0, 5.0, 10.0, 30.0)  # before the 1st, 2nd, … start again of ends in a row
WATCH_EVERY_S = 0.5
_SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter: no state (threads, sockets, SDK) copied
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
METRICS_FOLDER = "zohobot-metrics-"


class ReadySignal:
    """A worker says once, through a pipe, that it listens. Not a multiprocessing Event: its named semaphores are
    tracked by multiprocessing's resource tracker, which, when the parent is killed outright, writes a "leaked
    semaphore objects" warning into the log stream."""

    def __init__(self) -> None:
        self._reader, self._writer = _SPAWN.Pipe(duplex=False)
        self._seen = False

    def set(self) -> None:
        """In the worker: it listens."""
        self._writer.send_bytes(b"ready")

    def wait(self, timeout: float) -> bool:
        """In the parent: whether the worker has said it listens, waiting up to `timeout` s for it."""
        if not self._seen and not self._reader.closed and self._reader.poll(timeout):
            self._reader.recv_bytes()
            self._seen = True
        return self._seen

    def is_set(self) -> bool:
        return self.wait(0)

    def close(self) -> None:
        """In the parent, once the worker has ended: what was said is kept, the pipe's descriptors go."""
        self.is_set()
        self._reader.close()
        self._writer.close()


def worker_main(settings: Settings, number: int, ready: ReadySignal, parent: int) -> None:
    """A worker process: the ordinary server on the shared port, its log lines marked with its number. Its parent
    (`parent`, its pid: should it go, the worker stops) serves METRICS_PORT; the worker publishes its figures."""
    configure_logging(settings.log_level, log_format=settings.log_format, worker=number)
    publish = settings.metrics_port is not None
    settings = dataclasses.replace(settings, metrics_port=None)
    raise SystemExit(
        run_server_process(settings, reuse_port=True, on_ready=ready.set, publish_metrics=publish, parent=parent)
    )


@dataclass
class _Worker:
    number: int
    process: Any  # multiprocessing's SpawnProcess
    ready: ReadySignal
    started: float


def how_it_ended(exit_code: int) -> str:
    """`exit code 1`, or `killed by SIGKILL` for a process ended by a signal."""
    if exit_code < 0:
        return f"killed by {signal.Signals(-exit_code).name}"
    return f"exit code {exit_code}"


class Supervisor:
    """Starts `settings.workers` workers, restarts one that exits on its own, stops them all on a stop signal."""

    def __init__(self, settings: Settings, figures: WorkersFigures | None = None) -> None:
        self.settings = settings
        self.workers: dict[int, _Worker] = {}
        self.stopping = False
        self.failed = False
        self.figures = figures  # the workers' figures, when the parent serves them
        self.listened: set[int] = set()  # the worker numbers that have listened once since the bot started
        self.ends_in_a_row: dict[int, int] = {}  # worker number -> quick ends in a row (pauses before its start)
        self.due: dict[int, float] = {}  # worker number -> when it is to be started again (time.monotonic)
        self.sqlite_file = (
            sqlite_path(settings.database_url) if dialect_of(settings.database_url) is Dialect.SQLITE else None
        )

    def run(self) -> int:
        """Serve until stopped; the parent's exit code."""
        for sig in _STOP_SIGNALS:
            signal.signal(sig, self._stop_requested)
        log.info("starting %d workers on port %d", self.settings.workers, self.settings.port)
        first = self._start(1)
        if self._wait_ready(first):
            for number in range(2, self.settings.workers + 1):
                self._start(number)
        while self.workers or (self.due and not self.stopping):
            self._watch()
            self._start_due()
        log.info("all workers stopped")
        return 1 if self.failed else 0

    def _start(self, number: int) -> _Worker:
        ready = ReadySignal()
        process = _SPAWN.Process(
            target=worker_main, args=(self.settings, number, ready, os.getpid()), name=f"bot-worker-{number}"
        )
        process.start()
        worker = self.workers[number] = _Worker(number, process, ready, time.monotonic())
        if self.figures is not None:
            self.figures.running = len(self.workers)
        log.info("worker %d started (pid %d)", number, process.pid)
        if self.stopping:  # a stop signal came while it was being started
            os.kill(process.pid, signal.SIGTERM)
        return worker

    def _wait_ready(self, worker: _Worker) -> bool:
        while not self.stopping and worker.process.is_alive():
            if worker.ready.wait(WATCH_EVERY_S):
                return True
        return False

    def _watch(self) -> None:
        timeout = WATCH_EVERY_S
        if self.due:
            timeout = max(0.0, min(timeout, min(self.due.values()) - time.monotonic()))
        sentinels = [w.process.sentinel for w in self.workers.values()]
        if sentinels:
            multiprocessing.connection.wait(sentinels, timeout)
        else:
            time.sleep(timeout)
        for worker in [w for w in self.workers.values() if w.process.exitcode is not None]:
            del self.workers[worker.number]
            worker.ready.close()
            if worker.ready.is_set():
                self.listened.add(worker.number)
            if self.figures is not None:
                self.figures.worker_ended(worker.process.pid)
                self.figures.running = len(self.workers)
            if self.stopping:
                self._stopped(worker)
            else:
                self._exited_on_its_own(worker)

    def _stopped(self, worker: _Worker) -> None:
        code = worker.process.exitcode
        # A worker stopped before it listened had nothing in flight: the signal's default action is a clean end.
        clean = code == 0 or (not worker.ready.is_set() and -code in _STOP_SIGNALS)
        if not clean:
            self.failed = True
            pid, ended = worker.process.pid, how_it_ended(code)
            log.error("worker %d (pid %d) did not stop cleanly: %s", worker.number, pid, ended)

    def _exited_on_its_own(self, worker: _Worker) -> None:
        number, pid = worker.number, worker.process.pid
        ran = time.monotonic() - worker.started
        ended = how_it_ended(worker.process.exitcode)
        if number not in self.listened:
            log.error(
                "worker %d (pid %d) ended %.1f s after its start, before it listened (%s): not starting it again; "
                "stopping the others",
                number,
                pid,
                ran,
                ended,
            )
            self.failed = True
            self._stop_all()
            return
        if self.figures is not None:
            self.figures.restarts += 1
        in_a_row = 0 if ran >= STEADY_S else self.ends_in_a_row.get(number, 0)
        self.ends_in_a_row[number] = in_a_row + 1
        pause = RESTART_PAUSES_S[min(in_a_row, len(RESTART_PAUSES_S) - 1)]
        how = "before it listened" if not worker.ready.is_set() else "on its own"
        if pause:
            log.error(
                "worker %d (pid %d) ended %s (%s), %d times in a row: starting it again in %g s",
                number,
                pid,
                how,
                ended,
                in_a_row + 1,
                pause,
            )
            self.due[number] = time.monotonic() + pause
            return
        log.error("worker %d (pid %d) ended %s (%s): starting it again", number, pid, how, ended)
        self._start_again(number)

    def _start_due(self) -> None:
        if self.stopping:
            self.due.clear()
            return
        now = time.monotonic()
        for number in [n for n, at in self.due.items() if at <= now]:
            del self.due[number]
            self._start_again(number)

    def _start_again(self, number: int) -> None:
        """Start a worker that ended on its own again, unless the SQLite file the bot started on is gone: the
        worker would make a new, empty database beside the others' (everyone logged out, two databases)."""
        path = self.sqlite_file
        if path is not None and not path.exists():
            log.error(
                "the SQLite database %s is gone since the bot started (moved or deleted): not starting worker %d "
                "again on a new, empty one; stopping the others. Put the file back and start the bot again",
                path,
                number,
            )
            self.failed = True
            self.due.clear()
            self._stop_all()
            return
        self._start(number)

    def _stop_requested(self, signum: int, _frame: FrameType | None) -> None:
        if not self.stopping:
            name = signal.Signals(signum).name
            pending = f"; {len(self.due)} waiting to be started again will not be" if self.due else ""
            log.info("%s: stopping %d workers (each finishes its work in flight)%s", name, len(self.workers), pending)
        self._stop_all()

    def _stop_all(self) -> None:
        self.stopping = True
        for worker in self.workers.values():
            if worker.process.exitcode is None:
                os.kill(worker.process.pid, signal.SIGTERM)


def run_workers(settings: Settings) -> int:
    """`python -m bot` with WORKERS above 1: the parent's exit code."""
    problem = host_problem(settings.host)
    if problem is not None:
        return fail(problem)
    if port_taken(settings.host, settings.port):
        return fail(PORT_IN_USE.format(port=settings.port))
    if settings.metrics_port is None:
        return Supervisor(settings).run()
    folder = new_process_folder(METRICS_FOLDER)
    os.environ[MULTIPROCESS_FOLDER] = folder  # before any worker starts: each reads it when it imports the library
    figures = WorkersFigures(folder)
    metrics = WorkersMetrics(figures.registry, settings.host, settings.metrics_port)
    try:
        try:
            metrics.start()
        except MetricsPortUnavailable as exc:
            return fail(str(exc))
        return Supervisor(settings, figures).run()
    finally:
        metrics.stop()
        shutil.rmtree(folder, ignore_errors=True)
