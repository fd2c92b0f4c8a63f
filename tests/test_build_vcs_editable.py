"""Editable installs from VCS URLs (``-e hg+...``, svn, bzr and git): checkouts in
``--src`` that stay live and are updated in place, where ``--src`` comes from (the venv,
``PIP_SRC``, requirement files, the working directory), and ``roost wheel`` checking
editables out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import vcs_installs
from tests.support.envs import installed, make_venv, need_pyenv, run_roost
from tests.support.server import IndexServer
from tests.support.vcs_installs import direct_url, freeze, greeting, install
from tests.support.vcs_repos import NEEDS_VCS_CLIENTS, at_first, repository, svn_repository

pytestmark = NEEDS_VCS_CLIENTS
# The shared fixtures, bound here so that pytest finds them for this module's tests.
build_index = vcs_installs.build_index
home = vcs_installs.home


# -- editable checkouts ------------------------------------------------------------------------


@pytest.mark.parametrize("vcs", ["hg", "svn", "bzr", "git"])
def test_editable_checkout_is_live_and_updated_in_place(
    tmp_path: Path, build_index: IndexServer, home: dict[str, str], vcs: str
) -> None:
    repo = repository(vcs, tmp_path / "repo")
    python = make_venv(tmp_path / "venv")
    src = tmp_path / "checkouts"
    result = install(
        python, build_index, "--src", str(src), "-e", f"{at_first(repo)}#egg=VcsApp", env=home
    )
    assert result.returncode == 0, result.stderr
    checkout = src / "vcsapp"  # the name, normalised, names the folder
    assert installed(python) == {"vcsapp": "1.0"}
    assert direct_url(python, "vcsapp") == {
        "url": checkout.as_uri(),
        "dir_info": {"editable": True},
    }
    assert freeze(python, home) == [f"-e {repo.url}@{repo.first}#egg=vcsapp"]

    module = checkout / "src" / "vcsapp" / "__init__.py"
    original = module.read_text()
    module.write_text(original.replace("hello from", "edited:"))
    assert greeting(python) == "edited: vcsapp 1.0"  # no reinstall
    module.write_text(original)

    # The second -e updates the checkout where it is (an untracked file stays).
    (checkout / "notes.txt").write_text("mine\n")
    result = install(
        python, build_index, "--src", str(src), "-e", f"{repo.url}#egg=vcsapp", env=home
    )
    assert result.returncode == 0, result.stderr
    assert (checkout / "notes.txt").read_text() == "mine\n"
    assert installed(python) == {"vcsapp": "2.0"}
    assert greeting(python) == "hello from vcsapp 2.0"
    assert freeze(python, home) == [f"-e {repo.url}@{repo.last}#egg=vcsapp"]


def test_src_defaults_to_the_venv_and_comes_from_settings_and_requirement_files(
    tmp_path: Path, build_index: IndexServer, home: dict[str, str]
) -> None:
    hg = repository("hg", tmp_path / "hg")
    bzr = repository("bzr", tmp_path / "bzr")
    venv = tmp_path / "venv"
    python = make_venv(venv)
    # The PEP 508 spelling names the project instead of #egg=.
    result = install(python, build_index, "-e", f"vcsapp @ {hg.url}", env=home)
    assert result.returncode == 0, result.stderr
    assert (venv / "src" / "vcsapp" / ".hg").is_dir()
    # PIP_SRC (pip's variable; ROOST_SRC too), and -e in a requirements file.
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"-e {bzr.url}#egg=subproj&subdirectory=sub\n")
    env = {**home, "PIP_SRC": str(tmp_path / "pip-src")}
    result = install(python, build_index, "-r", str(requirements), env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "pip-src" / "subproj" / ".bzr").is_dir()
    assert installed(python) == {"subproj": "0.5", "vcsapp": "2.0"}
    # A Python that is no venv (into --target, to leave it as it is): ./src, from where
    # roost runs.
    base = need_pyenv("3.11")
    work = tmp_path / "work"
    work.mkdir()
    target = tmp_path / "target"
    result = install(
        base, build_index, "--target", str(target), "-e", f"{hg.url}#egg=vcsapp", env=home,
        cwd=work,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (work / "src" / "vcsapp" / ".hg").is_dir()
    assert json.loads(next(target.glob("vcsapp-*.dist-info/direct_url.json")).read_text()) == {
        "url": (work / "src" / "vcsapp").as_uri(), "dir_info": {"editable": True},
    }  # fmt: skip


def test_roost_wheel_builds_from_svn_and_checks_editables_out_into_src(
    tmp_path: Path, build_index: IndexServer, home: dict[str, str]
) -> None:
    repo = svn_repository(tmp_path / "repo")
    python = make_venv(tmp_path / "venv")
    out = tmp_path / "wheelhouse"
    result = run_roost(
        "wheel", "--python", str(python), "-i", build_index.url, "-w", str(out),
        "--src", str(tmp_path / "src"), f"{repo.url}@1",
        "-e", f"{repo.url}#egg=subproj&subdirectory=sub", env=home,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(p.name.split("-")[0] for p in out.iterdir()) == ["subproj", "vcsapp"]
    assert (tmp_path / "src" / "subproj" / "sub" / "pyproject.toml").is_file()
