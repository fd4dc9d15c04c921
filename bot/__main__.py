"""`python -m bot [--local | --check] [--workers N]`: start the server (N processes of it), the local playground,
or check the settings.

`--local` runs the playground (Slack console + Zoho emulator), which lives beside the product in the source
checkout and is not part of the installed package.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bot.logs import configure_logging
from bot.process import fail, run_reporting_failures, run_server_process
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
    parser.add_argument(
        "--workers",
        metavar="N",
        help="serve with N processes on one port and database (default: WORKERS, else 1); not with --local",
    )
    return parser.parse_args(argv)


LOCAL_IS_ONE_PROCESS = (
    "--workers cannot be used with --local: the playground (its Slack console and Zoho emulator) runs in one"
    " process; drop --workers, or run python -m bot --workers N with real Slack and Zoho settings"
)
NO_PLAYGROUND = (
    "--local needs a source checkout of zoho-slack-bot (its playground/ folder with the Slack console and the"
    " Zoho emulator); clone the repository and run python3 dev.py local"
)


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


def _check(environ: dict[str, str], flags: dict[str, str]) -> int:
    """`--check` reads the settings itself: it reports every bad one, not only the first."""
    from bot.check import run_check

    configure_logging("WARNING")
    try:
        return run_check(environ, flags=flags)
    except SettingsError as exc:
        return fail(str(exc))


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.local and args.workers is not None:
        return fail(LOCAL_IS_ONE_PROCESS)
    environ = dict(os.environ) if args.workers is None else {**os.environ, "WORKERS": args.workers}
    if args.check:
        return _check(environ, {} if args.workers is None else {"WORKERS": "--workers"})
    run_local = _local_runner() if args.local else None
    if args.local and run_local is None:
        return fail(NO_PLAYGROUND)
    try:
        settings = load_settings(environ, local=args.local)
    except SettingsError as exc:
        if exc.variable == "WORKERS" and args.workers is not None:  # named as it was given
            return fail(f"--workers {exc.problem}")
        return fail(str(exc))
    configure_logging(settings.log_level, log_format=settings.log_format)
    if run_local is not None:
        return run_reporting_failures(settings, run_local(settings))
    if settings.workers > 1:
        from bot.workers import run_workers

        return run_workers(settings)
    return run_server_process(settings)


if __name__ == "__main__":
    sys.exit(main())
