"""The package as a user installs it: the wheel holds the product alone (bot, oauth, store), and its
`python -m bot --local` says in one line that the playground needs a clone, instead of a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

# What a fresh clone would not have: a stale build/ folder would even slip old packages into the wheel.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "*.db", "*.log"
)

# Runs `python -m bot` from the unpacked wheel with the checkout out of reach: the venv's editable install
# finds the checkout through a finder on sys.meta_path (and older set-ups through a path entry), so both go.
AS_INSTALLED = """
import runpy, sys
from pathlib import Path
unpacked, args = sys.argv[1], sys.argv[2:]
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
sys.path[:] = [p for p in sys.path if p == unpacked or not Path(p or ".", "bot", "__main__.py").exists()]
import bot
assert bot.__file__.startswith(unpacked), f"bot came from {bot.__file__}, not the wheel"
sys.argv = ["python -m bot", *args]
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip wheel .` builds from a clean copy of this checkout."""
    source = tmp_path_factory.mktemp("clone") / "zoho-slack-bot"
    shutil.copytree(ROOT, source, ignore=NOT_IN_A_CLONE)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(dist)],
        cwd=source,
        check=True,
        timeout=300,
    )
    (built,) = dist.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def unpacked(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def run_installed(unpacked: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PYTHONPATH"] = str(unpacked)
    return subprocess.run(
        [sys.executable, "-c", AS_INSTALLED, str(unpacked), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_wheel_holds_only_the_product(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
    packages = {top for top in tops if not top.endswith(".dist-info")}
    assert packages == {"bot", "oauth", "store"}


def test_local_mode_from_the_wheel_says_to_clone_the_repository(unpacked: Path, tmp_path: Path):
    result = run_installed(unpacked, tmp_path, "--local")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: --local needs a source checkout of zoho-slack-bot")
    assert "clone the repository and run python3 dev.py local" in line


def test_a_broken_playground_is_reported_as_the_error_it_is(unpacked: Path, tmp_path: Path):
    playground = tmp_path / "playground"
    playground.mkdir()
    (playground / "__init__.py").write_text("")
    (playground / "local.py").write_text("import a_module_nobody_installed\n")

    result = run_installed(unpacked, tmp_path, "--local")

    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "No module named 'a_module_nobody_installed'" in result.stderr
    assert "needs a source checkout" not in result.stderr
