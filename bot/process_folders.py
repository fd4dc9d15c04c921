"""Temp folders that belong to one process, and none left behind by a crash.

Each process makes its own (`new_process_folder`), named with a purpose prefix and its process id, and removes
it when it stops. A process that is killed (kill -9, the OOM killer) cannot; the next one to make a folder of that
purpose removes the folders whose process no longer runs (`remove_stale_folders`).

Used for the Zoho SDK's field-metadata cache (`SDK_CACHE`: the SDK writes a user's metadata file on their first
call and reads it without a lock, so replicas sharing one folder would read each other's half-written files; the
cost of a folder per process is one metadata fetch per user per process) and for the `--local` playground's
database and log (`LOCAL_PLAYGROUND`).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile

log = logging.getLogger(__name__)

SDK_CACHE = "zohobot-sdk-"
LOCAL_PLAYGROUND = "zohobot-local-"


def new_process_folder(prefix: str, parent: str | None = None) -> str:
    """A new folder `<prefix><pid>-<random>` for this process in `parent` (the temp directory by default), after
    removing the folders of that prefix there whose process no longer runs."""
    parent = parent or tempfile.gettempdir()
    remove_stale_folders(prefix, parent)
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent)


def remove_stale_folders(prefix: str, parent: str) -> list[str]:
    """Remove this user's `<prefix><pid>-…` folders in `parent` whose process no longer runs; return their names.

    A folder whose process id is in use (by that process, or by any other after reuse) is left alone: it may be
    in use. Folders of other users, and folders without a process id in their name, are never touched.
    """
    ours = re.compile(re.escape(prefix) + r"(\d+)-[A-Za-z0-9_]+")
    removed: list[str] = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        named = ours.fullmatch(entry.name)
        if named is None:
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
        except OSError:
            continue
        pid = int(named.group(1))
        if pid == os.getpid() or _running(pid):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.name)
    if removed:
        log.info("removed %d %s* folder(s) left by processes that no longer run", len(removed), prefix)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs, as somebody else
        return True
    return True
