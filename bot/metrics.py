"""The bot's Prometheus series, all in one place, named `zohobot_…`; served by `bot.metrics_http` on METRICS_PORT.

Any layer of bot/ may count here without knowing who serves the figures: the front door (requests by kind and
outcome), the Slack route (rejected requests), the admission queue (refusals), the CRM adapter (Zoho calls and
those in flight). oauth/ and store/ know nothing of bot/: the composition root hands them a callback (token
refreshes) or reads them at scrape time (revocations waiting, `ScrapeTimeGauges`).

The series are created outside any registry; `registry_for` puts them, with one application's scrape-time gauges,
into a registry per application, so several applications in one process (tests) never clash. In one process the
figures are that process's.

With `--workers N` the parent serves METRICS_PORT and the figures are the sum of all its workers', through
prometheus-client's multiprocess mode: the parent names a private folder in `MULTIPROCESS_FOLDER` before it starts
the workers, each worker then keeps its values in files there (the library's choice, made when a process first
imports it), and the parent's `WorkersFigures` adds them up at each scrape. Counters and histograms of a worker
that ended stay counted (totals never go backwards when one is started again), kept by the parent once its files
are deleted; gauges count live workers only. A worker cannot be asked at scrape time, so it publishes its
scrape-time gauges every `PUBLISH_EVERY_S` (`ScrapeTimeGauges.publish`).

Zoho org ids never become labels: they grow without bound and are customer data. An org is counted in one of
`ORG_BUCKETS` buckets by a stable hash of its id (`org_bucket`).
"""

from __future__ import annotations

import contextlib
import glob
import logging
import math
import os
import threading
import zlib
from collections.abc import Awaitable, Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, Sample
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

ORG_BUCKETS = 16
MULTIPROCESS_FOLDER = "PROMETHEUS_MULTIPROC_DIR"  # the environment variable prometheus-client reads at import
PUBLISH_EVERY_S = 5.0  # how often a worker publishes its scrape-time gauges for its parent's scrapes
# Seconds: from a quick ack to a slow Zoho answer (the answer may take up to the 30 s of a command's turn).
# 3.0: Slack waits that long for an ack, then shows the person an error (`le="3.0"` counts the acks in time).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0)

SLACK_REQUESTS = Counter(
    "zohobot_slack_requests",
    "Requests through the front door by kind (command, action, view, event, shortcut) and outcome: answered, "
    "invalid (bad input), not_connected, zoho_error (Zoho refused or failed), refused (turned away at the door), "
    "overloaded (turned away after waiting, or never given a turn at Zoho), unavailable (the bot's database was "
    "down), failed (a bug, apologised for), undelivered (its answer could not be posted to Slack)",
    ["kind", "outcome"],
    registry=None,
)
SLACK_ACK_SECONDS = Histogram(
    "zohobot_slack_ack_seconds",
    "From the front door to the ack, by kind",
    ["kind"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
SLACK_ANSWER_SECONDS = Histogram(
    "zohobot_slack_answer_seconds",
    "From the front door to the finished answer (its wait for a turn included), by kind",
    ["kind"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
SLACK_REJECTED = Counter(
    "zohobot_slack_rejected_requests",
    "Requests on /slack/events refused before any listener ran, by reason (missing_headers, unreadable_timestamp, "
    "stale_timestamp, bad_signature, replayed, malformed_body, other_installation)",
    ["reason"],
    registry=None,
)
ZOHO_CALLS = Counter(
    "zohobot_zoho_calls",
    "Zoho CRM calls by operation (create, read, list, search, update, delete) and status (ok, or the error's kind)",
    ["operation", "status"],
    registry=None,
)
ZOHO_CALL_SECONDS = Histogram(
    "zohobot_zoho_call_seconds",
    "Zoho CRM calls from the moment asked (the wait for a worker thread included), by operation",
    ["operation"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
ZOHO_IN_FLIGHT = Gauge(
    "zohobot_zoho_calls_in_flight",
    f"Zoho CRM calls running now, per org bucket (a stable hash of the org id into {ORG_BUCKETS} buckets)",
    ["org_bucket"],
    registry=None,
    multiprocess_mode="livesum",  # with workers: the calls running now in all of them
)
TOKEN_REFRESHES = Counter(
    "zohobot_token_refreshes",
    "Access token refreshes asked of Zoho, by outcome (ok, refused, unreachable, gone)",
    ["outcome"],
    registry=None,
)
ADMISSION_REFUSALS = Counter(
    "zohobot_admission_refusals",
    "Work the admission queue did not run, by where: door (told in the ack), waited (its turn did not come in "
    "time), closing (shutting down)",
    ["where"],
    registry=None,
)

SERIES = (
    SLACK_REQUESTS,
    SLACK_ACK_SECONDS,
    SLACK_ANSWER_SECONDS,
    SLACK_REJECTED,
    ZOHO_CALLS,
    ZOHO_CALL_SECONDS,
    ZOHO_IN_FLIGHT,
    TOKEN_REFRESHES,
    ADMISSION_REFUSALS,
)


def org_bucket(org_id: str | None) -> str:
    """The label of an org: one of ORG_BUCKETS numbers, the same for an org in every process and on every start."""
    return str(zlib.crc32((org_id or "").encode()) % ORG_BUCKETS)


def label(text: str) -> str:
    """A reason or kind as a label value: lower case, words joined by underscores ("bad signature" → bad_signature)."""
    return "_".join(text.lower().split())


def count_refresh(outcome: str) -> None:
    """Count one token refresh asked of Zoho (the callback oauth.refresh is given)."""
    TOKEN_REFRESHES.labels(outcome).inc()


class ScrapeTimeGauges(Collector):
    """Gauges read when Prometheus asks, not kept up to date: (name, help, read, across_workers) each, `read` a
    coroutine function, `across_workers` how a parent adds up its workers' values (prometheus-client's gauge
    modes: "livesum" for a figure of each process, "livemostrecent" for one that every process reads alike: the
    freshest read wins).

    `refresh()` (on the event loop, before the registry is collected) reads them all; a read that fails (the
    database is down) leaves its gauge out of that scrape, and is logged once until a read succeeds again.
    `publish()`, in a worker whose parent serves the scrapes, reads them and sets them where the parent adds them
    up; a read that failed is published as NaN ("not known"), never as the last figure read.
    """

    def __init__(self, gauges: Iterable[tuple[str, str, Callable[[], Awaitable[float]], str]]) -> None:
        self._gauges = tuple(gauges)
        self._values: dict[str, float] = {}
        self._published: dict[str, Gauge] = {}
        self._failing: set[str] = set()  # not read at the last try: told once, not at every scrape or publish

    async def refresh(self) -> None:
        values: dict[str, float] = {}
        for name, _, read, _ in self._gauges:
            try:
                values[name] = await read()
            except Exception as exc:
                if name not in self._failing:
                    log.warning("metrics: %s not read: %s", name, type(exc).__name__)
                    self._failing.add(name)
            else:
                if name in self._failing:
                    log.info("metrics: %s read again", name)
                    self._failing.discard(name)
        self._values = values

    async def publish(self) -> None:
        await self.refresh()
        for name, documentation, _, across_workers in self._gauges:
            gauge = self._published.get(name)
            if gauge is None:
                gauge = Gauge(name, documentation, registry=None, multiprocess_mode=across_workers)
                self._published[name] = gauge
            gauge.set(self._values.get(name, math.nan))

    def collect(self) -> Iterable[GaugeMetricFamily]:
        for name, documentation, _, _ in self._gauges:
            if name in self._values:
                yield GaugeMetricFamily(name, documentation, value=self._values[name])

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return ()  # nothing is read before the first scrape


def registry_for(*collectors: Collector) -> CollectorRegistry:
    """A registry with every series of this module and the given collectors (an application's scrape-time gauges)."""
    registry = CollectorRegistry(auto_describe=True)
    for collector in (*SERIES, *collectors):
        registry.register(collector)
    return registry


class WorkersFigures(Collector):
    """For the parent of workers: what every worker keeps in `folder`, added up at each scrape.

    A worker that ends leaves files (a new start has a new pid, so new files); read at every scrape, they would make
    each scrape slower and the folder bigger with every restart. So when one ends (`worker_ended`), its counters and
    histograms are read once into totals kept here and its files are deleted; its live gauges just stop counting.
    A scrape reads the files of the live workers only, however often workers were started again."""

    ADDED_UP = ("counter", "histogram", "summary")  # the kinds whose figures never go back: an ended worker's stay

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._pattern = glob.escape(folder)
        self.registry = CollectorRegistry()
        # family name -> (kind, help, {(sample name, labels): the ended workers' total})
        self._ended: dict[str, tuple[str, str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]] = {}
        self._lock = threading.Lock()  # a scrape (the metrics thread) sees an ended worker's figures exactly once
        self.registry.register(self)
        # The parent's own figures, set by its supervisor (bot.workers): served beside the workers', never in a file.
        self.restarts = 0  # workers that ended on their own (a crash, the OOM killer), started again or to be
        self.running = 0  # worker processes running now

    def collect(self) -> list[Metric]:
        with self._lock:
            live = multiprocess.MultiProcessCollector.merge(glob.glob(f"{self._pattern}/*.db"))
            families = self._with_ended(live)
        restarts = CounterMetricFamily(
            "zohobot_worker_restarts",
            "Workers that ended on their own (a crash, the OOM killer) and were started again or are to be",
            value=self.restarts,
        )
        running = GaugeMetricFamily("zohobot_workers_running", "Worker processes running now", value=self.running)
        return [*families, restarts, running]

    def worker_ended(self, pid: int) -> None:
        """The worker `pid` has exited: keep its counters and histograms as totals, delete its files."""
        with self._lock:
            multiprocess.mark_process_dead(pid, self.folder)  # its live gauges
            files = [path for kind in self.ADDED_UP for path in glob.glob(f"{self._pattern}/{kind}_{pid}.db")]
            try:
                ended = multiprocess.MultiProcessCollector.merge(files)
            except Exception as exc:  # noqa: BLE001 - a file it left half-written must not stop the parent or scrapes
                log.warning("metrics: the figures of the worker with pid %d could not be read (%s); left out", pid, exc)
                ended = []
            for family in ended:
                _, _, totals = self._ended.setdefault(family.name, (family.type, family.documentation, {}))
                for sample in family.samples:
                    key = (sample.name, tuple(sorted(sample.labels.items())))
                    totals[key] = totals.get(key, 0.0) + sample.value
            for path in files:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)

    def _with_ended(self, live: Iterable[Metric]) -> list[Metric]:
        families, seen = [], set()
        for family in live:
            ended = self._ended.get(family.name)
            if ended is None:
                families.append(family)
                continue
            seen.add(family.name)
            left = dict(ended[2])
            added = Metric(family.name, family.documentation, family.type)
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                added.samples.append(sample._replace(value=sample.value + left.pop(key, 0.0)))
            added.samples.extend(Sample(name, dict(labels), value) for (name, labels), value in left.items())
            families.append(added)
        for name, (kind, documentation, totals) in self._ended.items():
            if name not in seen:  # no live worker has counted in it since
                family = Metric(name, documentation, kind)
                family.samples.extend(Sample(sample, dict(labels), value) for (sample, labels), value in totals.items())
                families.append(family)
        return families
