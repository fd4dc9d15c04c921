"""Every capacity and timeout knob of the bot, as small values with named defaults, and the budget they fit in.

Slack wants its ack within 3 s and takes the answer on the response URL afterwards; the bot promises an answer
within `ANSWER_BUDGET_S` even when Zoho hangs. `Limits` checks, when it is built, that the longest a command may
wait for its turn plus the longest a Zoho call may take still fit in that budget, so a change to one knob that
breaks the promise fails at start-up (and in the tests), not in production.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ANSWER_BUDGET_S = 45.0  # every command is answered within this, Zoho hung included


@dataclass(frozen=True)
class AdmissionLimits:
    """How work that passed the front door is let in (bot.admission).

    New work starts while the event loop keeps up: while its measured lag is `loop_lag_s` or more, new starts
    are held (not refused), so acks stay fast under any load. Waiting work is served round-robin across people,
    and one person's own commands run at most `per_person` at a time (the rest wait in their own queue). A command
    is refused, in its ack, only when at the recent pace it could not be answered within `answer_within_s`; one
    let in that waits `max_wait_s` for its turn anyway (the pace changed: Zoho slowed down or hung) is told
    nothing was done. The gap between the two is room for the estimate's error.
    """

    loop_lag_s: float = 0.05
    per_person: int = 2
    answer_within_s: float = 30.0
    max_wait_s: float = 33.0


@dataclass(frozen=True)
class CrmLimits:
    """The Zoho SDK's thread pool and timeouts (bot.zoho.adapter).

    A hung Zoho is told to the person within the answer budget: `read_timeout_s` of socket silence ends an SDK
    call, `call_timeout_s` ends any job, waiting for a thread included. One person holds at most
    `jobs_per_person` of the `workers` threads. An org's Leads field metadata is read again after
    `org_fields_ttl_s` (sooner when Zoho refuses a field: bot.leads.org_fields).

    A thread spends nearly all of a call waiting for Zoho, and a process may have up to ZOHO_ORG_CONCURRENCY
    calls in flight for each org its people belong to: with 16 threads one worker topped out at 16 / 0.3 s ≈ 53
    calls a second against a Zoho answering in 300 ms, below what two orgs at 10 each allow (crowd bench). 64
    covers six orgs at the default 10; a thread waiting on a socket costs no CPU.
    """

    workers: int = 64
    jobs_per_person: int = 4
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0
    call_timeout_s: float = 12.0
    org_lease_s: float = 15.0
    org_fields_ttl_s: float = 3600.0


@dataclass(frozen=True)
class SlackLimits:
    """Slack's side: the Web API and response URL clients, the request body, the "Working on it…" notice."""

    web_api_timeout_s: float = 10.0
    response_url_timeout_s: float = 10.0
    max_body_bytes: int = 256 * 1024  # Slack's largest payloads (view submissions) stay far below this
    working_notice_after_s: float = 1.5


@dataclass(frozen=True)
class ConnectionLimits:
    """How many connections the server keeps open, and how long it waits for a request (bot.connection_guard).

    Slack reuses a connection within seconds or not at all, and a browser on the login pages does the same; an
    idle connection held longer only costs a file descriptor (aiohttp's default is 3,630 s), so a reverse proxy in
    front should close its idle ones sooner than `keepalive_seconds`. Slack sends a whole request at once and a
    login-page request is a few hundred bytes: `header_seconds` is room for a very slow mobile link and short
    enough that a slowloris client holds a descriptor for seconds, not for ever; bodies are small too. One address
    holding more than `per_client` is a flood, not Slack (many addresses, a few requests at a time at a team's
    pace) nor a reverse proxy (whose pool for this bot stays far below it). `total` is far above a team's traffic
    and, lowered at start if need be, below the open-files limit minus `open_files_reserve` (database connections,
    calls to Slack and Zoho, log and SQLite files), so the cap, not EMFILE, is what turns a flood away.
    """

    total: int = 2_000
    per_client: int = 200
    header_seconds: float = 10.0
    body_seconds: float = 10.0
    keepalive_seconds: float = 15.0
    open_files_reserve: int = 256


@dataclass(frozen=True)
class Limits:
    """All of the above, plus the threads for store calls and how long a shutdown waits for work in flight."""

    admission: AdmissionLimits = field(default_factory=AdmissionLimits)
    crm: CrmLimits = field(default_factory=CrmLimits)
    slack: SlackLimits = field(default_factory=SlackLimits)
    connections: ConnectionLimits = field(default_factory=ConnectionLimits)
    store_threads: int = 32  # store calls run in worker threads: sized for a busy workspace, not for the CPUs
    shutdown_grace_s: float = 20.0
    answer_budget_s: float = ANSWER_BUDGET_S

    def __post_init__(self) -> None:
        longest = self.admission.max_wait_s + self.crm.call_timeout_s
        if longest > self.answer_budget_s:
            raise ValueError(
                f"a command may wait {self.admission.max_wait_s:g} s for its turn and its Zoho call take "
                f"{self.crm.call_timeout_s:g} s: {longest:g} s, over the {self.answer_budget_s:g} s answer budget"
            )
        if self.crm.read_timeout_s > self.crm.call_timeout_s:
            raise ValueError("a Zoho call's socket read timeout cannot exceed the call's own time limit")
        if self.admission.answer_within_s > self.admission.max_wait_s:
            raise ValueError(
                f"commands expected to be answered within {self.admission.answer_within_s:g} s are let in, but "
                f"one is told nothing was done after waiting {self.admission.max_wait_s:g} s: that must not be less"
            )
        if self.admission.per_person < 1:
            raise ValueError(f"a person's commands at once must be at least 1, got {self.admission.per_person}")
        if self.admission.loop_lag_s <= 0:
            raise ValueError(f"the event loop's lag limit must be above 0 s, got {self.admission.loop_lag_s:g}")
        if self.crm.org_lease_s <= 0:
            raise ValueError(f"a Zoho org slot's lease must last more than 0 s, got {self.crm.org_lease_s:g}")


DEFAULT_LIMITS = Limits()
