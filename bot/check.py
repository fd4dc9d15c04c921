"""`python -m bot --check`: what the settings say and whether the database answers, secrets masked."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.settings import Settings
from store import PeeweeTokenStore, StoreError


def run_check(settings: Settings, out: TextIO = sys.stdout) -> int:
    """Print each setting and the database check; 0 when everything is usable, 1 otherwise."""
    mode = "Socket Mode" if settings.socket_mode else "HTTP (Events API)"
    print(f"settings: ok ({mode})", file=out)
    width = max(len(name) for name, _ in settings.describe())
    for name, value in settings.describe():
        print(f"  {name:<{width}}  {value}", file=out)
    try:
        store = PeeweeTokenStore(settings.database_url, settings.token_encryption_key)
    except StoreError as exc:
        print(f"database: FAILED: {exc}", file=out)
        return 1
    except Exception as exc:  # a driver's connection error: say which, never a traceback
        print(
            f"database: FAILED: cannot connect ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})",
            file=out,
        )
        return 1
    try:
        if not store.ping():
            print("database: FAILED: no answer", file=out)
            return 1
        print(f"database: ok ({store.describe()})", file=out)
    finally:
        store.close()
    return 0
