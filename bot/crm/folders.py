"""The folders where the Zoho SDK caches field metadata: one per process, and none left behind by a crash.

The SDK writes a user's metadata file on their first call and reads it without a lock; replicas sharing one
folder (beside one SQLite file, or one temp directory) would read each other's half-written files, so each
process gets its own (`new_resource_folder`), named with its process id, and removes it at shutdown. A process
that is killed (kill -9, the OOM killer) cannot; the next one to start removes the folders of processes that no
longer run (`remove_stale_folders`). The cost of a folder per process is one metadata fetch per user per process.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile

log = logging.getLogger(__name__)

PREFIX = "zohobot-sdk-"
_OURS = re.compile(re.escape(PREFIX) + r"(\d+)-[A-Za-z0-9_]+")


def new_resource_folder(parent: str | None = None) -> str:
    """A new folder for this process's SDK cache in `parent` (the temp directory by default), after clearing
    the folders there of processes that no longer run."""
    parent = parent or tempfile.gettempdir()
    remove_stale_folders(parent)
    return tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent)


def remove_stale_folders(parent: str) -> list[str]:
    """Remove this user's SDK folders in `parent` whose process no longer runs; return their names.

    A folder whose process id is in use (by that process, or by any other after reuse) is left alone: it may be
    in use. Folders of other users, and folders without a process id in their name, are never touched.
    """
    removed: list[str] = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        named = _OURS.fullmatch(entry.name)
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
        log.info("removed %d Zoho SDK folder(s) left by processes that no longer run", len(removed))
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs, as somebody else
        return True
    return True
