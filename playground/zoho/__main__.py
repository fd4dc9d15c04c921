"""Run the Zoho emulator on its own: `python -m playground.zoho --port 9000 --client-id … --user ann@acme.test`.

Prints one line `zoho emulator listening on http://HOST:PORT` when ready; stops on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from .server import ZohoEmulator


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m playground.zoho", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = OS-chosen (read it from the printed line)")
    parser.add_argument("--client-id", default="1000.LOCAL")
    parser.add_argument("--client-secret", default="local-secret")
    parser.add_argument("--redirect-uri", action="append", help="registered redirect URI (repeatable)")
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="EMAIL[,FULL NAME[,ORG NAME]]",
        help="a Zoho user to create (repeatable); same org name = same org",
    )
    parser.add_argument("--auto-approve", metavar="EMAIL", help="approve every authorize request as this user")
    parser.add_argument("--token-lifetime", type=float, default=3600)
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    emu = ZohoEmulator()
    emu.register_client(
        args.client_id, args.client_secret, args.redirect_uri or ["http://127.0.0.1:3000/zoho/callback"]
    )
    for spec in args.user:
        email, *rest = [part.strip() for part in spec.split(",")]
        emu.add_user(email, full_name=rest[0] if rest else None, org_name=rest[1] if len(rest) > 1 else None)
    emu.auto_approve_as = args.auto_approve
    emu.token_lifetime = args.token_lifetime
    url = await emu.start(args.host, args.port)
    print(f"zoho emulator listening on {url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await emu.stop()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(_serve(_parse(argv)))


if __name__ == "__main__":
    main()
