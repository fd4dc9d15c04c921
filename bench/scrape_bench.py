"""How long a scrape of `--workers N`'s METRICS_PORT takes after many worker restarts, and what it leaves on disk.

    python bench/scrape_bench.py                  # 2 running workers, 0 200 1000 ended ones, 20 scrapes each
    python bench/scrape_bench.py --ended 0 50 --scrapes 50

Each worker is a real process that imports bot.metrics with PROMETHEUS_MULTIPROC_DIR set and counts what a busy
worker counts (every kind and outcome of request, both histograms, Zoho calls by operation and status, calls in
flight in all 16 org buckets). For each number of ended workers, two folders are filled alike and scraped in turn:

- files kept: every ended worker's files stay and each scrape reads them all (prometheus-client's
  MultiProcessCollector over the folder, what the parent did before 2026-12-06);
- folded: the parent's `WorkersFigures`, which reads an ended worker's files once into totals and deletes them.

It prints the scrape time (median and worst of `--scrapes`), the files in the folder and their size on disk, and
checks that both ways serve the same totals (sums of seconds to the last few digits: they are added in another
order).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.metrics import WorkersFigures  # noqa: E402 - after the checkout is on the path

COUNT = """
import sys, bot.metrics as m
for kind in ("command", "action", "view", "event", "shortcut"):
    for outcome in ("answered", "invalid", "not_connected", "zoho_error", "refused", "overloaded", "failed"):
        m.SLACK_REQUESTS.labels(kind, outcome).inc(3)
    m.SLACK_ACK_SECONDS.labels(kind).observe(0.01)
    m.SLACK_ANSWER_SECONDS.labels(kind).observe(0.4)
for operation in ("create", "read", "list", "search", "update", "delete"):
    for status in ("ok", "ZohoTimeout", "RateLimited"):
        m.ZOHO_CALLS.labels(operation, status).inc()
    m.ZOHO_CALL_SECONDS.labels(operation).observe(0.3)
for bucket in range(16):
    m.ZOHO_IN_FLIGHT.labels(str(bucket)).inc()
print("counted", flush=True)
sys.stdin.read()
"""


def worker(folder: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": folder, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", COUNT], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "counted"
    return process


def end(process: subprocess.Popen[str]) -> None:
    process.stdin.close()
    process.wait(30)
    process.stdout.close()


def timed_scrapes(registry: CollectorRegistry, scrapes: int) -> tuple[list[float], bytes]:
    seconds, text = [], b""
    for _ in range(scrapes):
        started = time.perf_counter()
        text = generate_latest(registry)
        seconds.append(time.perf_counter() - started)
    return seconds, text


def totals(text: bytes) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
    }


def on_disk(folder: str) -> tuple[int, int]:
    files = list(Path(folder).glob("*.db"))
    return len(files), sum(os.stat(path).st_blocks * 512 for path in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--running", type=int, default=2, help="workers running while scraped")
    parser.add_argument("--ended", type=int, nargs="+", default=[0, 200, 1000], help="ended workers, per step")
    parser.add_argument("--scrapes", type=int, default=20)
    options = parser.parse_args()

    print(f"{options.running} running workers; scrape ms median / worst of {options.scrapes}; files; disk KiB")
    for ended in options.ended:
        with tempfile.TemporaryDirectory() as kept, tempfile.TemporaryDirectory() as folded:
            figures = WorkersFigures(folded)
            old = CollectorRegistry()
            multiprocess.MultiProcessCollector(old, path=kept)
            for _ in range(ended):
                for folder in (kept, folded):
                    process = worker(folder)
                    end(process)
                    multiprocess.mark_process_dead(process.pid, folder)  # what the parent did for an ended one
                    if folder == folded:
                        figures.worker_ended(process.pid)
            running = [worker(folder) for folder in (kept, folded) for _ in range(options.running)]
            try:
                rows = []
                for name, registry, folder in (("files kept", old, kept), ("folded", figures.registry, folded)):
                    seconds, text = timed_scrapes(registry, options.scrapes)
                    files, size = on_disk(folder)
                    median, worst = statistics.median(seconds) * 1000, max(seconds) * 1000
                    rows.append((name, median, worst, files, size, totals(text)))
                kept_totals, folded_totals = rows[0][5], rows[1][5]
                assert kept_totals.keys() == folded_totals.keys(), "the two ways serve different series"
                for key, value in kept_totals.items():  # sums of seconds differ in the last digits (added in turn)
                    assert math.isclose(value, folded_totals[key], rel_tol=1e-9), (key, value, folded_totals[key])
                for name, median, worst, files, size, _ in rows:
                    print(
                        f"ended {ended:5d}  {name:10s}  {median:8.1f} / {worst:8.1f} ms  {files:5d} files  "
                        f"{size / 1024:9.0f} KiB"
                    )
            finally:
                for process in running:
                    end(process)


if __name__ == "__main__":
    main()
