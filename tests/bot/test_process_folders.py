"""Temp folders of one process each (the playground's data): a killed process's folder is removed by the next one
to start; and the one folder per machine (the SDK's field cache): kept, and private."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.process_folders import (
    FIELD_CACHE,
    LOCAL_PLAYGROUND,
    machine_folder,
    new_process_folder,
    remove_stale_folders,
)


def a_finished_process_id() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def folder(parent: Path, name: str) -> Path:
    made = parent / name
    (made / "resources").mkdir(parents=True)
    (made / "resources" / "fields.json").write_text("{}")
    return made


def test_a_folder_of_a_process_that_no_longer_runs_is_removed_and_the_others_kept(tmp_path: Path) -> None:
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        crashed = folder(tmp_path, f"{LOCAL_PLAYGROUND}{a_finished_process_id()}-abc123xy")
        alive = folder(tmp_path, f"{LOCAL_PLAYGROUND}{running.pid}-def456uv")
        mine = folder(tmp_path, f"{LOCAL_PLAYGROUND}{os.getpid()}-ghi789st")
        older_version = folder(tmp_path, f"{LOCAL_PLAYGROUND}q1w2e3r4")  # no process id in the name: cannot tell
        other_purpose = folder(tmp_path, f"zohobot-other-{a_finished_process_id()}-abc123xy")

        removed = remove_stale_folders(LOCAL_PLAYGROUND, str(tmp_path))

        assert removed == [crashed.name] and not crashed.exists()
        assert all(f.exists() for f in (alive, mine, older_version, other_purpose))
    finally:
        running.kill()
        running.wait()


def test_a_new_folder_is_named_for_this_process_and_clears_the_stale_ones_first(tmp_path: Path) -> None:
    crashed = folder(tmp_path, f"{LOCAL_PLAYGROUND}{a_finished_process_id()}-abc123xy")

    made = Path(new_process_folder(LOCAL_PLAYGROUND, str(tmp_path)))

    assert made.parent == tmp_path and made.name.startswith(f"{LOCAL_PLAYGROUND}{os.getpid()}-") and made.is_dir()
    assert not crashed.exists()
    assert remove_stale_folders(LOCAL_PLAYGROUND, str(tmp_path)) == []  # this process's own folder stays


def test_the_machine_folder_is_the_same_for_every_process_of_this_user_and_private(tmp_path: Path) -> None:
    made = Path(machine_folder(FIELD_CACHE, str(tmp_path)))
    (made / "kept.json").write_text("{}")

    assert Path(machine_folder(FIELD_CACHE, str(tmp_path))) == made  # the next worker, or the next start
    assert (made / "kept.json").exists() and made.stat().st_mode & 0o777 == 0o700


def test_a_machine_folder_others_may_open_or_a_link_stops_the_start(tmp_path: Path) -> None:
    shared = tmp_path / f"{FIELD_CACHE}{os.getuid()}"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    with pytest.raises(PermissionError, match="not a private folder"):
        machine_folder(FIELD_CACHE, str(tmp_path))

    shared.rmdir()
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    shared.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(PermissionError, match="not a private folder"):
        machine_folder(FIELD_CACHE, str(tmp_path))
