"""``roost lock``: PEP 751 locks of the standard corpus from a loopback index, checked
by :mod:`packaging.pylock`; kept pins, ``-P``, ``--check``, dependency groups, and the
requirements-file format installed with ``--require-hashes``."""

from __future__ import annotations

import hashlib
import platform
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.pylock import Pylock

from tests.support.envs import make_venv, run_roost
from tests.support.index import PackageIndex
from tests.support.projects import git, git_repository, in_tree_project
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
