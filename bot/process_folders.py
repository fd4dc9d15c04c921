"""Temp folders: one per process and none left behind by a crash, or one per machine kept across restarts.

Each process makes its own (`new_process_folder`), named with a purpose prefix and its process id, and removes
it when it stops. A process that is killed (kill -9, the OOM killer) cannot; the next one to make a folder of that
purpose removes the folders whose process no longer runs (`remove_stale_folders`). Used for the `--local`
playground's database and log (`LOCAL_PLAYGROUND`).

The Zoho SDK's field-metadata cache (`FIELD_CACHE`) is one folder per OS user of the machine (`machine_folder`),
shared by every worker and kept across restarts, so a person's first command finds their org's fields already
fetched (bot.zoho.sdk_runtime makes the SDK's files per org and safe to share). It is private: a folder of that
name that is not this user's own, or that others may read, stops the start.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import stat
import tempfile

log = logging.getLogger(__name__)

FIELD_CACHE = "zohobot-fields-"
LOCAL_PLAYGROUND = "zohobot-local-"


def new_process_folder(prefix: str, parent: str | None = None) -> str:
    """A new folder `<prefix><pid>-<random>` for this process in `parent` (the temp directory by default), after
    removing the folders of that prefix there whose process no longer runs."""
    parent = parent or tempfile.gettempdir()
    remove_stale_folders(prefix, parent)
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent)


class FolderNotPrivate(PermissionError):
    """The machine folder exists but is not this user's alone; `str()` names it and what to do."""


def machine_folder(prefix: str, parent: str | None = None) -> str:
    """The folder `<prefix><uid>` in `parent` (the temp directory by default), made private (0700) if missing.

    Raises FolderNotPrivate when it exists but is not a folder of this user that only this user can open (another
    user's, a symbolic link, or readable by others): its files would be read or planted by someone else.
    """
    path = os.path.join(parent or tempfile.gettempdir(), f"{prefix}{os.getuid()}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    found = os.lstat(path)
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        raise FolderNotPrivate(
            errno.EACCES, f"{path} is not a private folder of this user (remove it, or set TMPDIR elsewhere)"
        )
    return path


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
