"""Bad VCS input ends clearly and leaves the venv as it was: an editable URL with no
name, folders in the way, a revision left empty, a missing client named with its
package, credentials passed to svnserve and kept out of every message, unreachable
repositories, and a client that hangs stopped at its time limit."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import vcs_installs
from tests.support.envs import installed, make_venv, manifest
from tests.support.projects import pyproject_project
from tests.support.server import IndexServer
from tests.support.vcs_installs import direct_url, install
from tests.support.vcs_repos import NEEDS_VCS_CLIENTS, client, repository

pytestmark = NEEDS_VCS_CLIENTS
# The shared fixtures, bound here so that pytest finds them for this module's tests.
build_index = vcs_installs.build_index
home = vcs_installs.home


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
