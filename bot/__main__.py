"""`python -m bot [--local | --check]`: start the server, the local playground, or check the settings.

`--local` runs the playground (Slack console + Zoho emulator), which lives beside the product in the source
checkout and is not part of the installed package.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Zoho CRM Leads from Slack.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--local",
        action="store_true",
        help="run with the built-in Slack console and Zoho emulator (no accounts needed)",
    )
    mode.add_argument("--check", action="store_true", help="validate settings and the database, then exit")
    return parser.parse_args(argv)


NO_PLAYGROUND = (
    "--local needs a source checkout of zoho-slack-bot (its playground/ folder with the Slack console and the"
    " Zoho emulator); clone the repository and run python3 dev.py local"
)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _local_runner() -> Callable[[Settings], Coroutine[Any, Any, int]] | None:
    """The playground's `run_local`, or None when this is an installed wheel (the playground ships only in
    the source checkout). The product never imports the playground otherwise: it sits above the product."""
    try:
        from playground.local import run_local
    except ModuleNotFoundError as exc:
        # Only the folder itself being absent means "no checkout"; an import failing inside it is a real bug.
        if exc.name != "playground":
            raise
        return None
    return run_local


async def _run_server(settings: Settings) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from bot.app import build_application
    from bot.limits import DEFAULT_LIMITS
    from bot.server import serve

    # Store calls run in worker threads (asyncio.to_thread); size the pool for a busy workspace, not for the CPUs.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=DEFAULT_LIMITS.store_threads, thread_name_prefix="store")
    )
    app = await build_application(settings)
    await serve(app, settings.host, settings.port)
    return 0


def _check() -> int:
    """`--check` reads the settings itself: it reports every bad one, not only the first."""
    from bot.check import run_check

    configure_logging("WARNING")
    try:
        return run_check(os.environ)
    except SettingsError as exc:
        return _fail(str(exc))


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.check:
        return _check()
    run_local = _local_runner() if args.local else None
    if args.local and run_local is None:
        return _fail(NO_PLAYGROUND)
    try:
        settings = load_settings(os.environ, local=args.local)
    except SettingsError as exc:
        return _fail(str(exc))
    configure_logging(settings.log_level, log_format=settings.log_format)

    from bot.metrics_http import MetricsPortUnavailable
    from store import StoreConfigError, StoreUnavailable

    try:
        if run_local is not None:
            return asyncio.run(run_local(settings))
        return asyncio.run(_run_server(settings))
    except (StoreConfigError, StoreUnavailable, MetricsPortUnavailable) as exc:
        return _fail(str(exc))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return _fail(f"port {settings.port} is in use; set PORT=… to another port")
        return _fail(f"cannot start: {exc.strerror or exc} (is HOST/PORT free and valid?)")
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
