"""Finding and introspecting real target interpreters (pyenv CPythons, Debian's python3, venvs)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from roost.errors import InterpreterError
from roost.target.interpreter import cache_path, find_target, introspect
from tests.support.envs import (
    PYENV_ROOT,
    make_venv,
    need_debian,
    need_pyenv,
    pyenv_python,
)

VERSIONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]
DEBIAN_MARKER = "/usr/lib/python3.11/EXTERNALLY-MANAGED"


@pytest.mark.parametrize("version", VERSIONS)
def test_pyenv_python(version: str, env: dict[str, str]) -> None:
    python = need_pyenv(version)
    target = introspect(str(python), cache_dir=None, env=env)
    minor = int(version.split(".")[1])
    assert target.version[:2] == (3, minor)
    assert target.implementation == "cpython"
    assert target.tags[0].startswith(f"cp3{minor}-cp3{minor}-")
    assert f"py3{minor}-none-any" in target.tags
    assert target.markers["python_version"] == version
    assert target.markers["implementation_name"] == "cpython"
    assert not target.is_venv
    assert not target.system_site_packages
    assert target.externally_managed is None
    assert os.path.realpath(target.executable) == os.path.realpath(python)
    assert target.user_site_enabled
    assert target.user_base == os.path.join(env["HOME"], ".local")
    assert target.user_scheme.purelib == target.user_site
    assert target.user_scheme.scripts == os.path.join(target.user_base, "bin")
    assert target.user_scheme.name == "user"
    assert target.default_scheme.name == "system"
    assert target.default_scheme.purelib == os.path.join(
        target.prefix, "lib", f"python{version}", "site-packages"
    )
    assert target.default_scheme.headers == os.path.join(
        target.prefix, "include", f"python{version}"
    )
    # The templates filled with the interpreter's own bases give back its own schemes.
    refilled = target.scheme_from_template(target.prefix_template, base=target.prefix, name="x")
    assert refilled.as_dict() == target.default_scheme.as_dict()
    user = target.scheme_from_template(target.user_template, base=target.user_base, name="x")
    assert user.as_dict() == target.user_scheme.as_dict()
    assert os.path.join(target.prefix, "lib", f"python{version}") in target.sys_path
    assert "" not in target.sys_path


def test_debian_python(env: dict[str, str]) -> None:
    python = need_debian()
    target = introspect(str(python), cache_dir=None, env=env)
    assert target.version[:2] == (3, 11)
    assert target.tags[0].startswith("cp311-cp311-")
    assert target.markers["python_version"] == "3.11"
    assert not target.is_venv
    assert target.externally_managed == DEBIAN_MARKER
    # Debian's patched sysconfig prefers posix_local: pip installs into /usr/local there.
    assert target.default_scheme.purelib == "/usr/local/lib/python3.11/dist-packages"
    assert target.default_scheme.scripts == "/usr/local/bin"
    assert target.prefix_template["purelib"] == "{base}/local/lib/python3.11/dist-packages"
    assert target.user_scheme.purelib == os.path.join(
        env["HOME"], ".local/lib/python3.11/site-packages"
    )


VENV_PYTHONS = ["3.8", "3.9", "3.13", "debian"]


def _base_python(which: str) -> Path:
    return need_debian() if which == "debian" else need_pyenv(which)


@pytest.mark.parametrize("system_site", [False, True], ids=["isolated", "system-site"])
@pytest.mark.parametrize("which", VENV_PYTHONS)
def test_venv(which: str, system_site: bool, tmp_path: Path, env: dict[str, str]) -> None:
    base = _base_python(which)
    venv_python = make_venv(tmp_path / "venv", base, system_site_packages=system_site)
    target = introspect(str(venv_python), cache_dir=None, env=env)
    venv = tmp_path / "venv"
    assert target.is_venv
    assert target.system_site_packages is system_site
    assert target.prefix == str(venv)
    assert target.executable == str(venv_python)  # the venv's python, not its base
    assert target.externally_managed is None  # even when the base is Debian's
    # site turns the user site off in a venv that cannot see the system site.
    assert target.user_site_enabled is system_site
    assert target.default_scheme.name == "venv"
    xy = target.python_version
    assert target.default_scheme.purelib == str(venv / "lib" / f"python{xy}" / "site-packages")
    assert target.default_scheme.scripts == str(venv / "bin")
    assert target.default_scheme.headers == str(venv / "include" / "site" / f"python{xy}")
    assert target.prefix_template["headers"] == f"{{base}}/include/site/python{xy}"


def test_pythonuserbase_is_reflected(tmp_path: Path, env: dict[str, str]) -> None:
    python = need_pyenv("3.12")
    userbase = tmp_path / "userbase"
    env["PYTHONUSERBASE"] = str(userbase)
    target = introspect(str(python), cache_dir=None, env=env)
    assert target.user_base == str(userbase)
    assert target.user_site == str(userbase / "lib" / "python3.12" / "site-packages")
    assert target.user_scheme.purelib == target.user_site
    assert target.user_scheme.scripts == str(userbase / "bin")
    assert target.user_scheme.data == str(userbase)
    assert target.user_scheme.headers == str(userbase / "include" / "python3.12")


def test_pythonnousersite_disables_user_site(env: dict[str, str]) -> None:
    python = need_pyenv("3.12")
    env["PYTHONNOUSERSITE"] = "1"
    assert not introspect(str(python), cache_dir=None, env=env).user_site_enabled


def test_dash_s_disables_user_site(tmp_path: Path, env: dict[str, str]) -> None:
    python = need_pyenv("3.12")
    wrapper = tmp_path / "python-s"
    wrapper.write_text(f'#!/bin/sh\nexec {python} -s "$@"\n')
    wrapper.chmod(0o755)
    target = introspect(str(wrapper), cache_dir=None, env=env)
    assert not target.user_site_enabled
    assert os.path.realpath(target.executable) == os.path.realpath(python)


def test_working_directory_cannot_shadow_stdlib(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    python = need_pyenv("3.12")
    (tmp_path / "json.py").write_text("raise SystemExit('shadowed json imported')\n")
    (tmp_path / "packaging").mkdir()
    (tmp_path / "packaging" / "__init__.py").write_text("raise SystemExit('wrong packaging')\n")
    monkeypatch.chdir(tmp_path)
    target = introspect(str(python), cache_dir=None, env=env)
    assert target.version[:2] == (3, 12)


@pytest.mark.parametrize("version", ["2.7", "3.6", "3.7"])
def test_too_old_interpreter(version: str, env: dict[str, str]) -> None:
    python = pyenv_python(version)
    if python is None:
        pytest.skip(f"no interpreter at {PYENV_ROOT}/{version}.*/bin/python")
    with pytest.raises(InterpreterError) as info:
        introspect(str(python), cache_dir=None, env=env)
    assert str(python) in info.value.message
    assert f"Python {version}." in info.value.message
    assert "3.8 or newer" in info.value.message


def test_not_python(tmp_path: Path, env: dict[str, str]) -> None:
    fails = tmp_path / "fails"
    fails.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    fails.chmod(0o755)
    with pytest.raises(InterpreterError, match="boom"):
        introspect(str(fails), cache_dir=None, env=env)
    silent = tmp_path / "silent"
    silent.write_text("#!/bin/sh\necho hello\n")
    silent.chmod(0o755)
    with pytest.raises(InterpreterError, match="did not describe itself"):
        introspect(str(silent), cache_dir=None, env=env)
    with pytest.raises(InterpreterError, match="could not run"):
        introspect(str(tmp_path / "missing"), cache_dir=None, env=env)


def test_cache_hit_and_invalidation(tmp_path: Path, env: dict[str, str]) -> None:
    python = need_pyenv("3.12")
    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\nexec {python} "$@"\n')
    wrapper.chmod(0o755)
    cache = tmp_path / "cache"

    first = introspect(str(wrapper), cache_dir=cache, env=env)
    path = cache_path(str(wrapper), cache_dir=cache, env=env)
    assert path.parent == cache / "interpreters"
    names = sorted(p.name for p in path.parent.iterdir())
    assert path.name in names and len(names) == 2  # the answer, its platform part; no temp
    assert any(name.startswith("platform-") for name in names)

    # Prove the second call answers from the file: it returns what we planted there.
    data = json.loads(path.read_text())
    data["implementation"] = "from-cache"
    path.write_text(json.dumps(data))
    assert introspect(str(wrapper), cache_dir=cache, env=env).implementation == "from-cache"

    # Another PYTHONUSERBASE is another answer.
    other = dict(env, PYTHONUSERBASE=str(tmp_path / "ub"))
    assert cache_path(str(wrapper), cache_dir=cache, env=other) != path
    assert introspect(str(wrapper), cache_dir=cache, env=other).user_base == str(tmp_path / "ub")

    # A changed interpreter (new mtime) is described again.
    stat = wrapper.stat()
    os.utime(wrapper, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000_000))
    assert cache_path(str(wrapper), cache_dir=cache, env=env) != path
    again = introspect(str(wrapper), cache_dir=cache, env=env)
    assert again.implementation == "cpython"
    assert again == first

    # A corrupt cache file is ignored, not fatal.
    new_path = cache_path(str(wrapper), cache_dir=cache, env=env)
    new_path.write_text("{not json")
    assert introspect(str(wrapper), cache_dir=cache, env=env) == first


def test_cache_separates_venvs_of_one_base(tmp_path: Path, env: dict[str, str]) -> None:
    python = need_pyenv("3.12")
    one = make_venv(tmp_path / "one", python)
    two = make_venv(tmp_path / "two", python)
    cache = tmp_path / "cache"
    assert introspect(str(one), cache_dir=cache, env=env).prefix == str(tmp_path / "one")
    assert introspect(str(two), cache_dir=cache, env=env).prefix == str(tmp_path / "two")


def test_new_venv_of_a_known_interpreter_reuses_its_markers_and_tags(
    tmp_path: Path, env: dict[str, str]
) -> None:
    python = need_pyenv("3.12")
    one = make_venv(tmp_path / "one", python)
    two = make_venv(tmp_path / "two", python)
    cache = tmp_path / "cache"
    introspect(str(one), cache_dir=cache, env=env)
    # The second venv, described with the first one's markers and tags, is exactly
    # what a full description of it says.
    assert introspect(str(two), cache_dir=cache, env=env) == introspect(
        str(two), cache_dir=None, env=env
    )
    # They are really taken from the cache: a planted tag shows up in a third venv...
    (platform,) = (cache / "interpreters").glob("platform-*.json")
    data = json.loads(platform.read_text())
    data["tags"] = ["cp312-planted-tag", *data["tags"]]
    platform.write_text(json.dumps(data))
    three = make_venv(tmp_path / "three", python)
    described = introspect(str(three), cache_dir=cache, env=env)
    assert described.tags[0] == "cp312-planted-tag"
    assert described.prefix == str(tmp_path / "three")
    # ...and never in a venv of another interpreter binary.
    other = make_venv(tmp_path / "other", need_pyenv("3.11"))
    assert "cp312-planted-tag" not in introspect(str(other), cache_dir=cache, env=env).tags


# -- discovery -----------------------------------------------------------------


@pytest.fixture
def venv_dir(tmp_path: Path) -> Path:
    make_venv(tmp_path / "env", sys.executable)
    return tmp_path / "env"


def test_find_python_option_venv_dir(venv_dir: Path, tmp_path: Path) -> None:
    env = {"PATH": "", "VIRTUAL_ENV": "/elsewhere"}
    assert find_target(str(venv_dir), cwd=tmp_path, env=env) == str(venv_dir / "bin" / "python")
    # relative to cwd, and without a slash
    assert find_target("env", cwd=tmp_path, env=env) == str(venv_dir / "bin" / "python")


def test_find_python_option_interpreter(venv_dir: Path, tmp_path: Path) -> None:
    python = venv_dir / "bin" / "python"
    assert find_target(str(python), cwd=tmp_path, env={}) == str(python)  # symlink kept


def test_find_python_option_name_on_path(tmp_path: Path) -> None:
    python = need_pyenv("3.12")
    env = {"PATH": str(python.parent)}
    assert find_target("python3.12", cwd=tmp_path, env=env) == str(python.parent / "python3.12")
    with pytest.raises(InterpreterError, match="no such interpreter on PATH"):
        find_target("python3.12", cwd=tmp_path, env={"PATH": str(tmp_path)})


def test_find_python_option_errors(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(InterpreterError, match="not a virtual environment"):
        find_target(str(tmp_path / "plain"), cwd=tmp_path, env={})
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InterpreterError, match="not an executable file"):
        find_target(str(tmp_path / "file.txt"), cwd=tmp_path, env={})
    with pytest.raises(InterpreterError, match="not an executable file"):
        find_target(str(tmp_path / "nope" / "python"), cwd=tmp_path, env={})


def test_find_virtual_env_beats_dot_venv(venv_dir: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    make_venv(project / ".venv", sys.executable)
    env = {"VIRTUAL_ENV": str(venv_dir), "PATH": ""}
    assert find_target(None, cwd=project, env=env) == str(venv_dir / "bin" / "python")
    with pytest.raises(InterpreterError, match="VIRTUAL_ENV"):
        find_target(None, cwd=project, env={"VIRTUAL_ENV": str(tmp_path / "gone")})


def test_find_dot_venv_in_parent(tmp_path: Path) -> None:
    project = tmp_path / "project"
    make_venv(project / ".venv", sys.executable)
    nested = project / "src" / "pkg"
    nested.mkdir(parents=True)
    # A .venv without pyvenv.cfg is not a venv and is passed over.
    (project / "src" / ".venv").mkdir()
    expected = str(project / ".venv" / "bin" / "python")
    assert find_target(None, cwd=nested, env={"PATH": ""}) == expected
    assert find_target(None, cwd=project, env={"PATH": ""}) == expected


def test_find_on_path(tmp_path: Path) -> None:
    python = need_pyenv("3.12")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(python)
    cwd = tmp_path / "work"
    cwd.mkdir()
    env = {"PATH": f"{tmp_path / 'empty'}{os.pathsep}{bin_dir}"}
    assert find_target(None, cwd=cwd, env=env) == str(bin_dir / "python3")
    (bin_dir / "python3").unlink()
    (bin_dir / "python").symlink_to(python)
    assert find_target(None, cwd=cwd, env=env) == str(bin_dir / "python")


def test_find_nothing(tmp_path: Path) -> None:
    with pytest.raises(InterpreterError, match="no Python interpreter found"):
        find_target(None, cwd=tmp_path, env={"PATH": str(tmp_path)})


def test_python_option_beats_everything(venv_dir: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    make_venv(project / ".venv", sys.executable)
    python = need_pyenv("3.12")
    env = {"VIRTUAL_ENV": str(venv_dir), "PATH": ""}
    assert find_target(str(python), cwd=project, env=env) == str(python)
