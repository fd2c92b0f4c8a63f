"""roost and pip, given the same index and requirements, install the same files."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.envs import clean_env, installed, make_venv, run_pip, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer

# Files each installer writes about itself; everything else must match.
OWN_FILES = {"INSTALLER", "REQUESTED", "direct_url.json"}


def record_paths(python: Path) -> set[str]:
    """Every RECORD path of every distribution in the venv, normalised."""
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    paths: set[str] = set()
    for record in Path(site).glob("*.dist-info/RECORD"):
        for row in csv.reader(record.read_text().splitlines()):
            if not row or Path(row[0]).name in OWN_FILES or "__pycache__" in row[0]:
                continue
            paths.add(str((Path(site) / row[0]).resolve()))
    return paths


def pip_install(python: Path, home: Path, *args: str) -> None:
    run_pip(
        python,
        "install",
        "--no-compile",
        "--no-cache-dir",
        "--isolated",
        *args,
        env=clean_env(home),
    )


def compare(tmp_path: Path, index_url: str, requirements: list[str]) -> None:
    by_pip = make_venv(tmp_path / "same")
    pip_install(by_pip, tmp_path, "-i", index_url, *requirements)
    pip_files = record_paths(by_pip)
    pip_dists = installed(by_pip)
    # Move the pip venv aside and build the roost one at the same path, so absolute
    # paths (and script shebangs) compare directly.
    (tmp_path / "same").rename(tmp_path / "pip")
    by_roost = make_venv(tmp_path / "same")
    run_roost("install", "--python", str(by_roost), "-i", index_url, *requirements, check=True)
    assert installed(by_roost) == pip_dists
    assert record_paths(by_roost) == pip_files


def test_same_files_as_pip_for_the_corpus(tmp_path: Path, index_server: IndexServer) -> None:
    compare(tmp_path, index_server.url, ["scripted", "gamma[fast]", "beta", "epsilon"])


@pytest.mark.network
def test_same_files_as_pip_for_flask(tmp_path: Path) -> None:
    """Real flask wheels from the configured index, served on loopback."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--only-binary=:all:",
            "-d",
            str(wheels),
            "flask",
        ],
        check=True,
        capture_output=True,
    )
    index = PackageIndex(tmp_path / "index")
    for wheel in sorted(wheels.glob("*.whl")):
        index.add(wheel)
    index.write()
    with IndexServer(index) as server:
        compare(tmp_path, server.url, ["flask"])
    flask = tmp_path / "same" / "bin" / "flask"
    out = subprocess.run([str(flask), "--version"], capture_output=True, text=True, check=True)
    assert "Flask" in out.stdout
