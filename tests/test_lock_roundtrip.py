"""Round trips: ``roost lock``, then ``roost sync`` into a fresh venv, then ``roost
freeze`` says what the lock says, for every kind of source a lock holds (index wheels,
an index sdist, a directory, an archive, a git commit); and one lock for three pyenv
interpreters that installs on each and refuses a fourth it does not cover.

Every backend here is in the tree of its project, so nothing is fetched to build."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.envs import installed, make_venv, manifest, need_pyenv, run_roost
from tests.support.index import PackageIndex
from tests.support.projects import git, git_repository, in_tree_project, make_sdist
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

LINUX = "manylinux_2_17_x86_64.manylinux2014_x86_64"


def read(path: Path) -> dict[str, Any]:
    with path.open("rb") as file:
        table: dict[str, Any] = tomllib.load(file)
    return table


def freeze(python: Path) -> dict[str, str]:
    """``{name: what follows it}``: ``==1.0`` for index installs, `` @ URL`` else."""
    lines = run_roost("freeze", "--python", str(python), check=True).stdout.splitlines()
    found = {}
    for line in lines:
        name, sep, rest = line.partition("==") if "==" in line else line.partition(" @ ")
        assert sep, line
        found[name.strip().lower()] = rest.strip()
    return found


def test_every_source_kind_round_trips(tmp_path: Path) -> None:
    index = PackageIndex(tmp_path / "index")
    index.add(WheelSpec("rt-app", "1.0", requires=["rt-dep>=2"]))
    for version in ("1.0", "2.0", "2.1"):
        index.add(WheelSpec("rt-dep", version))
    index.add_file(make_sdist(in_tree_project(tmp_path / "s", "rtsdist", "3.0"),
                              tmp_path / "sdists", "rtsdist", "3.0"))  # fmt: skip
    index.write()
    work = tmp_path / "work"
    in_tree_project(work / "dirproj", "dirproj", "0.1")
    archive = make_sdist(
        in_tree_project(tmp_path / "a", "archproj", "0.2"), work, "archproj", "0.2"
    )
    repo = git_repository(tmp_path / "repo")
    commit = git(repo, "rev-parse", "v1.0")
    with IndexServer(index) as server:
        run_roost(
            "lock", "--python", sys.executable, "-i", server.url, "rt-app", "rtsdist",
            "./dirproj", f"./{archive.name}", f"gitproj @ git+{repo.as_uri()}@v1.0",
            cwd=work, check=True,
        )  # fmt: skip
        table = read(work / "pylock.toml")
        python = make_venv(tmp_path / "venv")
        # From another folder: the lock's relative paths are the lock's, not the cwd's.
        run_roost("sync", "--python", str(python), str(work / "pylock.toml"), cwd=tmp_path,
                  check=True)  # fmt: skip
    frozen = freeze(python)
    by_name = {p["name"]: p for p in table["packages"]}
    assert set(frozen) == set(by_name)
    for name in ("rt-app", "rt-dep", "rtsdist"):
        assert frozen[name] == by_name[name]["version"], name
    assert frozen["rt-dep"] == "2.1"
    assert by_name["rtsdist"]["sdist"]["name"] == "rtsdist-3.0.tar.gz"
    assert frozen["dirproj"] == (work / "dirproj").as_uri()
    assert by_name["dirproj"]["directory"]["path"] == "dirproj"
    assert frozen["archproj"].startswith(archive.as_uri())
    assert by_name["archproj"]["archive"]["size"] == archive.stat().st_size
    assert frozen["gitproj"] == f"git+{repo.as_uri()}@{commit}"
    assert by_name["gitproj"]["vcs"]["commit-id"] == commit
    # A second sync keeps everything but the directory, whose files may have changed
    # (built again, as pip builds a directory every time).
    again = run_roost("sync", "--python", str(python), "--dry-run", str(work / "pylock.toml"))
    assert again.returncode == 1, again.stdout + again.stderr
    assert [line for line in again.stdout.splitlines() if line.startswith("Would")] == [
        "Would install dirproj-0.1"
    ]


def test_one_lock_for_three_interpreters_refuses_a_fourth(tmp_path: Path) -> None:
    """Locked for 3.10, 3.11 and 3.12 on linux x86_64: each pyenv interpreter gets its
    own native wheel; 3.13 is refused, naming the environments the lock covers."""
    index = PackageIndex(tmp_path / "index")
    for python in ("cp310", "cp311", "cp312"):
        index.add(WheelSpec("rt-native", "1.0", tag=f"{python}-{python}-{LINUX}",
                            root_is_purelib=False))  # fmt: skip
    index.add(WheelSpec("rt-back", "1.0", requires=['rt-old; python_version < "3.11"']))
    index.add(WheelSpec("rt-old", "1.0"))
    index.write()
    interpreters = {v: need_pyenv(v) for v in ("3.10", "3.11", "3.12", "3.13")}
    lock = tmp_path / "pylock.toml"
    with IndexServer(index) as server:
        run_roost(
            "lock", "-i", server.url, "-o", str(lock), "--platform", "manylinux2014_x86_64",
            "--python-version", "3.10", "--python-version", "3.11", "--python-version", "3.12",
            "rt-native", "rt-back", cwd=tmp_path, check=True,
        )  # fmt: skip
        table = read(lock)
        assert len(table["environments"]) == 3
        for version in ("3.10", "3.11", "3.12"):
            python = make_venv(tmp_path / f"venv{version}", interpreters[version])
            run_roost("sync", "--python", str(python), str(lock), check=True)
            got = installed(python)
            expected = {"rt-native": "1.0", "rt-back": "1.0"}
            if version == "3.10":
                expected["rt-old"] = "1.0"
            assert got == expected, version
            assert _wheel_tag(python) == f"cp{version.replace('.', '')}"
        fourth = make_venv(tmp_path / "venv3.13", interpreters["3.13"])
        refused = run_roost("sync", "--python", str(fourth), str(lock))
        # Inside requires-python but outside the environments: refused by those.
        gap = tmp_path / "gap" / "pylock.toml"
        gap.parent.mkdir()
        run_roost(
            "lock", "-i", server.url, "-o", str(gap), "--platform", "manylinux2014_x86_64",
            "--python-version", "3.10", "--python-version", "3.12", "rt-native", check=True,
        )  # fmt: skip
        middle = make_venv(tmp_path / "middle", interpreters["3.11"])
        outside = run_roost("sync", "--python", str(middle), str(gap))
    assert outside.returncode == 1, outside.stdout + outside.stderr
    assert 'python_version == "3.10"' in outside.stderr
    assert 'python_version == "3.12"' in outside.stderr
    assert installed(middle) == {}
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "does not fit" in refused.stderr and "3.13.0" in refused.stderr
    assert "'<3.13,>=3.10'" in refused.stderr
    assert installed(fourth) == {}


def _wheel_tag(python: Path) -> str:
    """The interpreter tag in the WHEEL file of rt-native in *python*'s venv."""
    wheel = next(python.parent.parent.glob("lib/python*/site-packages/rt_native-*/WHEEL"))
    tag = next(line for line in wheel.read_text().splitlines() if line.startswith("Tag:"))
    return tag.split()[1].split("-")[0]


@pytest.mark.parametrize("kind", ["hash", "size"])
def test_a_tampered_lock_leaves_the_environment_as_it_was(
    tmp_path: Path, kind: str, env: dict[str, str]
) -> None:
    """A lock roost wrote, then edited: sync refuses it before changing anything, also
    when the store already holds the locked wheel unpacked (one cache for every run)."""
    index = PackageIndex(tmp_path / "index")
    index.add(WheelSpec("rt-a", "1.0"))
    index.add(WheelSpec("rt-a", "2.0"))
    index.write()
    with IndexServer(index) as server:
        python = make_venv(tmp_path / "venv")
        run_roost(
            "install", "--python", str(python), "-i", server.url, "rt-a==1.0", env=env,
            check=True,
        )  # fmt: skip
        warm = make_venv(tmp_path / "warm")
        run_roost("install", "--python", str(warm), "-i", server.url, "rt-a==2.0", env=env,
                  check=True)  # fmt: skip
        before = manifest(python.parent.parent)
        run_roost("lock", "--python", str(python), "-i", server.url, "rt-a==2.0",
                  cwd=tmp_path, env=env, check=True)  # fmt: skip
        lock = tmp_path / "pylock.toml"
        text = lock.read_text()
        wheel = read(lock)["packages"][0]["wheels"][0]
        if kind == "hash":
            text = text.replace(wheel["hashes"]["sha256"], "0" * 64)
        else:
            text = text.replace(f"size = {wheel['size']}", f"size = {wheel['size'] + 1}")
        lock.write_text(text)
        refused = run_roost("sync", "--python", str(python), str(lock), env=env)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert ("bytes, not the" if kind == "size" else "sha256") in refused.stderr
    assert installed(python) == {"rt-a": "1.0"}
    assert manifest(python.parent.parent) == before
