"""``roost lock``: PEP 751 locks of the standard corpus from a loopback index, checked
by :mod:`packaging.pylock`; kept pins, ``-P``, ``--check``, dependency groups, and the
requirements-file format installed with ``--require-hashes``."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.pylock import Pylock

from tests.support.envs import make_venv, run_roost
from tests.support.index import PackageIndex
from tests.support.projects import git, git_repository, in_tree_project, make_sdist
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def lock(
    cwd: Path,
    index: IndexServer,
    *args: str,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> Any:
    return run_roost(
        "lock", "--python", sys.executable, "-i", index.url, *args, cwd=cwd, env=env, check=check
    )


def read(path: Path) -> dict[str, Any]:
    """The lock at *path*, after :mod:`packaging.pylock` accepted it."""
    table = tomllib.loads(path.read_text())
    Pylock.from_dict(table)
    return table


def packages(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in table["packages"]}


def test_lock_of_the_corpus(tmp_path: Path, index_server: IndexServer) -> None:
    # The sdist's metadata is built with the target's own setuptools (the corpus
    # index has no build backends).
    args = ("--no-build-isolation", "beta", "gamma[fast]", "epsilon", "sdistonly", "alpha==1.5")
    lock(tmp_path, index_server, *args)
    text = (tmp_path / "pylock.toml").read_text()
    table = read(tmp_path / "pylock.toml")
    assert table["lock-version"] == "1.0"
    assert table["created-by"] == "roost"
    [environment] = table["environments"]
    assert f'python_version == "{sys.version_info[0]}.{sys.version_info[1]}"' in environment
    assert 'sys_platform == "linux"' in environment
    found = packages(table)
    # The yanked 1.5 is locked because it is pinned exactly (PEP 592); epsilon's
    # marker picks zeta on Python >= 3.11; gamma[fast] brings delta.
    assert {name: p["version"] for name, p in found.items()} == {
        "alpha": "1.5", "beta": "1.0", "gamma": "1.0", "delta": "1.0",
        "epsilon": "1.0", "sdistonly": "1.0", "zeta": "1.0",
    }  # fmt: skip
    assert list(found) == sorted(found)
    for package in found.values():
        assert "marker" not in package  # one environment, no groups: needed everywhere
        assert package["index"] == index_server.url
    [wheel] = found["beta"]["wheels"]
    data = (index_server.index.files_dir / wheel["name"]).read_bytes()
    assert wheel["url"].endswith("/beta-1.0-py3-none-any.whl")
    assert wheel["size"] == len(data)
    assert wheel["hashes"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert "wheels" not in found["sdistonly"]
    sdist = found["sdistonly"]["sdist"]
    assert sdist["name"] == "sdistonly-1.0.tar.gz" and sdist["size"] > 0
    assert len(sdist["hashes"]["sha256"]) == 64
    # Deterministic: the same inputs give the same bytes.
    lock(tmp_path, index_server, *args)
    assert (tmp_path / "pylock.toml").read_text() == text


def test_pins_are_kept_unless_upgraded(tmp_path: Path) -> None:
    index = PackageIndex(tmp_path / "index")
    for version in ("1.0", "2.0"):
        index.add(WheelSpec("one", version))
        index.add(WheelSpec("two", version))
    index.write()
    with IndexServer(index) as server:
        lock(tmp_path, server, "one", "two")
        assert _versions(tmp_path) == {"one": "2.0", "two": "2.0"}
        lock(tmp_path, server, "one==1.0", "two==1.0")
        assert _versions(tmp_path) == {"one": "1.0", "two": "1.0"}
        # Loosened again: the lock's pins stay (pip-compile's rule).
        lock(tmp_path, server, "one", "two")
        assert _versions(tmp_path) == {"one": "1.0", "two": "1.0"}
        assert lock(tmp_path, server, "--check", "one", "two").returncode == 0
        lock(tmp_path, server, "-P", "two", "one", "two")
        assert _versions(tmp_path) == {"one": "1.0", "two": "2.0"}
        lock(tmp_path, server, "-U", "one", "two")
        assert _versions(tmp_path) == {"one": "2.0", "two": "2.0"}
        # --check: a lock that no longer matches its inputs exits 1 and says why.
        before = (tmp_path / "pylock.toml").read_bytes()
        result = lock(tmp_path, server, "--check", "one==1.0", "two", check=False)
        assert result.returncode == 1
        assert "one 1.0: would be added" in result.stderr
        assert "one 2.0: would be removed" in result.stderr
        assert (tmp_path / "pylock.toml").read_bytes() == before
        missing = lock(tmp_path, server, "--check", "-o", "pylock.other.toml", "one", check=False)
        assert missing.returncode == 1 and "does not exist" in missing.stderr


def _versions(folder: Path) -> dict[str, str]:
    return {p["name"]: p["version"] for p in read(folder / "pylock.toml")["packages"]}


def test_dependency_groups_get_markers(tmp_path: Path, index_server: IndexServer) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[dependency-groups]\ndev = ["gamma[fast]"]\ndocs = [{include-group = "dev"}, "zeta"]\n'
    )
    lock(tmp_path, index_server, "beta", "--group", "dev", "--group", "pyproject.toml:docs")
    table = read(tmp_path / "pylock.toml")
    assert table["dependency-groups"] == ["dev", "docs"]
    assert table["default-groups"] == ["dev", "docs"]
    found = packages(table)
    assert "marker" not in found["beta"] and "marker" not in found["alpha"]
    assert found["zeta"]["marker"] == '"docs" in dependency_groups'
    assert found["gamma"]["marker"] == '"dev" in dependency_groups or "docs" in dependency_groups'
    assert found["delta"]["marker"] == found["gamma"]["marker"]
    pylock = Pylock.from_dict(table)
    env = {"python_full_version": platform.python_version(), "sys_platform": sys.platform,
           "platform_machine": platform.machine(), "implementation_name": "cpython",
           "python_version": platform.python_version()[:4].rstrip(".")}  # fmt: skip
    chosen = {p.name for p, _ in pylock.select(environment=env, dependency_groups=[])}  # type: ignore[arg-type]
    assert chosen == {"alpha", "beta"}
    bad = lock(tmp_path, index_server, "beta", "--group", "nope", check=False)
    assert bad.returncode != 0 and "no dependency group 'nope'" in bad.stderr


def test_requirements_format_installs_with_require_hashes(
    tmp_path: Path, index_server: IndexServer
) -> None:
    out = tmp_path / "requirements.txt"
    lock(
        tmp_path, index_server, "--format", "requirements.txt", "--generate-hashes",
        "-o", str(out), "beta",
    )  # fmt: skip
    text = out.read_text()
    assert "alpha==1.1 \\\n    --hash=sha256:" in text
    assert "beta==1.0 \\\n    --hash=sha256:" in text
    python = make_venv(tmp_path / "venv")
    result = run_roost(
        "install", "--python", str(python), "-i", index_server.url, "--require-hashes",
        "-r", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    frozen = run_roost("freeze", "--python", str(python), check=True).stdout.split()
    assert frozen == ["alpha==1.1", "beta==1.0"]


def test_bad_output_name_and_oversized_lock_are_refused(
    tmp_path: Path, index_server: IndexServer
) -> None:
    bad = lock(tmp_path, index_server, "-o", "locked.toml", "beta", check=False)
    assert bad.returncode != 0 and "pylock.<name>.toml" in bad.stderr
    assert not (tmp_path / "locked.toml").exists()
    huge = tmp_path / "pylock.toml"
    with huge.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024 + 1)
    result = lock(tmp_path, index_server, "beta", check=False)
    assert result.returncode != 0 and "larger than 64 MiB" in result.stderr


@pytest.mark.parametrize("target", ["-", "file"])
def test_stdout_and_file_agree(tmp_path: Path, index_server: IndexServer, target: str) -> None:
    result = lock(tmp_path, index_server, "-o", "-", "beta")
    assert tomllib.loads(result.stdout)["packages"][1]["name"] == "beta"
    if target == "file":
        lock(tmp_path, index_server, "beta")
        assert (tmp_path / "pylock.toml").read_text() == result.stdout


def test_three_environments_lock_different_versions(tmp_path: Path) -> None:
    index = PackageIndex(tmp_path / "index")
    linux = "manylinux_2_17_x86_64.manylinux2014_x86_64"
    index.add(WheelSpec("native", "1.0", tag=f"cp311-cp311-{linux}", root_is_purelib=False))
    for python in ("cp312", "cp313"):
        spec = WheelSpec(
            "native", "2.0", tag=f"{python}-{python}-{linux}", root_is_purelib=False,
            requires=['new312; python_version >= "3.12"'],
        )  # fmt: skip
        index.add(spec)
    index.add(WheelSpec("new312", "1.0"))
    index.write()
    with IndexServer(index) as server:
        lock(
            tmp_path, server, "--platform", "manylinux2014_x86_64", "--python-version", "3.11",
            "--python-version", "3.12", "--python-version", "3.13", "native",
        )  # fmt: skip
    table = read(tmp_path / "pylock.toml")
    assert len(table["environments"]) == 3
    assert table["requires-python"] == "<3.14,>=3.11"
    e311, e312, e313 = table["environments"]
    assert 'python_version == "3.11"' in e311 and 'platform_machine == "x86_64"' in e311
    found = [(p["name"], p["version"], p.get("marker")) for p in table["packages"]]
    assert found == [
        ("native", "1.0", e311),
        ("native", "2.0", f"({e312}) or ({e313})"),
        ("new312", "1.0", f"({e312}) or ({e313})"),
    ]
    # Each version lists exactly the wheels that fit its environments.
    native2 = table["packages"][1]
    assert sorted(w["name"].split("-")[2] for w in native2["wheels"]) == ["cp312", "cp313"]
    pylock = Pylock.from_dict(table)
    env = {"python_full_version": "3.12.1", "python_version": "3.12", "sys_platform":
           "linux", "platform_machine": "x86_64", "implementation_name": "cpython"}  # fmt: skip
    from packaging.tags import Tag

    tags = [Tag("cp312", "cp312", "manylinux_2_17_x86_64"), Tag("py3", "none", "any")]
    chosen = {(p.name, str(p.version)) for p, _ in pylock.select(environment=env, tags=tags)}  # type: ignore[arg-type]
    assert chosen == {("native", "2.0"), ("new312", "1.0")}


def test_directory_and_git_sources(tmp_path: Path, index_server: IndexServer) -> None:
    in_tree_project(tmp_path / "work" / "proj", "proj", "0.3")
    repo = git_repository(tmp_path / "repo")
    tagged = git(repo, "rev-parse", "v1.0")
    work = tmp_path / "work"
    lock(work, index_server, "./proj", f"gitproj @ git+{repo.as_uri()}@v1.0")
    found = packages(read(work / "pylock.toml"))
    # A source tree's version can change under the lock: PEP 751 leaves it out.
    assert found["proj"] == {"name": "proj", "directory": {"path": "proj", "editable": False}}
    assert found["gitproj"]["version"] == "1.0"
    assert found["gitproj"]["vcs"] == {
        "type": "git", "url": repo.as_uri(), "requested-revision": "v1.0", "commit-id": tagged,
    }  # fmt: skip


def test_editable_directory_round_trip(tmp_path: Path, index_server: IndexServer) -> None:
    """``-e DIR``: a directory entry with ``editable = true``, installed editable again."""
    work = tmp_path / "work"
    project = in_tree_project(work / "edit", "editproj", "0.5")
    # PEP 660's hook: the in-tree backend's wheel stands in for an editable one.
    with (project / "backend.py").open("a") as backend:
        backend.write("\nbuild_editable = build_wheel\n")
    lock(work, index_server, "-e", "./edit", "beta")
    found = packages(read(work / "pylock.toml"))
    assert found["editproj"] == {
        "name": "editproj",
        "directory": {"path": "edit", "editable": True},
    }
    assert found["beta"]["version"] == "1.0"
    python = make_venv(tmp_path / "venv")
    run_roost("install", "--python", str(python), "-r", str(work / "pylock.toml"), check=True)
    frozen = run_roost("freeze", "--python", str(python), check=True).stdout.splitlines()
    assert "alpha==1.1" in frozen and "beta==1.0" in frozen
    [info] = (python.parent.parent).glob("lib/python*/site-packages/editproj-0.5.dist-info")
    assert json.loads((info / "direct_url.json").read_text()) == {
        "url": project.as_uri(), "dir_info": {"editable": True},
    }  # fmt: skip


def test_archive_sources_local_and_http(tmp_path: Path, index_server: IndexServer) -> None:
    """A local .tar.gz (a path relative to the lock) and an sdist by http URL that no
    index lists: ``archive`` tables with size and sha256, installed from the lock."""
    work = tmp_path / "work"
    local = make_sdist(in_tree_project(tmp_path / "a", "localarch", "1.0"), work / "dist",
                       "localarch", "1.0")  # fmt: skip
    index = PackageIndex(tmp_path / "web")
    index.write()
    remote = make_sdist(in_tree_project(tmp_path / "b", "webarch", "2.0"), index.dists_dir,
                        "webarch", "2.0")  # fmt: skip
    with IndexServer(index) as web:
        url = f"{web.root_url}/files/{remote.name}"
        lock(work, index_server, "./dist/localarch-1.0.tar.gz", f"webarch @ {url}")
        found = packages(read(work / "pylock.toml"))
        assert found["localarch"]["version"] == "1.0"
        assert found["localarch"]["archive"] == {
            "path": "dist/localarch-1.0.tar.gz",
            "size": local.stat().st_size,
            "hashes": {"sha256": hashlib.sha256(local.read_bytes()).hexdigest()},
        }
        assert found["webarch"]["archive"] == {
            "url": url,
            "size": remote.stat().st_size,
            "hashes": {"sha256": hashlib.sha256(remote.read_bytes()).hexdigest()},
        }
        python = make_venv(tmp_path / "venv")
        run_roost("install", "--python", str(python), "-r", str(work / "pylock.toml"), check=True)
    frozen = run_roost("freeze", "--python", str(python), check=True).stdout
    assert "localarch @ " in frozen and f"webarch @ {url}" in frozen


def test_upload_time_comes_from_the_index(tmp_path: Path) -> None:
    """PEP 700 times from the JSON pages, for wheels and sdists; none where the index
    gives none (the key is left out, as PEP 751 allows)."""
    import datetime

    from tests.support.wheels import build_sdist

    when = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    index = PackageIndex(tmp_path / "index")
    index.add(WheelSpec("dated", "1.0"), upload_time=when)
    index.add_file(build_sdist("dated", "1.0", tmp_path / "sdists"), upload_time=when)
    index.add(WheelSpec("undated", "1.0"))
    index.write()
    with IndexServer(index) as server:
        lock(tmp_path, server, "dated", "undated")
    found = packages(read(tmp_path / "pylock.toml"))
    assert found["dated"]["wheels"][0]["upload-time"] == when
    assert found["dated"]["sdist"]["upload-time"] == when
    assert "upload-time" not in found["undated"]["wheels"][0]
    text = (tmp_path / "pylock.toml").read_text()
    assert "upload-time = 2024-05-06 07:08:09+00:00" in text  # a TOML offset date-time, UTC
