"""pip and uv read roost's locks: ``roost lock`` writes a pylock.toml, then roost, pip
26.3 (``pip install -r pylock.toml``) and uv 0.13.9 (``uv pip sync``, ``uv pip install
-r``) each fill a fresh venv from it, over a loopback index, and end with the same
distributions at the same versions as the lock names.

The lock holds index wheels, an index sdist that must be built (an in-tree backend, so
no build dependency is fetched), a dependency only some environments need (a marker
that is false here) and an extra.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.pylock import Pylock

from tests.support import reference_pip, reference_uv
from tests.support.envs import clean_env, make_venv, run_roost
from tests.support.index import PackageIndex
from tests.support.projects import in_tree_project, make_sdist
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

#: What the lock must hold, and every tool install, for this interpreter.
EXPECTED = {
    "lk-app": "1.0",
    "lk-dep": "1.5",
    "lk-fast": "2.0",
    "lksrc": "1.0",
}


@pytest.fixture(scope="module")
def lock_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    root = tmp_path_factory.mktemp("lock-interop")
    index = PackageIndex(root / "index")
    index.add(
        WheelSpec(
            "lk-app",
            "1.0",
            requires=[
                "lk-dep>=1,<2",
                "lksrc",
                'lk-never; python_version < "3"',
                'lk-fast; extra == "speed"',
            ],
            extras=["speed"],
        )
    )
    for version in ("1.0", "1.5", "2.0"):
        index.add(WheelSpec("lk-dep", version))
    index.add(WheelSpec("lk-fast", "2.0"))
    index.add(WheelSpec("lk-never", "1.0"))
    project = in_tree_project(root / "lksrc", "lksrc", "1.0")
    index.add_file(make_sdist(project, root / "sdists", "lksrc", "1.0"))
    with IndexServer(index) as server:
        yield server


def site_versions(python: Path) -> dict[str, str]:
    """``{name: version}`` of every distribution in *python*'s venv, as roost lists it."""
    listed = run_roost("freeze", "--python", str(python), "--all", check=True).stdout
    found = {}
    for line in listed.splitlines():
        name, _, version = line.partition("==")
        assert version, f"not an index install: {line}"
        found[name.lower()] = version
    return found


@pytest.fixture(scope="module")
def lock(lock_index: IndexServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("lock")
    python = make_venv(work / "venv")
    path = work / "pylock.toml"
    run_roost(
        "lock", "--python", str(python), "-i", lock_index.url, "-o", str(path),
        "lk-app[speed]", cwd=work, check=True,
    )  # fmt: skip
    return path


def test_the_lock_names_what_every_tool_installs(lock: Path) -> None:
    with lock.open("rb") as file:
        data = tomllib.load(file)
    Pylock.from_dict(data)
    locked = {p["name"]: p["version"] for p in data["packages"] if "marker" not in p}
    assert locked == EXPECTED
    never = [p for p in data["packages"] if p["name"] == "lk-never"]
    assert never == [], "a dependency no locked environment needs is not locked"
    src = next(p for p in data["packages"] if p["name"] == "lksrc")
    assert src["sdist"]["hashes"]["sha256"] and src["sdist"]["size"] > 0


def test_roost_sync_installs_the_lock(lock: Path, tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv")
    run_roost("sync", "--python", str(python), str(lock), check=True, cwd=tmp_path)
    assert site_versions(python) == EXPECTED


def test_pip_installs_roosts_lock(lock: Path, lock_index: IndexServer, tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv")
    (tmp_path / "home").mkdir()
    done = subprocess.run(
        [*reference_pip.command(python), "install", "--isolated", "--no-cache-dir",
         "--disable-pip-version-check", "-i", lock_index.url, "-r", str(lock)],
        capture_output=True, text=True, check=False, timeout=300,
        env=clean_env(tmp_path / "home"), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert site_versions(python) == EXPECTED


@pytest.mark.parametrize("how", ["sync", "install"])
def test_uv_installs_roosts_lock(
    lock: Path, lock_index: IndexServer, tmp_path: Path, how: str
) -> None:
    uv = reference_uv.find(tmp_path)
    python = make_venv(tmp_path / "venv")
    args = [str(lock)] if how == "sync" else ["-r", str(lock)]
    done = reference_uv.run_uv(
        uv, "pip", how, "--python", str(python), "--cache-dir", str(tmp_path / "uv-cache"),
        "--index-url", lock_index.url, *args, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert site_versions(python) == EXPECTED
