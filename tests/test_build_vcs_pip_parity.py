"""VCS installs recorded as pip records them: pip 26.3 and roost install the same
Mercurial, Subversion and Bazaar sources (plain and editable) into a venv at the same
path, and ``direct_url.json`` and ``freeze`` must match; ``-e DIR`` of working copies
under each VCS, and a project below a symlinked root, freeze as pip's lines."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import vcs_installs
from tests.support.envs import clean_env, make_venv, run_roost
from tests.support.fetched import fetched_wheel
from tests.support.projects import git, pyproject_project
from tests.support.server import IndexServer
from tests.support.vcs_installs import direct_url, freeze, install
from tests.support.vcs_repos import (
    NEEDS_VCS_CLIENTS,
    TIMEOUT,
    at_first,
    client,
    repository,
    svn_repository,
)

pytestmark = NEEDS_VCS_CLIENTS
# The shared fixtures, bound here so that pytest finds them for this module's tests.
build_index = vcs_installs.build_index
home = vcs_installs.home


# -- the same as pip ---------------------------------------------------------------------------


def pip(python: Path, *args: str, env: dict[str, str]) -> str:
    """The test interpreter's pip acting on *python* (pip's ``--python``); its stdout."""
    command = [sys.executable, "-m", "pip", "--python", str(python), *args]
    # pip runs the VCS clients as found on PATH, and Debian's brz then needs the
    # system python3 first there (see client()).
    path = os.pathsep.join((os.path.dirname(os.path.realpath(shutil.which("bzr") or "/")),
                            env.get("PATH", os.environ["PATH"])))  # fmt: skip
    result = subprocess.run(
        command, env={**env, "PATH": path}, cwd=env["HOME"], capture_output=True, text=True,
        timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"pip {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


@pytest.mark.parametrize("vcs", ["hg", "svn", "bzr"])
@pytest.mark.parametrize("kind", ["checkout", "editable", "editable subdirectory"])
def test_direct_url_and_freeze_as_pip_writes_them(tmp_path: Path, vcs: str, kind: str) -> None:
    """pip, then roost, install the same source into a venv at the same path: the same
    direct_url.json, field by field, and the same freeze line. One difference is
    roost's on purpose: for Mercurial, PEP 610's full changeset hash where pip writes
    the clone's local revision number."""
    if importlib.util.find_spec("pip") is None:
        pytest.skip(f"no pip in the test interpreter {sys.executable}")
    repo = repository(vcs, tmp_path / "repo")
    links = tmp_path / "find-links"
    links.mkdir()
    wheel = fetched_wheel("setuptools", "3.11")
    shutil.copyfile(wheel, links / wheel.name)
    # A Bazaar checkout at its branch's tip: at an older revision pip records the tip's
    # revno all the same (see the test above).
    name, source = "vcsapp", f"{repo.url}@2" if vcs == "bzr" else at_first(repo)
    if kind == "editable":
        source = f"-e {repo.url}#egg=vcsapp"
    elif kind == "editable subdirectory":
        name, source = "subproj", f"-e {repo.url}#egg=subproj&subdirectory=sub"
    args = ("--no-index", "--find-links", str(links), *source.split(" "))
    (tmp_path / "home").mkdir()
    env = clean_env(tmp_path / "home")
    venv = tmp_path / "venv"

    python = make_venv(venv)
    pip(python, "install", "--no-cache-dir", *args, env=env)
    by_pip = direct_url(python, name)
    pip_freeze = [line for line in pip(python, "freeze", env=env).splitlines() if name in line]
    venv.rename(tmp_path / "pip-venv")

    python = make_venv(venv)
    run_roost("install", "--python", str(python), *args, env=env, check=True)
    by_roost = direct_url(python, name)
    roost_freeze = [line for line in freeze(python, env) if name in line]

    if kind == "checkout" and vcs == "hg":
        vcs_info = by_pip["vcs_info"]
        assert isinstance(vcs_info, dict)
        local = vcs_info.pop("commit_id")
        node = client("hg", "log", "--rev", str(local), "--template", "{node}", cwd=repo.checkout)
        assert by_roost["vcs_info"] == {**vcs_info, "commit_id": node}
        assert pip_freeze == [f"vcsapp @ {repo.url}@{local}"]
        assert roost_freeze == [f"vcsapp @ {repo.url}@{node}"]
        by_pip["vcs_info"] = by_roost["vcs_info"]
    else:
        assert roost_freeze == pip_freeze
    assert by_roost == by_pip
    if kind == "editable":
        assert by_roost == {
            "url": (venv / "src" / "vcsapp").as_uri(),
            "dir_info": {"editable": True},
        }
        assert roost_freeze == [f"-e {repo.url}@{repo.last}#egg=vcsapp"]
    elif kind == "editable subdirectory":
        checkout = venv / "src" / "subproj"
        assert by_roost == {"url": (checkout / "sub").as_uri(), "dir_info": {"editable": True}}
        if vcs == "hg":
            assert roost_freeze == [f"-e {repo.url}@{repo.last}#egg=subproj&subdirectory=sub"]
        else:
            # pip finds an svn or bzr checkout only at its own root.
            assert roost_freeze == [
                "# Editable install with no version control (subproj==0.5)",
                f"-e {checkout / 'sub'}",
            ]


def test_freeze_of_editable_folders_under_each_vcs_as_pip(
    tmp_path: Path, build_index: IndexServer, home: dict[str, str]
) -> None:
    """``-e DIR`` of folders that are working copies: a clone names its remote; a
    repository with none gets pip's comment. pip reads the same venv: the same lines."""
    if importlib.util.find_spec("pip") is None:
        pytest.skip(f"no pip in the test interpreter {sys.executable}")
    origin = repository("hg", tmp_path / "origin")
    clone = tmp_path / "hgclone"
    client("hg", "clone", "--quiet", origin.checkout.as_uri(), str(clone))
    lonely = pyproject_project(tmp_path / "hglocal", "hglocal", "1.0")
    client("hg", "init", cwd=lonely)
    standalone = pyproject_project(tmp_path / "bzrlocal", "bzrlocal", "1.0")
    client("bzr", "init", "--quiet", cwd=standalone)
    svn = svn_repository(tmp_path / "svn")
    # Subversion checks a folder of the repository out as a working copy of its own.
    sub = tmp_path / "svnsub"
    client("svn", "checkout", "--quiet", f"{svn.url.removeprefix('svn+')}/sub", str(sub))
    plain = pyproject_project(tmp_path / "plain", "plain", "1.0")
    python = make_venv(tmp_path / "venv")
    editables = [clone, lonely, standalone, sub, plain]
    args = [arg for folder in editables for arg in ("-e", str(folder))]
    result = install(python, build_index, *args, env=home)
    assert result.returncode == 0, result.stderr
    ours = freeze(python, home)
    assert "# Editable Bazaar install with no remote (bzrlocal==1.0)" in ours
    assert f"-e {origin.url}@{origin.last}#egg=vcsapp" in ours
    assert f"-e {svn.url}/sub@3#egg=subproj" in ours
    assert ours[ours.index(f"-e {lonely}") - 1] == "## !! Could not determine repository location"
    assert ours[ours.index(f"-e {plain}") - 1] == (
        "# Editable install with no version control (plain==1.0)"
    )
    (tmp_path / "pip-home").mkdir()
    assert pip(python, "freeze", env=clean_env(tmp_path / "pip-home")).splitlines() == ours


def test_freeze_of_a_project_below_the_root_reached_through_a_symlink(
    tmp_path: Path, build_index: IndexServer, home: dict[str, str]
) -> None:
    """The subdirectory is where the project is in the repository, whichever path led
    there (git answers with the real path; pip 23 writes ``../link/sub`` here)."""
    origin = pyproject_project(tmp_path / "origin" / "sub", "gitsub", "1.0").parent
    git(origin, "init", "--quiet", "--initial-branch=main")
    git(origin, "add", ".")
    git(origin, "commit", "--quiet", "-m", "gitsub 1.0")
    commit = git(origin, "rev-parse", "HEAD")
    git(tmp_path, "clone", "--quiet", origin.as_uri(), "clone")
    (tmp_path / "link").symlink_to(tmp_path / "clone")
    python = make_venv(tmp_path / "venv")
    result = install(python, build_index, "-e", str(tmp_path / "link" / "sub"), env=home)
    assert result.returncode == 0, result.stderr
    assert freeze(python, home) == [
        f"-e git+{origin.as_uri()}@{commit}#egg=gitsub&subdirectory=sub"
    ]
