"""The uv the lock-file interop tests hand roost's locks to: uv 0.13.9, found once.

``ROOST_REFERENCE_UV`` (a uv executable), else the binary inside the uv wheel nox fetches
with the other test wheels, taken out into a folder of the test session. A test that
needs it and finds none fails, saying how to provide it.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.support.fetched import wheels_dir

#: The uv release the interop tests run.
VERSION = "0.13.9"


def find(scratch: Path) -> Path:
    """The uv executable: named by ``ROOST_REFERENCE_UV``, or unpacked into *scratch*."""
    named = os.environ.get("ROOST_REFERENCE_UV")
    if named:
        return Path(named)
    wheels = sorted(wheels_dir().glob(f"uv-{VERSION}-*.whl"))
    if not wheels:
        pytest.fail(
            f"no uv {VERSION} wheel in {wheels_dir()}: run the tests through `nox -s tests` "
            "(it fetches it), or point ROOST_REFERENCE_UV at a uv executable."
        )
    binary = scratch / "uv"
    if not binary.exists():
        member = f"uv-{VERSION}.data/scripts/uv"
        with zipfile.ZipFile(wheels[0]) as archive, archive.open(member) as source:
            partial = scratch / "uv.partial"
            with partial.open("wb") as out:
                shutil.copyfileobj(source, out)
            partial.chmod(partial.stat().st_mode | stat.S_IXUSR)
            partial.rename(binary)
    return binary


def run_uv(uv: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """uv with nothing of the machine's configuration, caches or network."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("UV_", "PIP_", "ROOST_", "VIRTUAL_ENV"))
    }
    env.update({"UV_NO_CONFIG": "1", "UV_OFFLINE": "0", "UV_PYTHON_DOWNLOADS": "never"})
    return subprocess.run(
        [str(uv), *args], capture_output=True, text=True, check=False, timeout=300, cwd=cwd,
        env=env,
    )  # fmt: skip
