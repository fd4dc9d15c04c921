"""What one Zoho call's HTTP exchange costs this process in CPU, by the client that sends it.

    python bench/transport_bench.py                 # 2000 calls per client, 3 rounds
    python bench/transport_bench.py --calls 500 --rounds 5

The SDK sends every CRM call with `requests`; `bot.zoho.http_bounds` hands it a kept-alive session per worker
thread. Whether a lighter client under the SDK would pay for itself is a question of how much CPU each layer
takes per call. Here a Zoho-like server in a process of its own answers a search with 10 Leads, and the same GET
(the SDK's headers and query) is sent, in turn, through:

- bounded: the bot's own path, `BoundedRequests.get` over `requests` (what the SDK calls);
- urllib3: a kept-alive `urllib3.PoolManager`, no `requests` above it;
- http.client: one kept-alive `http.client.HTTPConnection`, nothing above it;
- aiohttp: the bot's event loop's client, called from a worker thread (the hop there and back included).

Each answer is parsed as JSON, as the SDK does. It prints, for each client and round, the CPU this process used
per call (all its threads: the server's CPU is not counted) and the wall time per call; rounds alternate the
clients so that the machine's noise falls on all of them alike. Not a test: docs/benchmarks.md keeps the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import urllib3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.zoho import http_bounds  # noqa: E402 - after the checkout is on the path

SERVER = """
import json, sys
from aiohttp import web
leads = [{"id": str(4876876000000400000 + n), "Last_Name": f"Lead {n}", "First_Name": "Ada", "Email": f"a{n}@acme.test",
          "Company": "Acme Ltd", "Lead_Status": "Contacted", "Owner": {"id": "1", "name": "Ann"}} for n in range(10)]
body = json.dumps({"data": leads, "info": {"per_page": 10, "count": 10, "page": 1, "more_records": False}}).encode()
async def answer(request):
    return web.Response(body=body, content_type="application/json")
app = web.Application()
app.router.add_route("*", "/{tail:.*}", answer)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=lambda *_: print("listening", flush=True))
"""
PATH = "/crm/v8/Leads/search"
PARAMS = {"criteria": "(Owner:equals:4876876000000000001)", "page": "1", "per_page": "10"}
HEADERS = {"Authorization": "Zoho-oauthtoken 1000.0123456789abcdef", "X-ZOHO-SDK": "python-8.0.0"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clients(port: int) -> tuple[dict[str, Callable[[], object]], Callable[[], None]]:
    base = f"http://127.0.0.1:{port}"
    query = "&".join(f"{k}={v}" for k, v in PARAMS.items())
    bounded = http_bounds.BoundedRequests(__import__("requests"))
    pool = urllib3.PoolManager()
    connection = http.client.HTTPConnection("127.0.0.1", port)

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    session: aiohttp.ClientSession = asyncio.run_coroutine_threadsafe(_session(), loop).result()

    async def aiohttp_get() -> bytes:
        async with session.get(base + PATH, params=PARAMS, headers=HEADERS, allow_redirects=False) as answer:
            return await answer.read()

    def raw() -> object:
        connection.request("GET", f"{PATH}?{query}", headers=HEADERS)
        return json.loads(connection.getresponse().read())

    def close() -> None:
        asyncio.run_coroutine_threadsafe(session.close(), loop).result()
        loop.call_soon_threadsafe(loop.stop)

    return {
        "bounded": lambda: bounded.get(base + PATH, params=PARAMS, headers=HEADERS).json(),
        "urllib3": lambda: json.loads(
            pool.request("GET", base + PATH, fields=PARAMS, headers=HEADERS, redirect=False, retries=False).data
        ),
        "http.client": raw,
        "aiohttp": lambda: json.loads(asyncio.run_coroutine_threadsafe(aiohttp_get(), loop).result()),
    }, close


async def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


def measure(call: Callable[[], object], calls: int) -> tuple[float, float]:
    for _ in range(min(200, calls)):  # connections open, caches warm
        call()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        call()
    return (time.process_time() - cpu) / calls, (time.perf_counter() - wall) / calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000, help="calls per client and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each sending through every client in turn")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "listening"
        by_name, close = clients(port)
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in by_name}
        print(f"transport bench: {args.calls} GETs per client and round, a 10-Lead JSON answer, loopback")
        print(f"{'client':12s} {'round':>5s}  {'CPU per call':>12s}  {'wall per call':>13s}")
        for round_ in range(1, args.rounds + 1):
            for name, call in by_name.items():
                cpu, wall = measure(call, args.calls)
                figures[name].append((cpu, wall))
                print(f"{name:12s} {round_:5d}  {cpu * 1e3:9.3f} ms  {wall * 1e3:10.3f} ms", flush=True)
        print("median over the rounds:")
        for name, runs in figures.items():
            cpu = statistics.median(c for c, _ in runs)
            wall = statistics.median(w for _, w in runs)
            print(f"{name:12s}        {cpu * 1e3:9.3f} ms  {wall * 1e3:10.3f} ms")
        close()
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
