"""``roost install --user`` end to end: the multi-stage story, PYTHONUSERBASE, upgrades.

Everything runs the real CLI against real interpreters. Pythons that a test writes
into are *copies* of a pyenv CPython in a temporary folder (:func:`copy_cpython`), so
no real installation is ever modified.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.envs import (
    clean_env,
    installed,
    make_venv,
    manifest,
    need_debian,
    need_pyenv,
    run_roost,
)
from tests.support.server import IndexServer

DOCS = Path(__file__).resolve().parent.parent / "docs" / "outside-venv.md"
APP_UID = 1000
# What a Python copy needs to run; the test suite, Tk and IDLE are left behind.
_NOT_COPIED = {"test", "__pycache__", "idlelib", "tkinter", "turtledemo", "pkgconfig", "share"}


def copy_cpython(version: str, dest: Path) -> Path:
    """Copy pyenv's newest CPython *version* to *dest*; return the copy's ``bin/python``.

    The copy's site-packages starts empty. Its executable finds ``libpython`` by an
    absolute RUNPATH into the original, so run it with :func:`copy_env` (which sets
    ``LD_LIBRARY_PATH`` to the copy's ``lib``): otherwise a user who cannot read the
    original cannot start it.
    """
    source = need_pyenv(version).parent.parent

    def ignore(folder: str, names: list[str]) -> set[str]:
        if Path(folder).name == "site-packages":
            return set(names)
        return {n for n in names if n in _NOT_COPIED or n.endswith(".a")}

    shutil.copytree(source, dest, symlinks=True, ignore=ignore)
    return dest / "bin" / "python"


def copy_env(python: Path, env: dict[str, str]) -> dict[str, str]:
    """*env* plus what a :func:`copy_cpython` copy needs to load its own libpython."""
    return dict(env, LD_LIBRARY_PATH=str(python.parent.parent / "lib"))


def purelib(python: Path, env: dict[str, str]) -> Path:
    code = "import sysconfig; print(sysconfig.get_path('purelib'))"
    out = subprocess.run(
        [str(python), "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return Path(out.stdout.strip())


def roost_lib(dest: Path) -> Path:
    """roost and its runtime dependencies, copied from this environment into *dest*.

    The equivalent of ``roost install --target DEST roost``, offline: a folder any
    user can put on PYTHONPATH (the tests' own environment lives under /root).
    roost's package folders are copied from where they are imported (which also
    works for an editable install); each dependency's files from its RECORD.
    """
    import roost
    import roost.plugins

    shutil.copytree(Path(roost.__file__).parent, dest / "roost", ignore=_pycache)
    plugins = Path(roost.plugins.__file__).parent
    shutil.copytree(plugins, dest / "roost" / "plugins", ignore=_pycache, dirs_exist_ok=True)
    seen: set[str] = set()
    todo = list(importlib.metadata.requires("roost") or [])
    while todo:
        requirement = Requirement(todo.pop())
        name = canonicalize_name(requirement.name)
        if name in seen or (requirement.marker and not requirement.marker.evaluate()):
            continue
        seen.add(name)
        dist = importlib.metadata.distribution(name)
        for file in dist.files or []:
            if file.parts[0] == ".." or "__pycache__" in file.parts:
                continue  # scripts outside site-packages, and bytecode
            target = dest / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file.locate(), target)
        todo.extend(dist.requires or [])
    return dest


def _pycache(folder: str, names: list[str]) -> set[str]:
    return {"__pycache__"} & set(names)


def docs_script() -> str:
    """The shell block after the ``multi-stage-script`` marker in docs/outside-venv.md."""
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(r"<!-- multi-stage-script.*?-->\n```sh\n(.*?)```", text, re.S)
    assert found, f"no multi-stage script in {DOCS}"
    return found.group(1)


def as_app(*command: str) -> list[str]:
    return ["setpriv", f"--reuid={APP_UID}", f"--regid={APP_UID}", "--clear-groups", *command]


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temporary folder uid 1000 can enter (pytest's own are root-only, mode 700)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run the build stage as uid 1000")
    folder = Path(tempfile.mkdtemp(prefix="roost-story-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize("which", ["debian", "pyenv-copy"])
def test_multi_stage_story_as_non_root(
    which: str, shared_tmp: Path, index_server: IndexServer
) -> None:
    """The Docker multi-stage build, without Docker: runs the docs' script verbatim.

    Both stages run as uid 1000 (``setpriv``); roost too, from a copy of roost and its
    dependencies (:func:`roost_lib`) run by the target interpreter itself
    (``python -m roost``), because the tests' environment lives under /root, which
    uid 1000 cannot enter. Interpreters: Debian's ``/usr/bin/python3`` (externally
    managed, hence ``--break-system-packages``, which with ``--user`` only writes the
    temporary HOME), and a copy of pyenv's CPython 3.12 in a readable folder, run
    with ``LD_LIBRARY_PATH`` pointing at the copy's libpython.
    """
    env = {k: v for k, v in clean_env(shared_tmp / "root-home").items() if k[:4] != "XDG_"}
    # Both stages set their own HOME; configuration must not come from root's files.
    env["XDG_CONFIG_DIRS"] = str(shared_tmp / "no-xdg")
    if which == "debian":
        python = need_debian()
    else:
        python = copy_cpython("3.12", shared_tmp / "python")
        env = copy_env(python, env)
    lib = roost_lib(shared_tmp / "roost-lib")
    scratch = shared_tmp / "scratch"
    scratch.mkdir()
    scratch.chmod(0o755)
    env.update(
        ROOST_INDEX_URL=index_server.url,
        ROOST_LIB=str(lib),
        PYTHON=str(python),
        TMPDIR=str(scratch),
    )

    result = subprocess.run(
        ["sh", "-c", docs_script()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (work,) = scratch.iterdir()
    home = work / "run-home"
    site = f"lib/python{_version(python, env)}/site-packages"
    lines = result.stdout.splitlines()
    assert "Successfully installed alpha-1.1 beta-1.0" in lines
    assert lines[-4:] == [
        f"#!{python}",
        str(home / ".local" / site / "beta" / "__init__.py"),
        "alpha 1.1",
        f"work folder: {work}",
    ]
    assert "WARNING" not in result.stderr
    assert not (work / "build-home").exists()
    assert {p.stat().st_uid for p in home.rglob("*")} == {APP_UID}

    # The copied script, executed directly by the kernel (no shell), as uid 1000.
    script = home / ".local" / "bin" / "alpha"
    runtime = dict(env, HOME=str(home))
    ran = subprocess.run(
        as_app(str(script)), env=runtime, capture_output=True, text=True, check=False
    )
    assert (ran.returncode, ran.stdout) == (0, "alpha 1.1\n"), ran.stderr
    assert installed(python, runtime).items() >= {"alpha": "1.1", "beta": "1.0"}.items()


def _version(python: Path, env: dict[str, str]) -> str:
    code = "import sys; print('%d.%d' % sys.version_info[:2])"
    return subprocess.run(
        [str(python), "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_pythonuserbase_at_install_and_run_time(tmp_path: Path, index_server: IndexServer) -> None:
    """``PYTHONUSERBASE`` moves the user base; the same variable finds it at run time."""
    python = need_pyenv("3.12")
    home = tmp_path / "home"
    base = tmp_path / "userbase"
    env = dict(clean_env(home), PYTHONUSERBASE=str(base))
    before = manifest(purelib(python, env))
    result = run_roost(
        "install", "--python", str(python), "--user", "-i", index_server.url, "scripted",
        env=env, check=True,
    )  # fmt: skip
    site = base / "lib" / f"python{_version(python, env)}" / "site-packages"
    assert (site / "scripted" / "__init__.py").is_file()
    assert not (home / ".local").exists()
    assert manifest(purelib(python, env)) == before
    # The scripts folder is not on PATH: pip's warning, which names it.
    assert f"installed in '{base / 'bin'}', which is not on PATH" in result.stderr
    assert "--no-warn-script-location" in result.stderr

    imported = subprocess.run(
        [str(python), "-c", "import scripted; print(scripted.__file__)"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert imported.stdout.strip() == str(site / "scripted" / "__init__.py")
    script = base / "bin" / "scripted"
    assert script.read_text().splitlines()[0] == f"#!{python}"
    ran = subprocess.run([str(script)], env=env, capture_output=True, text=True, check=False)
    assert (ran.returncode, ran.stdout) == (0, "scripted 1.0\n"), ran.stderr
    # Without the variable the interpreter looks in ~/.local and does not see it.
    assert "scripted" not in installed(python, clean_env(home))

    again = run_roost(
        "install", "--python", str(python), "--user", "--force-reinstall",
        "--no-warn-script-location", "-i", index_server.url, "scripted",
        env=env, check=True,
    )  # fmt: skip
    assert "not on PATH" not in again.stderr


def test_user_upgrade_leaves_the_base_copy_alone(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """``--user -U`` through a system-site venv shadows the base's alpha, never edits it."""
    base_python = copy_cpython("3.12", tmp_path / "cpython")
    home = tmp_path / "home"
    env = copy_env(base_python, clean_env(home))
    run_roost(
        "install", "--python", str(base_python), "--system", "-i", index_server.url,
        "alpha==1.0", env=env, check=True,
    )  # fmt: skip
    base_site = purelib(base_python, env)
    assert (base_site / "alpha-1.0.dist-info").is_dir()
    before = manifest(tmp_path / "cpython")

    venv_python = make_venv(tmp_path / "venv", base_python, system_site_packages=True)
    venv_before = manifest(tmp_path / "venv")
    assert installed(venv_python, env)["alpha"] == "1.0"
    result = run_roost(
        "install", "--python", str(venv_python), "--user", "-U", "-i", index_server.url,
        "alpha", env=env, check=True,
    )  # fmt: skip
    assert "Successfully installed alpha-2.0" in result.stdout

    user_site = home / ".local" / "lib" / f"python{_version(base_python, env)}" / "site-packages"
    assert (user_site / "alpha-2.0.dist-info").is_dir()
    assert manifest(tmp_path / "cpython") == before
    assert manifest(tmp_path / "venv") == venv_before
    # The user site comes first on sys.path, so both the venv and the base see 2.0.
    assert installed(venv_python, env)["alpha"] == "2.0"
    assert installed(base_python, env)["alpha"] == "2.0"
    script = home / ".local" / "bin" / "alpha"
    assert script.read_text().splitlines()[0] == f"#!{venv_python}"
    ran = subprocess.run([str(script)], env=env, capture_output=True, text=True, check=False)
    assert (ran.returncode, ran.stdout) == (0, "alpha 2.0\n"), ran.stderr
