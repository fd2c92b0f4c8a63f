"""`roost uninstall`: by RECORD, all of it, nothing outside the environment, after asking."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.envs import clean_env, installed, make_venv, manifest, run_roost
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel


def roost(
    env: dict[str, str], *args: str, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return run_roost(*args, env=env, cwd=Path(env["HOME"]), input=input)


def install(env: dict[str, str], python: Path, url: str, *args: str) -> None:
    done = roost(env, "install", "--python", str(python), "-i", url, *args)
    assert done.returncode == 0, done.stderr


def site_packages(python: Path) -> Path:
    return next(python.parent.parent.glob("lib/python*/site-packages"))


def test_uninstall_leaves_the_venv_as_it_was(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    root = python.parent.parent
    before = manifest(root)
    install(tmp_home, python, index_server.url, "beta")
    # Running the script imports alpha, so the interpreter writes __pycache__ too.
    writes_bytecode = {k: v for k, v in tmp_home.items() if k != "PYTHONDONTWRITEBYTECODE"}
    ran = subprocess.run(
        [str(python.parent / "alpha")],
        capture_output=True,
        text=True,
        check=True,
        env=writes_bytecode,
    )
    assert ran.stdout.strip() == "alpha 1.1"
    assert (root / "share" / "alpha" / "alpha.txt").exists()
    assert list((site_packages(python) / "alpha" / "__pycache__").glob("*.pyc"))
    reqs = tmp_path / "reqs.txt"
    reqs.write_text("beta\n")
    done = roost(tmp_home, "uninstall", "--python", str(python), "-y", "alpha", "-r", str(reqs))
    assert done.returncode == 0, done.stderr
    assert "Successfully uninstalled alpha-1.1" in done.stdout
    assert "Successfully uninstalled beta-1.0" in done.stdout
    assert installed(python) == {}
    assert manifest(root) == before


def test_record_entries_outside_the_environment_are_left_alone(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    install(tmp_home, python, index_server.url, "alpha")
    relative = tmp_path / "outside.txt"
    absolute = tmp_path / "elsewhere" / "absolute.txt"
    absolute.parent.mkdir()
    for path in (relative, absolute):
        path.write_text("not alpha's\n")
    record = site_packages(python) / "alpha-2.0.dist-info" / "RECORD"
    with record.open("a") as handle:
        handle.write("../../../../outside.txt,,\n")
        handle.write(f"{absolute},,\n")
    done = roost(tmp_home, "uninstall", "--python", str(python), "-y", "alpha")
    assert done.returncode == 0, done.stderr
    assert relative.read_text() == "not alpha's\n"
    assert absolute.read_text() == "not alpha's\n"
    assert str(relative) in done.stderr
    assert str(absolute) in done.stderr
    assert "outside the environment" in done.stderr
    assert installed(python) == {}
    assert not (python.parent / "alpha").exists()


def test_confirmation(tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]) -> None:
    python = make_venv(tmp_path / "venv")
    install(tmp_home, python, index_server.url, "alpha")
    root = python.parent.parent
    before = manifest(root)
    args = ("uninstall", "--python", str(python), "alpha")

    declined = roost(tmp_home, *args, input="n\n")
    assert declined.returncode == 0, declined.stderr
    assert "Would remove:" in declined.stdout
    assert f"{site_packages(python) / 'alpha'}/*" in declined.stdout
    assert str(python.parent / "alpha") in declined.stdout
    assert "Proceed (Y/n)? " in declined.stdout
    assert "Successfully" not in declined.stdout
    assert manifest(root) == before

    closed = roost(tmp_home, *args, input="")
    assert closed.returncode != 0
    assert "-y" in closed.stderr
    assert manifest(root) == before

    accepted = roost(tmp_home, *args, input="y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "Successfully uninstalled alpha-2.0" in accepted.stdout
    assert installed(python) == {}


def test_not_installed_is_skipped(venv: Path, tmp_home: dict[str, str]) -> None:
    done = roost(tmp_home, "uninstall", "--python", str(venv), "-y", "nosuch")
    assert done.returncode == 0
    assert "Skipping nosuch as it is not installed." in done.stderr
    nothing = roost(tmp_home, "uninstall", "--python", str(venv))
    assert nothing.returncode != 0


def test_uninstall_from_a_system_python_is_guarded(tmp_path: Path) -> None:
    """A non-venv Python: uninstall is refused unless --system, like install."""
    from tests.test_user_install import copy_cpython, copy_env

    python = copy_cpython("3.12", tmp_path / "cpython")
    env = copy_env(python, clean_env(tmp_path / "home"))
    wheel = build_wheel(WheelSpec("guarded", "1.0"), tmp_path / "dist")
    run_roost("install", "--python", str(python), "--system", str(wheel), env=env, check=True)
    before = manifest(python.parent.parent)
    refused = run_roost("uninstall", "-y", "--python", str(python), "guarded", env=env)
    assert refused.returncode == 1
    assert "is not a virtual environment" in refused.stderr
    assert "--system" in refused.stderr
    assert manifest(python.parent.parent) == before
    done = run_roost(
        "uninstall", "-y", "--system", "--python", str(python), "guarded", env=env, check=True
    )
    assert "Successfully uninstalled guarded-1.0" in done.stdout
