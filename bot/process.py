"""One server process: build the application, serve it until a stop signal, and tell a failed start in one line.

`python -m bot` runs one such process; `--workers N` runs N of them (`bot.workers`), each listening on the same
port with SO_REUSEPORT.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import sys
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from bot.settings import Settings

log = logging.getLogger(__name__)

PORT_IN_USE = "port {port} is in use; set PORT=… to another port"


def fail(message: str) -> int:
    """Print `error: message` to stderr; the exit code of a failed start."""
    print(f"error: {message}", file=sys.stderr)
    return 1


def run_server_process(
    settings: Settings,
    *,
    reuse_port: bool = False,
    on_ready: Callable[[], None] | None = None,
    publish_metrics: bool = False,
    parent: int | None = None,
) -> int:
    """Serve until SIGTERM/SIGINT; 0 after a clean stop, 1 (with one line on stderr) when it could not start.

    `reuse_port`: listen with SO_REUSEPORT, beside the other workers. `on_ready`: called once it listens.
    `publish_metrics`: a worker whose parent serves METRICS_PORT (bot.workers). `parent`: a worker's parent
    process id; should that process go (killed with SIGKILL, which it cannot pass on), the worker stops as on
    SIGTERM rather than serve on alone, where no one would stop or restart it and a new parent's workers would
    share the port with it.
    """
    return run_reporting_failures(settings, _serve(settings, reuse_port, on_ready, publish_metrics, parent))


def run_reporting_failures(settings: Settings, main: Coroutine[Any, Any, int]) -> int:
    """Run `main` (a server of `settings`) to its end; a start that fails is told in one line, exit code 1."""
    from bot.metrics_http import MetricsPortUnavailable
    from bot.process_folders import FolderNotPrivate
    from store import StoreConfigError, StoreUnavailable

    problem = host_problem(settings.host)  # before anything is opened or created for a server that cannot listen
    if problem is not None:
        main.close()
        return fail(problem)
    try:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            return runner.run(main)
    except (StoreConfigError, StoreUnavailable, MetricsPortUnavailable) as exc:
        return fail(str(exc))
    except FolderNotPrivate as exc:
        return fail(f"cannot start: {exc.strerror}")
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return fail(PORT_IN_USE.format(port=settings.port))
        if exc.errno in (errno.EACCES, errno.EADDRNOTAVAIL) and not exc.filename:  # the bind itself
            low = exc.errno == errno.EACCES and settings.port < 1024
            privileged = " (a port below 1024 needs privileges)" if low else ""
            return fail(f"cannot listen on {settings.host} port {settings.port}: {exc.strerror}{privileged}")
        where = f"{exc.filename}: " if exc.filename else ""  # a file or folder it could not use
        return fail(f"cannot start: {where}{exc.strerror or exc}")
    except KeyboardInterrupt:
        return 0


def _bind_errors(host: str, port: int) -> Iterator[tuple[str, OSError]]:
    """(address, error) for each of `host`'s addresses where a bind to `port` fails, as the server would bind (no
    SO_REUSEPORT: that fails beside any listener, the workers of another bot included). A family the kernel lacks
    (no IPv6) is skipped, as the server skips it. Raises OSError when `host` names no address."""
    for family, kind, proto, _, address in socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    ):
        try:
            probe = socket.socket(family, kind, proto)
        except OSError:
            continue
        with probe:
            try:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server: TIME_WAIT is no listener
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind(address)
            except OSError as exc:
                yield address[0], exc


def host_problem(host: str) -> str | None:
    """Why nothing can listen on HOST here (it names no address, or none of this machine's), or None."""
    try:
        for address, exc in _bind_errors(host, 0):
            which = "" if address == host else f" (its address {address})"  # a name with several
            return (
                f"HOST {host}{which} is not an address of this machine ({exc.strerror or exc}): use one of its "
                "addresses, 127.0.0.1, or 0.0.0.0 for all of them"
            )
    except OSError as exc:
        return f"HOST {host} names no address ({exc.strerror or exc}): use one of this machine's, such as 127.0.0.1"
    return None


def port_taken(host: str, port: int) -> bool:
    """Whether something listens on (host, port). Other failures are left to the workers to tell."""
    if not port:
        return False
    try:
        return any(exc.errno == errno.EADDRINUSE for _, exc in _bind_errors(host, port))
    except OSError:
        return False


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (Linux and macOS), asyncio's own elsewhere (Windows).

    Under load the loop's own work (its selector, callbacks, transports, the hand-offs from worker threads) was the
    largest single share of a command's CPU (docs/benchmarks.md); uvloop does the same in C.
    """
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _serve(
    settings: Settings,
    reuse_port: bool,
    on_ready: Callable[[], None] | None,
    publish_metrics: bool,
    parent: int | None,
) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from bot.app import build_application
    from bot.limits import DEFAULT_LIMITS
    from bot.server import serve

    # Store calls run in worker threads (asyncio.to_thread); size the pool for a busy workspace, not for the CPUs.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=DEFAULT_LIMITS.store_threads, thread_name_prefix="store")
    )
    app = await build_application(settings)
    stop = asyncio.Event()
    watching = None if parent is None else asyncio.create_task(_stop_when_orphaned(parent, stop), name="parent")
    try:
        await serve(
            app,
            settings.host,
            settings.port,
            stop=stop,
            reuse_port=reuse_port,
            on_ready=None if on_ready is None else lambda _port: on_ready(),
            publish_metrics=publish_metrics,
        )
    finally:
        if watching is not None:
            watching.cancel()
    return 0


PARENT_WATCH_S = 1.0


async def _stop_when_orphaned(parent: int, stop: asyncio.Event) -> None:
    """Set `stop` once this process's parent is no longer `parent` (it ended; the process was handed to init)."""
    while os.getppid() == parent:
        await asyncio.sleep(PARENT_WATCH_S)
    log.warning("the parent process (pid %d) is gone: stopping (work in flight is finished first)", parent)
    stop.set()
