"""Installing from Mercurial, Subversion and Bazaar repositories (and git, for ``-e``),
made here with each real client, built by setuptools from a loopback index into real
venvs: revisions, tags, subdirectories, PEP 610 ``direct_url.json`` checked against
what pip writes for the same source, ``roost freeze``, editable checkouts in ``--src``,
a missing client, credentials kept out of messages."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.envs import clean_env, installed, make_venv, manifest, need_pyenv, run_roost
from tests.support.fetched import fetched_wheel
from tests.support.projects import backend_index, git, in_tree_project, pyproject_project
from tests.support.server import IndexServer

#: Bounds on the subprocesses the tests run themselves (roost's runs have their own).
TIMEOUT = 300
#: The clients, as the commits they make need them: a name, no prompt.
CLIENT_ENV = {
    "HGPLAIN": "1",
    "HGUSER": "roost tests",
    "BRZ_EMAIL": "roost tests <t@roost.invalid>",
}

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("hg", "svn", "svnadmin", "bzr")),
    reason="needs the hg, svn, svnadmin and bzr clients (nox installs them)",
)


def client(tool: str, *args: str, cwd: Path | None = None) -> str:
    found = shutil.which(tool) or tool
    # As roost runs it: the client's own folder first on PATH (Debian's brz takes the
    # first python3 there, which under nox is the session venv's, without breezy).
    path = os.pathsep.join((os.path.dirname(os.path.realpath(found)), os.environ["PATH"]))
    done = subprocess.run(
        [found, *args], cwd=cwd, env={**os.environ, **CLIENT_ENV, "PATH": path},
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{tool} {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout.strip()


@dataclass(frozen=True)
class Repo:
    """A repository of ``vcsapp``: 1.0 (tagged ``v1.0``), then 2.0 with ``subproj`` 0.5
    in ``sub/``; *url* is what to install from (``hg+file:///...``), *checkout* a
    working copy to read revisions in."""

    vcs: str
    url: str
    checkout: Path
    #: What each VCS records as the commit of 1.0 and of 2.0.
    first: str
    last: str


def _projects(root: Path, version: str) -> None:
    pyproject_project(root, "vcsapp", version)
    if version == "2.0":
        pyproject_project(root / "sub", "subproj", "0.5", script=False)


def svn_repository(root: Path) -> Repo:
    """``trunk`` (r1 1.0, r3 2.0) and ``tags/v1.0`` (r2, a copy of r1)."""
    repository = root / "repository"
    root.mkdir(parents=True)
    client("svnadmin", "create", str(repository))
    layout = root / "layout"
    _projects(layout / "trunk", "1.0")
    (layout / "tags").mkdir()
    client("svn", "import", "--quiet", "-m", "vcsapp 1.0", str(layout), repository.as_uri())
    trunk = f"{repository.as_uri()}/trunk"
    client("svn", "copy", "--quiet", "-m", "v1.0", trunk, f"{repository.as_uri()}/tags/v1.0")
    work = root / "work"
    client("svn", "checkout", "--quiet", trunk, str(work))
    _projects(work, "2.0")
    client("svn", "add", "--quiet", "--force", ".", cwd=work)
    client("svn", "commit", "--quiet", "-m", "vcsapp 2.0", cwd=work)
    return Repo("svn", f"svn+{trunk}", work, "1", "3")


def repository(vcs: str, root: Path) -> Repo:
    """A :class:`Repo` made with *vcs*'s client (Subversion's: :func:`svn_repository`)."""
    if vcs == "svn":
        return svn_repository(root)

    def run_client(*args: str) -> str:
        return git(root, *args) if vcs == "git" else client(vcs, *args, cwd=root)

    quiet = [] if vcs == "hg" else ["--quiet"]
    for version in ("1.0", "2.0"):
        _projects(root, version)
        if version == "1.0":
            run_client("init", *quiet, *(["--initial-branch=main"] if vcs == "git" else []))
        run_client("add", *(["."] if vcs == "git" else ["--quiet"]))
        run_client("commit", "--quiet", "-m", f"vcsapp {version}")
        if version == "1.0":
            run_client("tag", "v1.0")
    if vcs == "bzr":
        first, last = "1", "2"
    elif vcs == "git":
        first, last = run_client("rev-parse", "v1.0"), run_client("rev-parse", "HEAD")
    else:
        first, last = (
            run_client("log", "--rev", r, "--template", "{node}") for r in ("v1.0", "tip")
        )
    return Repo(vcs, f"{vcs}+{root.as_uri()}", root, first, last)


def at_first(repo: Repo) -> str:
    """The URL at version 1.0: a tag (svn: a revision of trunk)."""
    return f"{repo.url}@1" if repo.vcs == "svn" else f"{repo.url}@v1.0"


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


# -- builds from each VCS --------------------------------------------------------------------


@pytest.mark.parametrize("vcs", ["hg", "svn", "bzr"])
def test_a_tag_a_revision_the_tip_and_a_subdirectory(
    tmp_path: Path, build_index: IndexServer, home: dict[str, str], vcs: str
) -> None:
    repo = repository(vcs, tmp_path / "repo")
    plain = repo.url.split("+", 1)[1]
    python = make_venv(tmp_path / "venv")

    result = install(python, build_index, at_first(repo), env=home)
    assert result.returncode == 0, result.stderr
    assert installed(python) == {"vcsapp": "1.0"}
    requested = "1" if vcs == "svn" else "v1.0"
    assert direct_url(python, "vcsapp") == {
        "url": plain,
        "vcs_info": {"vcs": vcs, "commit_id": repo.first, "requested_revision": requested},
    }
    assert f"vcsapp @ {repo.url}@{repo.first}" in freeze(python, home)

    # The tip, named by nothing: the default branch (hg), trunk's HEAD, the branch's tip.
    result = install(python, build_index, repo.url, env=home)
    assert result.returncode == 0, result.stderr
    assert installed(python) == {"vcsapp": "2.0"}
    assert greeting(python) == "hello from vcsapp 2.0"
    assert direct_url(python, "vcsapp") == {
        "url": plain,
        "vcs_info": {"vcs": vcs, "commit_id": repo.last},
    }

    # A revision by each VCS's own spelling: a node, a revision number, a revno.
    revision = {"hg": repo.first[:12], "svn": "1", "bzr": "1"}[vcs]
    result = install(python, build_index, f"vcsapp @ {repo.url}@{revision}", env=home)
    assert result.returncode == 0, result.stderr
    assert installed(python) == {"vcsapp": "1.0"}
    assert direct_url(python, "vcsapp")["vcs_info"] == {
        "vcs": vcs, "commit_id": repo.first, "requested_revision": revision,
    }  # fmt: skip

    result = install(python, build_index, f"{repo.url}#subdirectory=sub", env=home)
    assert result.returncode == 0, result.stderr
    assert installed(python)["subproj"] == "0.5"
    assert direct_url(python, "subproj") == {
        "url": plain,
        "vcs_info": {"vcs": vcs, "commit_id": repo.last},
        "subdirectory": "sub",
    }
    assert f"subproj @ {repo.url}@{repo.last}#subdirectory=sub" in freeze(python, home)


def test_an_svn_tag_is_a_url_and_a_bzr_tag_records_the_tree_revno(
    tmp_path: Path, build_index: IndexServer, home: dict[str, str]
) -> None:
    """A Subversion tag is a path of the repository. A Bazaar checkout at an old tag
    records the revno it is at (pip records the branch's tip, 2, for the same 1.0)."""
    svn = svn_repository(tmp_path / "svn")
    bzr = repository("bzr", tmp_path / "bzr")
    python = make_venv(tmp_path / "venv")
    tag = svn.url.replace("/trunk", "/tags/v1.0")
    assert install(python, build_index, tag, env=home).returncode == 0
    assert installed(python) == {"vcsapp": "1.0"}
    # pip's number for a checkout: the highest revision ``svn info`` shows, HEAD here.
    assert direct_url(python, "vcsapp") == {
        "url": tag.removeprefix("svn+"),
        "vcs_info": {"vcs": "svn", "commit_id": "3"},
    }
    assert install(python, build_index, f"{bzr.url}@v1.0", env=home).returncode == 0
    assert direct_url(python, "vcsapp")["vcs_info"] == {
        "vcs": "bzr", "commit_id": "1", "requested_revision": "v1.0",
    }  # fmt: skip


def test_a_wheel_pinned_to_a_mercurial_node_comes_from_the_cache(
    tmp_path: Path, build_index: IndexServer, home: dict[str, str]
) -> None:
    """A full node cannot move, so its wheel is built once; a tag may move: built again."""
    root = in_tree_project(tmp_path / "repo", "hgintree", "1.0")
    client("hg", "init", cwd=root)
    client("hg", "add", "--quiet", cwd=root)
    client("hg", "commit", "--quiet", "-m", "one", cwd=root)
    client("hg", "tag", "v1", cwd=root)
    node = client("hg", "log", "--rev", "v1", "--template", "{node}", cwd=root)

    def cached(url: str) -> bool:
        python = make_venv(tmp_path / f"venv-{len(list(tmp_path.glob('venv-*')))}")
        result = run_roost(
            "-v", "install", "--python", str(python), "-i", build_index.url, url, env=home
        )
        assert result.returncode == 0, result.stderr
        assert direct_url(python, "hgintree")["vcs_info"] == {
            "vcs": "hg", "commit_id": node, "requested_revision": url.rpartition("@")[2],
        }  # fmt: skip
        built = "building hg+" in result.stdout + result.stderr
        hit = "(from the built-wheel cache)" in result.stdout + result.stderr
        assert built != hit, result.stdout + result.stderr
        return hit

    url = f"hg+{root.as_uri()}"
    assert not cached(f"{url}@{node}")
    assert cached(f"{url}@{node}")
    assert not cached(f"{url}@v1")


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


# -- bad input ---------------------------------------------------------------------------------


def test_editable_vcs_without_a_name_and_folders_in_the_way(
    tmp_path: Path, build_index: IndexServer, home: dict[str, str]
) -> None:
    repo = repository("hg", tmp_path / "repo")
    other = repository("hg", tmp_path / "other")
    python = make_venv(tmp_path / "venv")
    before = manifest(tmp_path / "venv")
    src = tmp_path / "src"

    result = install(python, build_index, "--src", str(src), "-e", repo.url, env=home)
    assert result.returncode == 1
    assert "needs the project's name" in result.stderr and "#egg=NAME" in result.stderr
    assert not src.exists()

    (src / "vcsapp").mkdir(parents=True)
    (src / "vcsapp" / "keep.txt").write_text("not a checkout\n")
    result = install(
        python, build_index, "--src", str(src), "-e", f"{repo.url}#egg=vcsapp", env=home
    )
    assert result.returncode == 1
    assert f"{src / 'vcsapp'} already exists and is not a Mercurial checkout" in result.stderr
    shutil.rmtree(src / "vcsapp")

    assert (
        install(
            python, build_index, "--src", str(src), "-e", f"{other.url}#egg=vcsapp", env=home
        ).returncode
        == 0
    )
    result = install(
        python, build_index, "--src", str(src), "-e", f"{repo.url}#egg=vcsapp", env=home
    )
    assert result.returncode == 1
    assert f"is a Mercurial checkout of {other.url.removeprefix('hg+')}, not of" in result.stderr

    result = install(python, build_index, f"{repo.url}@", env=home)
    assert result.returncode == 1
    assert "names no revision after it" in result.stderr
    assert manifest(tmp_path / "venv") != before  # the one good -e went in; nothing else
    assert installed(python) == {"vcsapp": "2.0"}


@pytest.mark.parametrize(
    ("vcs", "wording"),
    [
        ("hg", "the Mercurial client (hg), which is not on PATH; install the Debian package "
         "mercurial (or pip install mercurial)"),
        ("svn", "the Subversion client (svn), which is not on PATH; install the Debian "
         "package subversion"),
        ("bzr", "the Bazaar client (bzr or brz), which is not on PATH; install the Debian "
         "package brz (or pip install breezy)"),
    ],
)  # fmt: skip
def test_a_missing_client_is_named_with_its_package(
    tmp_path: Path, build_index: IndexServer, home: dict[str, str], vcs: str, wording: str
) -> None:
    repo = repository(vcs, tmp_path / "repo")
    python = make_venv(tmp_path / "venv")
    before = manifest(tmp_path / "venv")
    # A PATH with every other client, and the shell tools a build may call.
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("git", "hg", "svn", "bzr", "brz", "sh", "env", "uname"):
        found = shutil.which(tool)
        if found and tool not in (vcs, "brz" if vcs == "bzr" else vcs):
            (tools / tool).symlink_to(found)
    env = {**home, "PATH": str(tools)}
    result = install(python, build_index, f"{repo.url}#egg=vcsapp", env=env)
    assert result.returncode == 1
    assert f"{repo.url}#egg=vcsapp: installing from {vcs}+ URLs needs {wording}" in result.stderr
    assert manifest(tmp_path / "venv") == before


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def svnserve(tmp_path: Path) -> Iterator[str]:
    """``svn://127.0.0.1:PORT/repository``: a loopback svnserve that lets only alice
    (password ``s3cret``) read, with vcsapp 1.0 in trunk."""
    root = tmp_path / "served"
    repository = root / "repository"
    repository.parent.mkdir()
    client("svnadmin", "create", str(repository))
    (repository / "conf" / "svnserve.conf").write_text(
        "[general]\nanon-access = none\nauth-access = write\npassword-db = passwd\n"
    )
    (repository / "conf" / "passwd").write_text("[users]\nalice = s3cret\n")
    layout = tmp_path / "layout"
    pyproject_project(layout / "trunk", "vcsapp", "1.0")
    client("svn", "import", "--quiet", "-m", "vcsapp 1.0", str(layout), repository.as_uri())
    port = free_port()
    server = subprocess.Popen(
        ["svnserve", "--daemon", "--foreground", "--root", str(root),
         "--listen-host", "127.0.0.1", "--listen-port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "svnserve did not start"
                time.sleep(0.1)
        yield f"127.0.0.1:{port}/repository"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_credentials_reach_svn_and_no_message(
    tmp_path: Path, build_index: IndexServer, home: dict[str, str], svnserve: str
) -> None:
    python = make_venv(tmp_path / "venv")
    result = install(python, build_index, f"svn+svn://alice:s3cret@{svnserve}/trunk", env=home)
    assert result.returncode == 0, result.stderr
    assert "s3cret" not in result.stdout + result.stderr
    assert direct_url(python, "vcsapp") == {
        "url": f"svn://{svnserve}/trunk",
        "vcs_info": {"vcs": "svn", "commit_id": "1"},
    }
    result = install(python, build_index, f"svn+svn://alice:hunter2@{svnserve}/trunk", env=home)
    assert result.returncode == 1
    assert f"svn+svn://alice:****@{svnserve}/trunk" in result.stderr
    assert "Password incorrect" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


@pytest.mark.parametrize("vcs", ["hg", "bzr", "git"])
def test_credentials_of_an_unreachable_repository_stay_out_of_errors(
    tmp_path: Path, build_index: IndexServer, home: dict[str, str], vcs: str
) -> None:
    port = free_port()  # nothing listens there
    url = f"{vcs}+http://alice:hunter2@127.0.0.1:{port}/repo"
    python = make_venv(tmp_path / "venv")
    for args in ([url], ["-e", f"{url}#egg=vcsapp", "--src", str(tmp_path / "src")]):
        result = install(python, build_index, *args, env=home)
        assert result.returncode == 1
        assert f"{vcs}+http://alice:****@127.0.0.1:{port}/repo" in result.stderr
        assert "hunter2" not in result.stdout + result.stderr
    assert not (tmp_path / "src" / "vcsapp").exists()  # a failed clone leaves nothing behind


def test_a_client_that_hangs_is_stopped_at_its_time_limit(tmp_path: Path) -> None:
    """hg against a loopback server that accepts and never answers: the command ends
    at its limit with a clear error instead of waiting for ever."""
    from roost.build.vcs import BACKENDS, ClientFailed

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://alice:hunter2@127.0.0.1:{listener.getsockname()[1]}/repo"
        started = time.monotonic()
        with pytest.raises(ClientFailed) as failed:
            BACKENDS["hg"].run(
                ["clone", "--", url, str(tmp_path / "clone")], shown="hg+" + url, timeout=2
            )
        assert time.monotonic() - started < 30
    assert f"hg+{url}: hg clone did not finish in 2 s" in failed.value.message
    assert not (tmp_path / "clone").exists()


def test_urls_are_taken_apart_as_pip_does() -> None:
    from roost.build.vcs import parse_vcs_url
    from roost.errors import BuildError

    def parts(url: str) -> tuple[str, str | None, str]:
        source = parse_vcs_url(url)
        return source.repository, source.revision, source.recorded

    # Subversion and Bazaar over ssh keep their prefix: their clients spell it so.
    assert parts("svn+ssh://u@host/repo/trunk@7") == (
        "svn+ssh://u@host/repo/trunk", "7", "svn+ssh://host/repo/trunk",
    )  # fmt: skip
    assert parts("bzr+ssh://host/branch@tag:v1") == (
        "bzr+ssh://host/branch", "tag:v1", "bzr+ssh://host/branch",
    )  # fmt: skip
    assert parts("bzr+lp:project/trunk") == ("lp:project/trunk", None, "lp:project/trunk")
    assert parts("hg+static-http://host/r@feature%2Fx") == (
        "static-http://host/r", "feature/x", "static-http://host/r",
    )  # fmt: skip
    # A revision may hold "/" (a branch); the last "@" of the path starts it.
    assert parts("git+https://host/r.git@release/2.x")[1] == "release/2.x"
    # Recorded: no password or token; git's "git@" and ${VAR} placeholders stay.
    assert parts("git+ssh://git@host/r.git")[2] == "ssh://git@host/r.git"
    assert parts("hg+https://${USER}:${TOKEN}@host/r")[2] == "https://${USER}:${TOKEN}@host/r"
    assert parts("hg+https://user:pw@host/r")[2] == "https://host/r"
    svn = parse_vcs_url("svn+https://alice:p%40ss@host/repo@3#egg=app&subdirectory=pkg")
    assert (svn.repository, svn.username, svn.password) == ("https://host/repo", "alice", "p@ss")
    assert svn.direct_url("3") == {
        "url": "https://host/repo",
        "vcs_info": {"vcs": "svn", "commit_id": "3", "requested_revision": "3"},
        "subdirectory": "pkg",
    }
    for bad, says in [
        ("hg+https://host/r@", "names no revision after it"),
        ("hg+https://host/r@--config=x", "is not a revision"),
        ("hg+gopher://host/r", "Mercurial URLs start with one of hg+file, hg+http"),
        ("cvs+https://host/r", "is not a VCS URL"),
    ]:
        with pytest.raises(BuildError, match=re.escape(says)):
            parse_vcs_url(bad)
