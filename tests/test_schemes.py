"""Scheme plugins against real interpreters, compared with what pip lays out for them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from roost.manager import Manager
from roost.plugins.target_scheme import target_dir_scheme
from roost.plugins.user_scheme import scripts_not_on_path_message
from roost.types import InstalledDistribution, Options, Scheme, Target
from tests.support.envs import (
    make_venv,
    need_debian,
    need_pyenv,
)
from tests.support.wheels import WheelSpec, build_wheel

PYTHONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "debian"]


def need_python(which: str) -> Path:
    return need_debian() if which == "debian" else need_pyenv(which)


@pytest.fixture
def manager() -> Manager:
    warnings: list[str] = []
    return Manager.build(autoload=False, warn=warnings.append)


def introspect(python: Path, env: dict[str, str]) -> Target:
    from roost.target.interpreter import introspect as run

    return run(str(python), cache_dir=None, env=env)


def install_options(**values: object) -> Options:
    return Options(command="install", values=values)


# -- option wiring -------------------------------------------------------------


def test_install_options_are_added(manager: Manager) -> None:
    names = {option.name for option in manager.add_options("install")}
    assert {
        "user",
        "no_warn_script_location",
        "target_dir",
        "prefix",
        "root",
        "system",
        "break_system_packages",
    } <= names
    other = {option.name for option in manager.add_options("list")}
    assert not other & {"user", "target_dir", "prefix", "root", "system"}


# -- selection -----------------------------------------------------------------


def test_selection_order(manager: Manager, tmp_path: Path, env: dict[str, str]) -> None:
    target = introspect(need_python("3.12"), env)
    assert manager.select_scheme(target, install_options()) == target.default_scheme
    assert manager.select_scheme(target, install_options(user=True)) == target.user_scheme
    out = str(tmp_path / "out")
    assert manager.select_scheme(target, install_options(target_dir=out, user=True)).name == (
        "target"
    )
    prefix = manager.select_scheme(target, install_options(prefix=out, user=True))
    assert prefix.name == "prefix"
    assert prefix.purelib == f"{out}/lib/python3.12/site-packages"
    assert prefix.scripts == f"{out}/bin"
    assert prefix.headers == f"{out}/include/python3.12"
    assert prefix.data == out
    # --target wins over --prefix; --root alone keeps the default (the core re-roots it).
    both = manager.select_scheme(target, install_options(target_dir=out, prefix="/x"))
    assert both.name == "target"
    assert manager.select_scheme(target, install_options(root=out)) == target.default_scheme


def test_target_dir_layout(tmp_path: Path) -> None:
    scheme = target_dir_scheme(str(tmp_path / "t"))
    base = str(tmp_path / "t")
    assert scheme == Scheme(
        purelib=base,
        platlib=base,
        data=base,
        scripts=f"{base}/bin",
        headers=f"{base}/include/python",
        name="target",
    )


def test_relative_directories_are_made_absolute(
    manager: Manager, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = introspect(need_python("3.12"), env)
    monkeypatch.chdir(tmp_path)
    scheme = manager.select_scheme(target, install_options(target_dir="rel"))
    assert scheme.purelib == str(tmp_path / "rel")
    scheme = manager.select_scheme(target, install_options(prefix="rel"))
    assert scheme.scripts == str(tmp_path / "rel" / "bin")


def test_debian_prefix_uses_posix_local(
    manager: Manager, tmp_path: Path, env: dict[str, str]
) -> None:
    target = introspect(need_python("debian"), env)
    scheme = manager.select_scheme(target, install_options(prefix=str(tmp_path)))
    assert scheme.purelib == f"{tmp_path}/local/lib/python3.11/dist-packages"
    assert scheme.scripts == f"{tmp_path}/local/bin"


def test_user_scheme_in_venv_with_system_site(
    manager: Manager, tmp_path: Path, env: dict[str, str]
) -> None:
    venv_python = make_venv(tmp_path / "venv", need_python("3.12"), system_site_packages=True)
    env["PYTHONUSERBASE"] = str(tmp_path / "ub")
    target = introspect(venv_python, env)
    scheme = manager.select_scheme(target, install_options(user=True))
    assert scheme.purelib == f"{tmp_path}/ub/lib/python3.12/site-packages"
    assert scheme.scripts == f"{tmp_path}/ub/bin"


# -- compared with pip ---------------------------------------------------------

SPEC = WheelSpec(
    name="layoutdemo",
    version="1.0",
    console_scripts={"layoutdemo-cli": "layoutdemo:main"},
    data={
        "headers/layoutdemo.h": "/* header */\n",
        "data/share/layoutdemo/readme.txt": "data\n",
        "scripts/layoutdemo-tool": "#!python\nprint('tool')\n",
    },
)


def expected_files(scheme: Scheme) -> set[str]:
    """Where each member of SPEC lands in *scheme*, as pip and installer place them."""
    return {
        os.path.join(scheme.purelib, "layoutdemo", "__init__.py"),
        os.path.join(scheme.headers, "layoutdemo", "layoutdemo.h"),
        os.path.join(scheme.data, "share", "layoutdemo", "readme.txt"),
        os.path.join(scheme.scripts, "layoutdemo-tool"),
        os.path.join(scheme.scripts, "layoutdemo-cli"),
    }


def installed_files(root: Path) -> set[str]:
    found: set[str] = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.endswith(".dist-info") and d != "__pycache__"]
        found.update(os.path.join(folder, name) for name in files)
    return found


def pip_install(python: Path, wheel: Path, env: dict[str, str], *args: str) -> None:
    command = [str(python), "-m", "pip", "install", "--no-index", "--no-deps"]
    command += ["--no-cache-dir", "--no-compile", "--disable-pip-version-check", *args]
    result = subprocess.run(
        [*command, str(wheel)], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def has_pip(python: Path) -> bool:
    probe = [str(python), "-m", "pip", "--version"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


@pytest.mark.parametrize("mode", ["prefix", "user", "target"])
@pytest.mark.parametrize("which", PYTHONS)
def test_layout_matches_pip(
    which: str, mode: str, manager: Manager, tmp_path: Path, env: dict[str, str]
) -> None:
    python = need_python(which)
    if not has_pip(python):
        pytest.skip(f"{python} has no pip to compare with")
    wheel = build_wheel(SPEC, tmp_path / "wheels")
    out = tmp_path / "out"
    extra: list[str] = []
    if mode == "user":
        env["PYTHONUSERBASE"] = str(out)
        extra = ["--user"]
        if which == "debian":
            # Only the temporary user base is written; the marker must be overridden.
            extra.append("--break-system-packages")
        options = install_options(user=True)
    elif mode == "prefix":
        extra = ["--prefix", str(out)]
        options = install_options(prefix=str(out))
    else:
        extra = ["--target", str(out)]
        options = install_options(target_dir=str(out))
    target = introspect(python, env)
    scheme = manager.select_scheme(target, options)
    pip_install(python, wheel, env, *extra)
    assert installed_files(out) == expected_files(scheme)


def test_prefix_layout_in_venv_matches_pip(
    manager: Manager, tmp_path: Path, env: dict[str, str]
) -> None:
    python = need_python("3.12")
    venv_python = tmp_path / "venv" / "bin" / "python"
    subprocess.run([str(python), "-m", "venv", str(tmp_path / "venv")], check=True, env=env)
    wheel = build_wheel(SPEC, tmp_path / "wheels")
    out = tmp_path / "out"
    target = introspect(venv_python, env)
    scheme = manager.select_scheme(target, install_options(prefix=str(out)))
    pip_install(venv_python, wheel, env, "--prefix", str(out))
    assert installed_files(out) == expected_files(scheme)
    # Headers of a venv go where pip has always put them.
    assert scheme.headers == f"{out}/include/site/python3.12"


# -- the PATH warning ----------------------------------------------------------


def test_path_warning(
    manager: Manager,
    tmp_path: Path,
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = introspect(need_python("3.12"), env)
    scheme = target_dir_scheme(str(tmp_path / "t"))
    dists = [
        InstalledDistribution("a", "1", scripts=("beta",)),
        InstalledDistribution("b", "1", scripts=("alpha", "gamma")),
    ]
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    manager.post_install(target, scheme, dists, install_options())
    err = capsys.readouterr().err
    assert f"The scripts alpha, beta and gamma are installed in '{scheme.scripts}'" in err
    assert "not on PATH" in err
    assert "--no-warn-script-location" in err

    manager.post_install(target, scheme, dists[:1], install_options())
    assert "The script beta is installed" in capsys.readouterr().err

    manager.post_install(target, scheme, dists, install_options(no_warn_script_location=True))
    assert capsys.readouterr().err == ""

    # --target and --prefix fill a folder for another place: pip does not warn there.
    for where in ({"target_dir": str(tmp_path / "t")}, {"prefix": str(tmp_path / "p")}):
        manager.post_install(target, scheme, dists, install_options(**where))
        assert capsys.readouterr().err == ""

    # On PATH (compared as real paths, so a trailing slash or a symlink does not matter).
    os.makedirs(scheme.scripts)
    (tmp_path / "link").symlink_to(scheme.scripts)
    monkeypatch.setenv("PATH", f"/usr/bin:{tmp_path / 'link'}/")
    manager.post_install(target, scheme, dists, install_options())
    assert capsys.readouterr().err == ""

    # No scripts, no warning.
    monkeypatch.setenv("PATH", "/usr/bin")
    manager.post_install(target, scheme, [InstalledDistribution("c", "1")], install_options())
    assert capsys.readouterr().err == ""


def test_no_warning_next_to_the_interpreter(tmp_path: Path, env: dict[str, str]) -> None:
    venv_python = make_venv(tmp_path / "venv", need_python("3.12"))
    target = introspect(venv_python, env)
    message = scripts_not_on_path_message(
        target.default_scheme.scripts, ["tool"], path_variable="/usr/bin", target=target
    )
    assert message is None
    message = scripts_not_on_path_message(
        target.user_scheme.scripts, ["tool"], path_variable="~/bin:/usr/bin", target=target
    )
    assert message is not None
    assert "'~'" in message
