"""The workers' parent adds up what its workers count (bot.metrics.WorkersFigures), from the files that real worker
processes write through prometheus-client's multiprocess mode; a worker that ended keeps counting, its files go."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import WorkersFigures

ROOT = Path(__file__).resolve().parents[2]
ANSWERED = ("zohobot_slack_requests_total", (("kind", "command"), ("outcome", "answered")))
ANSWERS_TIMED = ("zohobot_slack_answer_seconds_count", (("kind", "command"),))
ANSWER_SECONDS = ("zohobot_slack_answer_seconds_sum", (("kind", "command"),))
SLOW_ANSWERS = ("zohobot_slack_answer_seconds_bucket", (("kind", "command"), ("le", "0.25")))
IN_FLIGHT = ("zohobot_zoho_calls_in_flight", (("org_bucket", "3"),))


class Worker:
    """A process that counts `answered` commands (each timed at `seconds`) and `calls` running Zoho calls, as a
    worker does, then waits until it is told to end."""

    def __init__(self, folder: Path, answered: int, seconds: float = 0.1, calls: int = 0) -> None:
        code = (
            "import sys, bot.metrics as m\n"
            f"for _ in range({answered}):\n"
            "    m.SLACK_REQUESTS.labels('command', 'answered').inc()\n"
            f"    m.SLACK_ANSWER_SECONDS.labels('command').observe({seconds})\n"
            f"m.ZOHO_IN_FLIGHT.labels('3').inc({calls})\n"
            "print('counted', flush=True)\n"
            "sys.stdin.read()\n"
        )
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout.readline().strip() == "counted"
        self.pid = self.process.pid

    def end(self, figures: WorkersFigures) -> None:
        self.process.stdin.close()
        assert self.process.wait(30) == 0
        self.process.stdout.close()
        figures.worker_ended(self.pid)


def scrape(figures: WorkersFigures) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(figures.registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def files_of(folder: Path, pid: int) -> list[str]:
    return sorted(path.name for path in folder.glob(f"*_{pid}.db"))


def test_an_ended_workers_figures_still_count_once_its_files_are_gone(tmp_path: Path) -> None:
    figures = WorkersFigures(str(tmp_path))
    first = Worker(tmp_path, answered=3, seconds=0.2, calls=1)
    second = Worker(tmp_path, answered=2, seconds=0.5, calls=1)
    try:
        while_both_run = scrape(figures)
        assert while_both_run[ANSWERED] == 5
        assert while_both_run[ANSWERS_TIMED] == 5
        assert while_both_run[SLOW_ANSWERS] == 3  # the first worker's three answers took 0.2 s
        assert while_both_run[IN_FLIGHT] == 2

        first.end(figures)

        assert files_of(tmp_path, first.pid) == []
        after_one_ended = scrape(figures)
        assert after_one_ended[ANSWERED] == 5  # nothing it counted is lost ...
        assert after_one_ended[ANSWERS_TIMED] == 5
        assert after_one_ended[ANSWER_SECONDS] == while_both_run[ANSWER_SECONDS]
        assert after_one_ended[SLOW_ANSWERS] == 3
        assert after_one_ended[IN_FLIGHT] == 1  # ... but its calls no longer run

        started_again = Worker(tmp_path, answered=4, seconds=0.1)
        assert scrape(figures)[ANSWERED] == 9
        assert scrape(figures)[SLOW_ANSWERS] == 7

        second.end(figures)
        started_again.end(figures)
    finally:
        for worker in (first, second):
            if worker.process.poll() is None:
                worker.process.kill()

    assert list(tmp_path.glob("*.db")) == []
    at_the_end = scrape(figures)
    assert at_the_end[ANSWERED] == 9
    assert at_the_end[ANSWERS_TIMED] == 9
    assert at_the_end.get(IN_FLIGHT, 0) == 0


def test_a_worker_started_again_and_again_leaves_no_files_behind_and_every_answer_counted(tmp_path: Path) -> None:
    figures = WorkersFigures(str(tmp_path))
    steady = Worker(tmp_path, answered=1)
    try:
        for restart in range(12):
            Worker(tmp_path, answered=2).end(figures)
            assert {path.name.rsplit("_", 1)[1] for path in tmp_path.glob("*.db")} == {f"{steady.pid}.db"}, restart
        figures_now = scrape(figures)
        assert figures_now[ANSWERED] == 1 + 12 * 2
        assert figures_now[ANSWERS_TIMED] == 1 + 12 * 2
    finally:
        steady.end(figures)
    assert scrape(figures)[ANSWERED] == 25


def test_an_ended_workers_unreadable_file_is_left_out_with_a_warning_and_the_others_still_count(
    tmp_path: Path, caplog
) -> None:
    figures = WorkersFigures(str(tmp_path))
    running = Worker(tmp_path, answered=2)
    try:
        broken_pid = running.pid + 100_000  # no such process: a worker whose file was left half-written
        (tmp_path / f"counter_{broken_pid}.db").write_bytes(b"\x10\x00\x00\x00not a figure file")

        figures.worker_ended(broken_pid)

        assert f"figures of the worker with pid {broken_pid} could not be read" in caplog.text
        assert not (tmp_path / f"counter_{broken_pid}.db").exists()
        assert scrape(figures)[ANSWERED] == 2  # the scrapes go on, with the running worker's figures
    finally:
        running.end(figures)
