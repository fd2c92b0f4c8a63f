"""Installing from Mercurial, Subversion and Bazaar repositories, made here with each
real client, built by setuptools from a loopback index into real venvs: tags, revisions,
the tip and subdirectories, with PEP 610 ``direct_url.json`` and ``roost freeze``; the
built-wheel cache for a pinned node; VCS URLs taken apart as pip does.

pip's records for the same sources: test_build_vcs_pip_parity.py; editable checkouts:
test_build_vcs_editable.py; bad input, missing clients and credentials:
test_build_vcs_errors.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import vcs_installs
from tests.support.envs import installed, make_venv, run_roost
from tests.support.projects import in_tree_project
from tests.support.server import IndexServer
from tests.support.vcs_installs import direct_url, freeze, greeting, install
from tests.support.vcs_repos import NEEDS_VCS_CLIENTS, at_first, client, repository, svn_repository

pytestmark = NEEDS_VCS_CLIENTS
# The shared fixtures, bound here so that pytest finds them for this module's tests.
build_index = vcs_installs.build_index
home = vcs_installs.home


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


# -- VCS URLs ------------------------------------------------------------------------------


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
