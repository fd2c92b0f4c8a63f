"""Progress bars: drawn on a terminal, never into a pipe, and off with --progress-bar off."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.envs import ROOST_COMMAND, run_roost
from tests.support.server import IndexServer


def run_on_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run roost with stderr on a real pseudo-terminal; return what the terminal got."""
    leader, follower = os.openpty()
    try:
        done = subprocess.run(
            [*ROOST_COMMAND, *args],
            env={**env, "COLUMNS": "100", "TERM": "xterm"},
            stdout=subprocess.PIPE,
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
    return done.stdout + b"".join(chunks).decode(errors="replace")


def test_bars_on_a_terminal(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str], venv: Path
) -> None:
    shown = run_on_terminal(
        ["install", "--python", str(venv), "-i", index_server.url, "beta"], tmp_home
    )
    assert "Downloading" in shown
    assert "Installing" in shown
    assert "2/2" in shown
    assert "Successfully installed alpha-1.1 beta-1.0" in shown


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
    assert "Downloading" not in off
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
    assert "Downloading" not in piped.stderr + piped.stdout


def test_quiet_draws_no_bars_and_raw_prints_pip_progress_lines(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    from tests.support.envs import make_venv

    quiet = run_on_terminal(
        ["install", "-q", "--python", str(make_venv(tmp_path / "q")), "-i", index_server.url,
         "beta"],
        tmp_home,
    )  # fmt: skip
    assert "Downloading" not in quiet
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
