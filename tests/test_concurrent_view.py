"""Concurrent installs into one environment act on what is installed under the lock.

Run B plans while run A installs: B pauses (a test plugin, at its first download
event, before it takes the environment's lock) until A has finished. B must then see
A's result and plan again, leaving one distribution per project, never two.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.envs import ROOST_COMMAND, clean_env, installed, make_venv, plugin_env
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec

PAUSE_PLUGIN = """
import os, time
from pathlib import Path
from roost import hookimpl

@hookimpl
def roost_install_event(event):
    marker = Path(os.environ["PAUSE_MARKER"])
    if event.kind != "download" or marker.exists():
        return
    marker.write_text(str(os.getpid()))
    go = Path(os.environ["PAUSE_UNTIL"])
    deadline = time.monotonic() + 120
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
"""


@pytest.fixture(scope="module")
def dep_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    index = PackageIndex(tmp_path_factory.mktemp("dep-index"))
    index.add(WheelSpec("dep", "1.0", files={"dep/__init__.py": "VERSION = '1.0'\n"}))
    index.add(WheelSpec("dep", "2.0", files={"dep/__init__.py": "VERSION = '2.0'\n"}))
    index.add(WheelSpec("wantsold", "1.0", requires=["dep<2"]))
    index.write()
    with IndexServer(index) as server:
        yield server


def test_a_run_that_planned_before_another_installed_plans_again(
    tmp_path: Path, dep_index: IndexServer
) -> None:
    python = make_venv(tmp_path / "venv")
    marker, go = tmp_path / "b-paused", tmp_path / "go"
    env_b = plugin_env(
        tmp_path, "pause_plugin", PAUSE_PLUGIN, PAUSE_MARKER=str(marker), PAUSE_UNTIL=str(go)
    )
    home = tmp_path / "home"
    install = ["install", "--python", str(python), "-i", dep_index.url]
    run_b = subprocess.Popen(
        [*ROOST_COMMAND, "-v", "-p", "pause_plugin", *install, "wantsold"],
        env=env_b,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(1200):
            if marker.exists() or run_b.poll() is not None:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        assert marker.exists(), run_b.communicate(timeout=60)
        # B has resolved dep 1.0 against an empty environment; A now installs dep 2.0.
        run_a = subprocess.run(
            [*ROOST_COMMAND, *install, "dep"],
            env=clean_env(home),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert run_a.returncode == 0, run_a.stderr
        assert installed(python) == {"dep": "2.0"}
        go.touch()
        out, err = run_b.communicate(timeout=300)
    finally:
        if run_b.poll() is None:
            run_b.kill()
    assert run_b.returncode == 0, err
    assert "resolving again" in err
    assert installed(python) == {"dep": "1.0", "wantsold": "1.0"}
    site = next((tmp_path / "venv" / "lib").glob("python*/site-packages"))
    assert sorted(p.name for p in site.glob("dep-*.dist-info")) == ["dep-1.0.dist-info"]
    code = subprocess.run(
        [str(python), "-c", "import dep; print(dep.VERSION)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert code.stdout.strip() == "1.0"
    assert "Successfully installed" in out
