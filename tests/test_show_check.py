"""`roost show` and `roost check` against pip's, on real venvs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.envs import make_venv, need_pyenv, run_pip, run_roost
from tests.support.server import IndexServer


def pip(python: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_pip(python, *args, env=env, check=False)


def roost(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_roost(*args, env=env, cwd=Path(env["HOME"]))


def test_show_matches_pip(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    url = index_server.url
    assert roost(tmp_home, "install", "--python", str(python), "-i", url, "beta").returncode == 0
    ours = roost(tmp_home, "show", "--python", str(python), "-f", "beta", "Alpha")
    theirs = pip(python, tmp_home, "show", "-f", "beta", "Alpha")
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout == theirs.stdout
    blocks = ours.stdout.split("---\n")
    assert blocks[0].startswith("Name: beta\nVersion: 1.0\n")
    assert "Requires: alpha\n" in blocks[0]
    assert "Required-by: beta\n" in blocks[1]
    assert "  alpha/__init__.py\n" in blocks[1]
    assert "Files:\n" in blocks[1]

    some = roost(tmp_home, "show", "--python", str(python), "alpha", "nosuch")
    assert some.returncode == 0
    assert "Package(s) not found: nosuch" in some.stderr
    none = roost(tmp_home, "show", "--python", str(python), "nosuch", "other")
    assert none.returncode == 1
    assert none.stdout == ""
    assert "Package(s) not found: nosuch, other" in none.stderr


def test_check_reports_missing_then_conflict_then_nothing(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    url = index_server.url

    def install(*args: str) -> None:
        done = roost(tmp_home, "install", "--python", str(python), "-i", url, *args)
        assert done.returncode == 0, done.stderr

    install("--no-deps", "beta")
    missing = roost(tmp_home, "check", "--python", str(python))
    assert missing.returncode == 1
    assert missing.stdout == "beta 1.0 requires alpha, which is not installed.\n"
    theirs = pip(python, tmp_home, "check")
    assert (theirs.returncode, theirs.stdout) == (1, missing.stdout)

    install("alpha==2.0")
    conflict = roost(tmp_home, "check", "--python", str(python))
    assert conflict.returncode == 1
    assert conflict.stdout == ("beta 1.0 has requirement alpha<2,>=1.0, but you have alpha 2.0.\n")
    theirs = pip(python, tmp_home, "check")
    assert (theirs.returncode, theirs.stdout) == (1, conflict.stdout)

    install("alpha==1.1")
    fine = roost(tmp_home, "check", "--python", str(python))
    assert (fine.returncode, fine.stdout) == (0, "No broken requirements found.\n")


@pytest.mark.parametrize(("version", "missing"), [("3.10", "delta"), ("3.12", "zeta")])
def test_check_evaluates_markers_on_the_target(
    tmp_path: Path,
    index_server: IndexServer,
    tmp_home: dict[str, str],
    version: str,
    missing: str,
) -> None:
    python = make_venv(tmp_path / "venv", need_pyenv(version))
    done = roost(
        tmp_home,
        "install",
        "--python",
        str(python),
        "-i",
        index_server.url,
        "--no-deps",
        "epsilon",
    )
    assert done.returncode == 0, done.stderr
    result = roost(tmp_home, "check", "--python", str(python))
    assert result.returncode == 1
    assert result.stdout == f"epsilon 1.0 requires {missing}, which is not installed.\n"
