"""roost installing from VCS URLs into real venvs, and reading back what it recorded.

The module-scoped ``build_index`` (setuptools from a loopback index) and the ``home``
fixture are imported by each VCS test module, so pytest finds them there; the helpers
run ``roost install``/``freeze`` and read ``direct_url.json`` and the installed module.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.envs import clean_env, run_roost
from tests.support.projects import backend_index
from tests.support.server import IndexServer
from tests.support.vcs_repos import TIMEOUT


@pytest.fixture(scope="module")
def build_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """setuptools, the one backend the projects here build with."""
    with IndexServer(
        backend_index(tmp_path_factory.mktemp("vcs-index"), ("setuptools",))
    ) as server:
        yield server


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """One clean HOME for a test's runs, so they share roost's cache."""
    (tmp_path / "home").mkdir()
    return clean_env(tmp_path / "home")


def install(
    python: Path, server: IndexServer, *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return run_roost("install", "--python", str(python), "-i", server.url, *args, env=env, cwd=cwd)


def site_packages(python: Path) -> Path:
    return next((python.parent.parent / "lib").glob("python3*/site-packages"))


def direct_url(python: Path, dist: str) -> dict[str, object]:
    path = next(site_packages(python).glob(f"{dist}-*.dist-info")) / "direct_url.json"
    found: dict[str, object] = json.loads(path.read_text())
    return found


def run(python: Path, code: str) -> str:
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=True, timeout=TIMEOUT
    )
    return done.stdout.strip()


def greeting(python: Path) -> str:
    return run(python, "import vcsapp; print(vcsapp.GREETING)")


def freeze(python: Path, env: dict[str, str]) -> list[str]:
    return run_roost("freeze", "--python", str(python), env=env, check=True).stdout.splitlines()
