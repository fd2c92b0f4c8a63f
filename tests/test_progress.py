"""Progress bars: drawn on a terminal, never into a pipe, and off with --progress-bar off;
pip's file lines (``Downloading NAME (SIZE)``) are said either way, before the bar."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.envs import ROOST_COMMAND, run_roost
from tests.support.server import IndexServer

#: What roost's bars draw and its lines never hold: the count of files done.
BAR = "/2"


def says_file_line(shown: str, filename: str) -> bool:
    """Whether *shown* has pip's line for *filename* (fetched, or from the cache)."""
    return any(f"{verb} {filename} (" in shown for verb in ("Downloading", "Using cached"))


def run_on_terminal(args: list[str], env: dict[str, str], *, both: bool = False) -> str:
    """Run roost with stderr (and with *both*, stdout) on a real pseudo-terminal; return
    what the terminal got (after stdout, when that went to a pipe)."""
    leader, follower = os.openpty()
    try:
        done = subprocess.run(
            [*ROOST_COMMAND, *args],
            env={**env, "COLUMNS": "100", "TERM": "xterm"},
            stdout=follower if both else subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=120,
            check=True,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO once the terminal is drained and closed
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(leader)
    return (done.stdout or "") + b"".join(chunks).decode(errors="replace")


def test_bars_on_a_terminal(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str], venv: Path
) -> None:
    shown = run_on_terminal(
        ["install", "--python", str(venv), "-i", index_server.url, "beta"], tmp_home, both=True
    )
    assert "Installing" in shown
    assert "2/2" in shown
    assert "Successfully installed alpha-1.1 beta-1.0" in shown
    # pip's line for the first file comes before any bar, as pip's comes before its own.
    first = min(shown.index(f"{name}-py3-none-any.whl (") for name in ("alpha-1.1", "beta-1.0"))
    assert first < shown.index(BAR)
    assert says_file_line(shown, "alpha-1.1-py3-none-any.whl")
    assert says_file_line(shown, "beta-1.0-py3-none-any.whl")


def test_no_bars_when_off_or_piped(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    from tests.support.envs import make_venv

    first = make_venv(tmp_path / "a")
    off = run_on_terminal(
        [
            "install",
            "--progress-bar",
            "off",
            "--python",
            str(first),
            "-i",
            index_server.url,
            "beta",
        ],
        tmp_home,
    )
    assert BAR not in off
    assert says_file_line(off, "alpha-1.1-py3-none-any.whl")
    assert "Successfully installed" in off
    second = make_venv(tmp_path / "b")
    piped = run_roost(
        "install",
        "--python",
        str(second),
        "-i",
        index_server.url,
        "beta",
        env=tmp_home,
        check=True,
    )
    assert BAR not in piped.stderr + piped.stdout
    assert says_file_line(piped.stdout, "alpha-1.1-py3-none-any.whl")


def test_quiet_draws_no_bars_and_raw_prints_pip_progress_lines(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    from tests.support.envs import make_venv

    quiet = run_on_terminal(
        ["install", "-q", "--python", str(make_venv(tmp_path / "q")), "-i", index_server.url,
         "beta"],
        tmp_home,
    )  # fmt: skip
    assert "Downloading" not in quiet and BAR not in quiet  # neither lines nor bars
    raw = run_roost(
        "install", "--progress-bar", "raw", "--python", str(make_venv(tmp_path / "r")),
        "-i", index_server.url, "beta", env=tmp_home, check=True,
    )  # fmt: skip
    assert [line for line in raw.stdout.splitlines() if line.startswith("Progress ")] == [
        "Progress 1 of 2",
        "Progress 2 of 2",
    ]
    env = {**tmp_home, "PIP_PROGRESS_BAR": "raw"}
    by_variable = run_roost(
        "install", "--python", str(make_venv(tmp_path / "v")), "-i", index_server.url, "beta",
        env=env, check=True,
    )  # fmt: skip
    assert "Progress 2 of 2" in by_variable.stdout
