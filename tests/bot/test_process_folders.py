"""Temp folders of one process each (the SDK's cache, the playground's data): a killed process's folder is removed
by the next one to start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.process_folders import LOCAL_PLAYGROUND, SDK_CACHE, new_process_folder, remove_stale_folders


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
        crashed = folder(tmp_path, f"{SDK_CACHE}{a_finished_process_id()}-abc123xy")
        alive = folder(tmp_path, f"{SDK_CACHE}{running.pid}-def456uv")
        mine = folder(tmp_path, f"{SDK_CACHE}{os.getpid()}-ghi789st")
        older_version = folder(tmp_path, f"{SDK_CACHE}q1w2e3r4")  # no process id in the name: cannot tell
        other_purpose = folder(tmp_path, f"{LOCAL_PLAYGROUND}{a_finished_process_id()}-abc123xy")

        removed = remove_stale_folders(SDK_CACHE, str(tmp_path))

        assert removed == [crashed.name] and not crashed.exists()
        assert all(f.exists() for f in (alive, mine, older_version, other_purpose))
    finally:
        running.kill()
        running.wait()


def test_a_new_folder_is_named_for_this_process_and_clears_the_stale_ones_first(tmp_path: Path) -> None:
    crashed = folder(tmp_path, f"{SDK_CACHE}{a_finished_process_id()}-abc123xy")

    made = Path(new_process_folder(SDK_CACHE, str(tmp_path)))

    assert made.parent == tmp_path and made.name.startswith(f"{SDK_CACHE}{os.getpid()}-") and made.is_dir()
    assert not crashed.exists()
    assert remove_stale_folders(SDK_CACHE, str(tmp_path)) == []  # this process's own folder stays
