"""Fetch each benchmark set's files once, with pip, from the configured index.

pip's own configuration on this machine says where packages come from; the benchmark
never names an index. A set is downloaded into ``.bench/wheels/<set>/`` for the
interpreter being benchmarked and marked complete with a stamp holding what was asked
for, so re-runs skip the download.

The requirement sets are wheels only. The building set (:data:`BUILD_SET`) is the
sdist of a project that publishes no wheel, plus the wheels its build and the local
project's build need from the index: the backend (setuptools) and, for any tool that
still asks for it, ``wheel`` with its dependencies.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

#: The requirement sets of issue #5: name -> requirements.
SETS: dict[str, tuple[str, ...]] = {
    "small": ("requests",),
    "medium": ("flask", "sqlalchemy", "pydantic"),
    "large": ("jupyter",),
}

#: The building scenario (bench/building.py): a local project depending on BUILD_SDISTS.
BUILD_SET = "build"
#: Projects fetched as sdists only (``--no-binary=:all:``), without their dependencies.
BUILD_SDISTS: tuple[str, ...] = ("docopt",)
#: Wheels the builds install into their build environments, with their dependencies.
BUILD_WHEELS: tuple[str, ...] = ("setuptools", "wheel")
#: The lock scenario (bench/locking.py): installing the lock of LOCK_SET's requirements.
LOCK_SET = "lock"
LOCK_OF = "large"
#: Every set ``--sets`` accepts, in the order they run.
ALL_SETS: tuple[str, ...] = (*SETS, BUILD_SET, LOCK_SET)

STAMP = ".complete.json"
#: What a set folder may hold: wheels, and the sdists of the building set.
FILE_PATTERNS = ("*.whl", "*.tar.gz", "*.zip")


def _python_version(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _files(dest: Path) -> list[Path]:
    return sorted(path for pattern in FILE_PATTERNS for path in dest.glob(pattern))


def _pip_download(python: str, dest: Path, *args: str) -> None:
    command = [python, "-m", "pip", "download", "--disable-pip-version-check", "-q"]
    subprocess.run([*command, "-d", str(dest), *args], check=True)


def download_set(name: str, dest: Path, python: str = sys.executable) -> list[Path]:
    """Make sure ``dest`` holds the files of set *name* for *python*; return them."""
    build = name == BUILD_SET
    requirements = (
        BUILD_SDISTS + BUILD_WHEELS if build else SETS[LOCK_OF if name == LOCK_SET else name]
    )
    stamp = dest / STAMP
    wanted: dict[str, object] = {
        "requirements": list(requirements),
        "python": _python_version(python),
    }
    if build:
        wanted["sdists"] = list(BUILD_SDISTS)
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return _files(dest)
    dest.mkdir(parents=True, exist_ok=True)
    print(f"bench: downloading set {name!r} ({' '.join(requirements)}) into {dest}", flush=True)
    if build:
        # The sdists alone: their dependencies would come as wheels and skip the build.
        _pip_download(python, dest, "--no-binary=:all:", "--no-deps", *BUILD_SDISTS)
        _pip_download(python, dest, "--only-binary=:all:", *BUILD_WHEELS)
    else:
        _pip_download(python, dest, "--only-binary=:all:", *requirements)
    stamp.write_text(json.dumps(wanted))
    return _files(dest)
