"""Repositories of a small project made with each real VCS client, for the VCS tests.

Mercurial, Subversion and Bazaar (and git, through tests.support.projects), each with
``vcsapp`` 1.0 tagged ``v1.0`` and then 2.0 with ``subproj`` in ``sub/``; the clients
run with a name and no prompt, bounded in time. ``NEEDS_VCS_CLIENTS`` skips a module
where the clients are missing (nox installs them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.projects import git, pyproject_project

#: Bounds on the subprocesses the tests run themselves (roost's runs have their own).
TIMEOUT = 300
#: The clients, as the commits they make need them: a name, no prompt.
CLIENT_ENV = {
    "HGPLAIN": "1",
    "HGUSER": "roost tests",
    "BRZ_EMAIL": "roost tests <t@roost.invalid>",
}

#: The mark of every VCS test module: without these clients there is nothing to test.
NEEDS_VCS_CLIENTS = pytest.mark.skipif(
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
