"""Where ``roost install`` writes, through the CLI: the system guard row by row,
``--target``/``--prefix``/``--root`` against pip, and ``--python`` for each CPython.

Refusals assert the exit status, the message and that nothing was written
(:func:`manifest` before and after). Installs that write into a non-venv Python use a
temporary copy of it (:func:`copy_cpython`); real interpreters are only ever read.
"""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest

from roost.plugins.system_guard import USER_SITE_DISABLED, VENV_USER_REFUSED
from tests.support.envs import (
    installed,
    make_venv,
    manifest,
    need_debian,
    need_pyenv,
)
from tests.support.envs import run_roost as _run_roost
from tests.support.server import IndexServer
from tests.test_user_install import copy_cpython, copy_env, purelib

VERSIONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]


def roost(
    env: dict[str, str], python: Path, *args: str, index: IndexServer | None = None
) -> subprocess.CompletedProcess[str]:
    """``roost install --python PYTHON [-i INDEX] ARGS`` (``-p`` options go first)."""
    plugin = [a for a in args if a.startswith("-p")]
    rest = [a for a in args if not a.startswith("-p")]
    index_args = ["-i", index.url] if index is not None else []
    return _run_roost(*plugin, "install", "--python", str(python), *index_args, *rest, env=env)


def assert_refused(result: subprocess.CompletedProcess[str], first_line: str) -> list[str]:
    """Exit status 1, ``ERROR: <first_line>``, no traceback; returns the remedy lines."""
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"ERROR: {first_line}", result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return [line.strip()[2:] for line in lines[1:] if line.startswith("  - ")]


def snapshot(*folders: Path) -> dict[str, dict[str, tuple[int, str]]]:
    return {str(folder): manifest(folder) for folder in folders if folder.exists()}


# -- the guard, row by row --------------------------------------------------------


def test_not_a_venv_refused_with_remedies(env: dict[str, str], index_server: IndexServer) -> None:
    python = need_pyenv("3.12")
    home = Path(env["HOME"])
    before = snapshot(purelib(python, env), home / ".local")
    result = roost(env, python, "alpha", index=index_server)
    remedies = assert_refused(
        result,
        f"{python} is not a virtual environment; roost does not install into a system "
        "Python unless asked to.",
    )
    assert len(remedies) == 3
    assert "--user" in remedies[0]
    assert f"{python} -m venv .venv" in remedies[1]
    assert "--system" in remedies[2]
    assert snapshot(purelib(python, env), home / ".local") == before


def _debian_marker_text() -> str:
    parser = configparser.ConfigParser(interpolation=None)
    found = parser.read(Path("/usr/lib") / "python3.11" / "EXTERNALLY-MANAGED")
    if not found:
        pytest.skip("Debian's python3 has no EXTERNALLY-MANAGED marker here")
    return parser["externally-managed"]["Error"]


@pytest.mark.parametrize("flag", ["--user", "--system"])
def test_externally_managed_refused_with_the_distributors_message(
    flag: str, env: dict[str, str], index_server: IndexServer
) -> None:
    python = need_debian()
    marker = _debian_marker_text()
    home = Path(env["HOME"])
    before = snapshot(home / ".local", Path("/usr/local/lib/python3.11/dist-packages"))
    result = roost(env, python, flag, "alpha", index=index_server)
    where = "the user site of " if flag == "--user" else ""
    remedies = assert_refused(
        result,
        f"{where}{python} is externally managed (/usr/lib/python3.11/EXTERNALLY-MANAGED):",
    )
    # Debian's own words, however the INI continuation lines were indented.
    assert " ".join(marker.split()) in " ".join(result.stderr.split())
    assert any("--break-system-packages" in remedy for remedy in remedies)
    assert snapshot(home / ".local", Path("/usr/local/lib/python3.11/dist-packages")) == before


@pytest.mark.parametrize(
    "how", ["--break-system-packages", "ROOST_BREAK_SYSTEM_PACKAGES", "PIP_BREAK_SYSTEM_PACKAGES"]
)
def test_externally_managed_user_install_when_told_to_break(
    how: str, env: dict[str, str], index_server: IndexServer
) -> None:
    python = need_debian()
    args = ["--user", "alpha==1.1"]
    if how.startswith("--"):
        args.insert(0, how)
    else:
        env[how] = "1"
    result = roost(env, python, "--no-warn-script-location", *args, index=index_server)
    assert result.returncode == 0, result.stderr
    site = Path(env["HOME"]) / ".local" / "lib" / "python3.11" / "site-packages"
    assert (site / "alpha-1.1.dist-info").is_dir()
    assert installed(python, env)["alpha"] == "1.1"


def test_user_in_isolated_venv_refused(
    tmp_path: Path, env: dict[str, str], index_server: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", need_pyenv("3.12"))
    before = snapshot(tmp_path / "venv", Path(env["HOME"]) / ".local")
    remedies = assert_refused(roost(env, venv, "--user", "alpha"), VENV_USER_REFUSED)
    assert VENV_USER_REFUSED == (
        "Can not perform a '--user' install. User site-packages are not visible in this "
        "virtualenv."
    )
    assert any("--system-site-packages" in remedy for remedy in remedies)
    assert snapshot(tmp_path / "venv", Path(env["HOME"]) / ".local") == before


def test_user_in_system_site_venv_installs_into_the_user_base(
    tmp_path: Path, env: dict[str, str], index_server: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", need_pyenv("3.12"), system_site_packages=True)
    before = manifest(tmp_path / "venv")
    result = roost(env, venv, "--user", "beta", index=index_server)
    assert result.returncode == 0, result.stderr
    site = Path(env["HOME"]) / ".local" / "lib" / "python3.12" / "site-packages"
    assert sorted(p.name for p in site.glob("*.dist-info")) == [
        "alpha-1.1.dist-info",
        "beta-1.0.dist-info",
    ]
    assert manifest(tmp_path / "venv") == before
    assert installed(venv, env).items() >= {"alpha": "1.1", "beta": "1.0"}.items()


@pytest.mark.parametrize("option", ["--target", "--prefix"])
def test_user_with_explicit_location_refused(
    option: str, tmp_path: Path, env: dict[str, str]
) -> None:
    python = need_pyenv("3.12")
    before = snapshot(Path(env["HOME"]) / ".local")
    result = roost(env, python, "--user", option, str(tmp_path / "x"), "alpha")
    remedies = assert_refused(
        result, f"--user cannot be combined with {option}: they name different install locations."
    )
    assert remedies == [
        f"drop --user to install into {option}",
        f"drop {option} to install into the user site",
    ]
    assert not (tmp_path / "x").exists()
    assert snapshot(Path(env["HOME"]) / ".local") == before


def test_user_site_disabled_refused(env: dict[str, str]) -> None:
    python = need_pyenv("3.12")
    env["PYTHONNOUSERSITE"] = "1"
    before = snapshot(Path(env["HOME"]) / ".local", purelib(python, env))
    result = roost(env, python, "--user", "alpha")
    assert result.returncode == 1
    assert result.stderr.startswith(f"ERROR: {USER_SITE_DISABLED} ({python} runs with")
    assert USER_SITE_DISABLED == "User site-packages are disabled for this Python."
    assert snapshot(Path(env["HOME"]) / ".local", purelib(python, env)) == before


@pytest.mark.parametrize("how", ["--system", "ROOST_SYSTEM"])
def test_system_installs_into_a_python_without_marker(
    how: str, tmp_path: Path, env: dict[str, str], index_server: IndexServer
) -> None:
    """The 'not a venv, no marker, --system' row, on a temporary copy of CPython 3.12."""
    python = copy_cpython("3.12", tmp_path / "cpython")
    env = copy_env(python, env)
    args = ["alpha==1.0"]
    if how == "ROOST_SYSTEM":
        env[how] = "1"
    else:
        args.insert(0, how)
    result = roost(env, python, "--no-warn-script-location", *args, index=index_server)
    assert result.returncode == 0, result.stderr
    assert (purelib(python, env) / "alpha-1.0.dist-info").is_dir()
    assert (tmp_path / "cpython" / "bin" / "alpha").read_text().startswith(f"#!{python}\n")
    assert not (Path(env["HOME"]) / ".local").exists()


def test_guard_cannot_be_blocked(tmp_path: Path, env: dict[str, str]) -> None:
    venv = make_venv(tmp_path / "venv", need_pyenv("3.12"))
    before = manifest(tmp_path / "venv")
    result = roost(env, venv, "-pno:system_guard", "alpha")
    assert_refused(
        result,
        "the plugin 'system_guard' cannot be blocked: it protects system Pythons. Relax it "
        "with its own flags instead (--user, --system, --break-system-packages).",
    )
    assert manifest(tmp_path / "venv") == before


# -- explicit locations: the same files as pip ---------------------------------


def relative_files(root: Path) -> set[str]:
    """Files under *root*, relative, without bytecode (both run with --no-compile)."""
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def pip(env: dict[str, str], python: Path, index: IndexServer, *args: str) -> None:
    """The host's pip acting on *python*, isolated from every configuration file."""
    command = [sys.executable, "-m", "pip", "--python", str(python), "--isolated", "install"]
    command += ["--no-compile", "--no-cache-dir", "--disable-pip-version-check"]
    result = subprocess.run(
        [*command, "-i", index.url, *args], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("option", ["--target", "--prefix", "--root"])
def test_explicit_location_on_a_system_python_matches_pip(
    option: str, tmp_path: Path, env: dict[str, str], index_server: IndexServer
) -> None:
    """Accepted on a non-venv Python (the real pyenv 3.12, left as it was), pip's layout."""
    python = need_pyenv("3.12")
    real_site = purelib(python, env)
    before = manifest(real_site)
    wanted = ["scripted", "beta", "epsilon"]
    pip(env, python, index_server, option, str(tmp_path / "pip"), *wanted)
    result = roost(env, python, option, str(tmp_path / "roost"), *wanted, index=index_server)
    assert result.returncode == 0, result.stderr
    by_pip = relative_files(tmp_path / "pip")
    assert any(name.endswith("scripted.h") for name in by_pip)
    assert relative_files(tmp_path / "roost") == by_pip
    assert manifest(real_site) == before


def test_upgrade_with_target_replaces_what_is_there(
    tmp_path: Path, env: dict[str, str], index_server: IndexServer
) -> None:
    """``-U --target`` leaves exactly a fresh install of the new version.

    (pip replaces the package folder but leaves ``alpha-1.0.dist-info`` behind, so the
    reference is pip's fresh install of alpha 2.0.)
    """
    python = need_pyenv("3.12")
    folder = str(tmp_path / "roost")
    first = roost(env, python, "--target", folder, "alpha==1.0", index=index_server)
    assert first.returncode == 0, first.stderr
    assert "alpha-1.0.dist-info/METADATA" in relative_files(tmp_path / "roost")
    again = roost(env, python, "--target", folder, "-U", "alpha", index=index_server)
    assert again.returncode == 0, again.stderr
    assert "Successfully installed alpha-2.0" in again.stdout
    pip(env, python, index_server, "--target", str(tmp_path / "pip"), "alpha==2.0")
    assert relative_files(tmp_path / "roost") == relative_files(tmp_path / "pip")
    ran = subprocess.run(
        [str(python), "-c", "import alpha; alpha.main()"],
        env=dict(env, PYTHONPATH=str(tmp_path / "roost")),
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.stdout == "alpha 2.0\n", ran.stderr


# -- --python: markers and Requires-Python of each target -------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_python_option_follows_each_target(
    version: str, tmp_path: Path, env: dict[str, str], index_server: IndexServer
) -> None:
    base = need_pyenv(version)
    venv = make_venv(tmp_path / "venv", base)
    result = roost(env, venv, "epsilon", "onlynew", index=index_server)
    assert result.returncode == 0, result.stderr
    minor = int(version.split(".")[1])
    expected = {
        "epsilon": "1.0",
        "delta" if minor < 11 else "zeta": "1.0",
        "onlynew": "1.0" if minor >= 12 else "0.9",
    }
    assert installed(venv, env) == dict(sorted(expected.items()))
    assert os.path.exists(tmp_path / "venv" / "lib" / f"python{version}" / "site-packages")
