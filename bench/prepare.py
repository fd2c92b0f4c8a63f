"""Fetch each requirement set's wheels once, with pip, from the configured index.

pip's own configuration on this machine says where packages come from; the benchmark
never names an index. A set is downloaded into ``.bench/wheels/<set>/`` for the
interpreter being benchmarked and marked complete with a stamp holding its
requirements, so re-runs skip the download.
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

STAMP = ".complete.json"


def _stamp_for(requirements: tuple[str, ...], python: str) -> dict[str, object]:
    return {"requirements": list(requirements), "python": python}


def download_set(name: str, dest: Path, python: str = sys.executable) -> list[Path]:
    """Make sure ``dest`` holds the wheels of set *name* for *python*; return them."""
    requirements = SETS[name]
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    stamp = dest / STAMP
    wanted = _stamp_for(requirements, version)
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return sorted(dest.glob("*.whl"))
    dest.mkdir(parents=True, exist_ok=True)
    print(f"bench: downloading set {name!r} ({' '.join(requirements)}) into {dest}", flush=True)
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "download",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-q",
            "-d",
            str(dest),
            *requirements,
        ],
        check=True,
    )
    stamp.write_text(json.dumps(wanted))
    return sorted(dest.glob("*.whl"))
