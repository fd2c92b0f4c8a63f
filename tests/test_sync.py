"""``roost sync``: the environment becomes exactly a lock's (or requirements files')
set, installs, downgrades and removals in one transaction that rolls back whole;
``--dry-run``'s exit codes; pip's protected set kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.envs import (
    installed,
    make_venv,
    manifest,
    need_debian,
    plugin_env,
    run_roost,
)
from tests.support.fetched import fetched_wheel
from tests.support.server import IndexServer
from tests.test_lock_install import lock_index, wheel_package, write_lock

__all__ = ["lock_index"]  # the module-scoped index fixture, shared

FAULT = """
from roost import hookimpl

@hookimpl
def roost_install_event(event):
    if event.kind == "install" and event.name == "delta":
        raise RuntimeError("injected failure while installing delta")
"""


def sync(
    python: Path, env: dict[str, str], *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return run_roost("sync", "--python", str(python), *args, env=env, check=check)


def start(tmp_path: Path, server: IndexServer, env: dict[str, str]) -> Path:
    """A venv holding alpha 2.0, beta 1.0 and gamma 1.0 (and the venv's pip)."""
    python = make_venv(tmp_path / "venv")
    pip = fetched_wheel("pip", f"{sys.version_info.major}.{sys.version_info.minor}")
    run_roost("install", "--python", str(python), str(pip), env=env, check=True)
    packages = [
        wheel_package(server, name, v)
        for name, v in [("alpha", "2.0"), ("beta", "1.0"), ("gamma", "1.0")]
    ]
    run_roost(
        "install", "--python", str(python), "-r",
        str(write_lock(tmp_path, packages, "pylock.start.toml")), env=env, check=True,
    )  # fmt: skip
    return python


def target_lock(tmp_path: Path, server: IndexServer) -> Path:
    """alpha downgraded to 1.0, beta kept, gamma removed, delta added."""
    packages = [
        wheel_package(server, name, v)
        for name, v in [("alpha", "1.0"), ("beta", "1.0"), ("delta", "1.0")]
    ]
    return write_lock(tmp_path, packages)


def test_sync_removes_downgrades_and_adds_in_one_run(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    python = start(tmp_path, lock_index, env)
    pip_before = installed(python, env).get("pip")
    assert pip_before is not None
    lock = target_lock(tmp_path, lock_index)
    dry = sync(python, env, "--dry-run", str(lock), check=False)
    assert dry.returncode == 1, dry.stderr
    assert "Would uninstall gamma-1.0" in dry.stdout
    assert "Would install" in dry.stdout and "alpha-1.0" in dry.stdout
    result = sync(python, env, str(lock))
    assert "Successfully uninstalled gamma-1.0" in result.stdout
    got = installed(python, env)
    assert got["alpha"] == "1.0" and got["beta"] == "1.0" and got["delta"] == "1.0"
    assert "gamma" not in got
    # pip is not in the lock, and stays: pip-sync's protected set.
    assert got["pip"] == pip_before
    again = sync(python, env, "--dry-run", str(lock), check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Would" not in again.stdout
    assert "Nothing to change" in sync(python, env, str(lock)).stdout


def test_sync_rolls_back_everything_on_failure(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    python = start(tmp_path, lock_index, env)
    root = python.parent.parent
    before = manifest(root / "lib")
    faulty = plugin_env(tmp_path, "fault_plugin", FAULT)
    lock = target_lock(tmp_path, lock_index)
    result = run_roost(
        "-p", "fault_plugin", "sync", "--python", str(python), str(lock), env=faulty, check=False
    )
    assert result.returncode != 0
    assert "injected failure while installing delta" in result.stderr
    assert "every change was undone" in result.stderr
    # gamma's removal and alpha's downgrade were undone with it.
    assert manifest(root / "lib") == before
    got = installed(python, env)
    assert got["alpha"] == "2.0" and got["gamma"] == "1.0" and "delta" not in got


def test_sync_requirements_file_installs_exactly_its_lines(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    python = start(tmp_path, lock_index, env)
    requirements = tmp_path / "requirements.txt"
    # beta requires alpha: as uv pip sync, nothing the file does not list is added,
    # and alpha (installed) is removed.
    requirements.write_text("beta==1.0\ndelta==1.0\n")
    sync(python, env, "-i", lock_index.url, str(requirements))
    got = installed(python, env)
    assert got.get("beta") == "1.0" and got.get("delta") == "1.0"
    assert "alpha" not in got and "gamma" not in got
    assert "pip" in got


def test_sync_refuses_a_lock_with_other_files(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    lock = target_lock(tmp_path, lock_index)
    extra = tmp_path / "requirements.txt"
    extra.write_text("delta\n")
    result = sync(python, env, str(lock), str(extra), check=False)
    assert result.returncode == 2 and "one lock file alone" in result.stderr


def test_sync_into_a_target_folder_and_the_system_guard(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    """``--target`` (install's location options reach sync): what the folder holds
    becomes the set; a system Python is refused as install refuses it."""
    folder = tmp_path / "layer"
    python = make_venv(tmp_path / "venv")
    first = write_lock(tmp_path, [wheel_package(lock_index, "gamma", "1.0")], "pylock.a.toml")
    sync(python, env, "--target", str(folder), str(first))
    assert sorted(p.name for p in folder.glob("*.dist-info")) == ["gamma-1.0.dist-info"]
    second = target_lock(tmp_path, lock_index)
    sync(python, env, "--target", str(folder), str(second))
    assert sorted(p.name for p in folder.glob("*.dist-info")) == [
        "alpha-1.0.dist-info", "beta-1.0.dist-info", "delta-1.0.dist-info",
    ]  # fmt: skip
    # The venv itself was never the target.
    assert installed(python, env) == {}


def test_sync_refuses_a_system_python_as_install_does(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    system = need_debian()
    second = target_lock(tmp_path, lock_index)
    before = manifest(Path("/usr/lib/python3/dist-packages"))
    refused = sync(system, env, str(second), check=False)
    assert refused.returncode == 1
    assert "externally managed" in refused.stderr
    assert "--break-system-packages" in refused.stderr
    assert manifest(Path("/usr/lib/python3/dist-packages")) == before
