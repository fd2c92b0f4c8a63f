"""``roost install -r pylock.toml``: exactly the locked files, checked against the lock's
hashes and sizes, never resolved again; each source kind, the spec's selection rules
(environments, requires-python, markers, extras, groups), and tampering refused with
the environment byte-identical.

Locks are written here by hand (as TOML, through tomli-w): ``roost lock`` is tested
with its own command.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.support.envs import installed, make_venv, manifest, run_roost
from tests.support.index import PackageIndex
from tests.support.projects import git, in_tree_project, make_sdist
from tests.support.server import Fault, IndexServer
from tests.support.wheels import WheelSpec

PY = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(scope="module")
def lock_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """A small index: wheels of two versions, a dependency, an sdist-only project, a
    wheel tagged for nowhere with and without an sdist."""
    root = tmp_path_factory.mktemp("lock-index")
    index = PackageIndex(root / "index")
    for version in ("1.0", "2.0"):
        index.add(WheelSpec("alpha", version))
    index.add(WheelSpec("beta", "1.0", requires=["alpha"]))
    index.add(WheelSpec("gamma", "1.0"))
    index.add(WheelSpec("delta", "1.0"))
    index.add(WheelSpec("nowhere", "1.0", tag="cp27-cp27mu-linux_armv6l"))
    project = in_tree_project(root / "srconly", "srconly", "1.0")
    index.add_file(make_sdist(project, root / "dist", "srconly", "1.0"))
    index.write()
    with IndexServer(index) as server:
        yield server


def file_entry(server: IndexServer, filename: str, **changes: Any) -> dict[str, Any]:
    """A lock's wheel or sdist entry for *filename* as the index serves it."""
    entry = next(e for e in server.index.entries if e.filename == filename)
    found: dict[str, Any] = {
        "name": filename,
        "url": f"{server.root_url}/files/{filename}",
        "size": entry.size,
        "hashes": {"sha256": entry.sha256},
    }
    found.update(changes)
    return found


def wheel_package(server: IndexServer, name: str, version: str, **extra: Any) -> dict[str, Any]:
    filename = f"{name}-{version}-py3-none-any.whl"
    return {
        "name": name,
        "version": version,
        "index": server.url,
        "wheels": [file_entry(server, filename)],
        **extra,
    }


def write_lock(
    folder: Path, packages: list[dict[str, Any]], name: str = "pylock.toml", **top: Any
) -> Path:
    document: dict[str, Any] = {
        "lock-version": "1.0",
        "created-by": "tests",
        **top,
        "packages": packages,
    }
    path = folder / name
    path.write_text(tomli_w.dumps(document))
    return path


def sync_env(env: Mapping[str, str], tmp_path: Path) -> dict[str, str]:
    return {**env, "ROOST_BUILD_SANDBOX_WRITABLE": str(tmp_path)}


def install_lock(
    python: Path, lock: str | Path, env: Mapping[str, str], *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    # No index is configured: a lock install must not need one for wheels.
    return run_roost(
        "install", "--python", str(python), "-r", str(lock), *args, env=dict(env), check=check
    )


def direct_url(python: Path, name: str) -> dict[str, Any] | None:
    found = list(python.parent.parent.glob(f"lib/python*/site-packages/{name}-*.dist-info"))
    assert len(found) == 1, found
    path = found[0] / "direct_url.json"
    return json.loads(path.read_text()) if path.exists() else None


def test_index_wheels_install_exactly_the_lock(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    # alpha 1.0 (not the newest) with beta: a resolver would take alpha 2.0.
    lock = write_lock(
        tmp_path,
        [wheel_package(lock_index, "alpha", "1.0"), wheel_package(lock_index, "beta", "1.0")],
    )
    python = make_venv(tmp_path / "venv")
    result = install_lock(python, lock, env)
    assert "Successfully installed alpha-1.0 beta-1.0" in result.stdout
    got = installed(python, env)
    assert got["alpha"] == "1.0" and got["beta"] == "1.0"
    # Index installs: no direct_url.json, so freeze prints name==version.
    assert direct_url(python, "alpha") is None
    freeze = run_roost("freeze", "--python", str(python), env=env, check=True).stdout
    assert "alpha==1.0" in freeze.splitlines()
    # Installed already at the locked versions: nothing to do, nothing fetched.
    again = install_lock(python, lock, env)
    assert "Successfully installed" not in again.stdout
    assert "Requirement already satisfied: alpha==1.0" in again.stdout


def test_other_version_installed_is_replaced(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    newer = write_lock(tmp_path, [wheel_package(lock_index, "alpha", "2.0")], "pylock.new.toml")
    install_lock(python, newer, env)
    older = write_lock(tmp_path, [wheel_package(lock_index, "alpha", "1.0")])
    result = install_lock(python, older, env)
    assert "Successfully uninstalled alpha-2.0" in result.stdout
    assert installed(python, env)["alpha"] == "1.0"


def test_sdist_is_built(tmp_path: Path, lock_index: IndexServer, env: dict[str, str]) -> None:
    package = {
        "name": "srconly",
        "version": "1.0",
        "index": lock_index.url,
        "sdist": file_entry(lock_index, "srconly-1.0.tar.gz"),
    }
    lock = write_lock(tmp_path, [package])
    python = make_venv(tmp_path / "venv")
    # The in-tree backend needs nothing from an index.
    install_lock(python, lock, sync_env(env, tmp_path))
    assert installed(python, env)["srconly"] == "1.0"
    assert direct_url(python, "srconly") is None


def test_no_wheel_for_the_target_names_the_package(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    package = {
        "name": "nowhere",
        "version": "1.0",
        "wheels": [file_entry(lock_index, "nowhere-1.0-cp27-cp27mu-linux_armv6l.whl")],
    }
    lock = write_lock(tmp_path, [wheel_package(lock_index, "alpha", "1.0"), package])
    python = make_venv(tmp_path / "venv")
    before = manifest(python.parent.parent)
    result = install_lock(python, lock, env, check=False)
    assert result.returncode != 0
    assert "'nowhere'" in result.stderr
    assert "cp27-cp27mu-linux_armv6l" in result.stderr
    assert "best tag is" in result.stderr
    assert manifest(python.parent.parent) == before


def test_environments_for_other_interpreters_refused(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    lock = write_lock(
        tmp_path,
        [wheel_package(lock_index, "alpha", "1.0")],
        environments=['python_version == "2.7"', 'python_version == "3.5"'],
    )
    python = make_venv(tmp_path / "venv")
    before = manifest(python.parent.parent)
    result = install_lock(python, lock, env, check=False)
    assert result.returncode == 1
    assert "does not fit" in result.stderr
    assert 'python_version == "2.7"' in result.stderr
    assert str(lock) in result.stderr
    assert manifest(python.parent.parent) == before


def test_requires_python_refused(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    lock = write_lock(
        tmp_path, [wheel_package(lock_index, "alpha", "1.0")], **{"requires-python": "<3"}
    )
    python = make_venv(tmp_path / "venv")
    result = install_lock(python, lock, env, check=False)
    assert result.returncode == 1
    assert "'<3'" in result.stderr and "does not fit" in result.stderr


def test_markers_extras_and_groups(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    packages = [
        wheel_package(lock_index, "alpha", "1.0"),
        wheel_package(lock_index, "beta", "1.0", marker="'fast' in extras"),
        wheel_package(lock_index, "gamma", "1.0", marker="'dev' in dependency_groups"),
        wheel_package(lock_index, "delta", "1.0", marker='python_version < "3"'),
    ]
    top = {"extras": ["fast"], "dependency-groups": ["dev"], "default-groups": []}
    lock = write_lock(tmp_path, packages, **top)
    python = make_venv(tmp_path / "venv")
    install_lock(python, lock, env)
    assert set(installed(python, env)) >= {"alpha"}
    assert not {"beta", "gamma", "delta"} & set(installed(python, env))
    install_lock(python, f"{lock}[fast]", env)
    assert "beta" in installed(python, env) and "gamma" not in installed(python, env)
    bad = install_lock(python, f"{lock}[slow]", env, check=False)
    assert bad.returncode == 1 and "declares no extra slow" in bad.stderr


def test_groups_of_a_lock_through_the_group_option(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    """``--group LOCK:GROUP`` (pip's spelling) selects the lock's groups, with or
    without ``-r LOCK``; a lock beside anything to resolve is refused, nothing changed."""
    packages = [
        wheel_package(lock_index, "alpha", "1.0"),
        wheel_package(lock_index, "gamma", "1.0", marker="'dev' in dependency_groups"),
    ]
    lock = write_lock(tmp_path, packages, **{"dependency-groups": ["dev"]})
    python = make_venv(tmp_path / "venv")
    install_lock(python, lock, env)
    assert "gamma" not in installed(python, env)
    run_roost("install", "--python", str(python), "--group", f"{lock}:dev", env=env, check=True)
    assert installed(python, env).get("gamma") == "1.0"

    other = make_venv(tmp_path / "other")
    install_lock(other, lock, env, "--group", f"{lock}:dev")
    assert installed(other, env).get("gamma") == "1.0"
    before = installed(other, env)
    (tmp_path / "pyproject.toml").write_text('[dependency-groups]\ndev = ["delta"]\n')
    script = tmp_path / "tool.py"
    script.write_text('# /// script\n# dependencies = ["delta"]\n# ///\n')
    for extra in (
        ["delta"],
        ["--group", f"{tmp_path / 'pyproject.toml'}:dev"],
        ["--requirements-from-script", str(script)],
    ):
        mixed = install_lock(other, lock, env, *extra, check=False)
        assert mixed.returncode == 2, mixed.stderr
        assert "installs exactly what the lock file names" in mixed.stderr
    assert installed(other, env) == before
    unknown = install_lock(other, lock, env, "--group", f"{lock}:docs", check=False)
    assert unknown.returncode == 1 and "docs" in unknown.stderr


@pytest.mark.parametrize("tamper", ["hash", "size", "url"])
def test_tampering_refused_environment_unchanged(
    tamper: str, tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    install_lock(python, write_lock(tmp_path, [wheel_package(lock_index, "gamma", "1.0")]), env)
    package = wheel_package(lock_index, "alpha", "1.0")
    wheel = package["wheels"][0]
    if tamper == "hash":
        wheel["hashes"] = {"sha256": hashlib.sha256(b"other").hexdigest()}
    elif tamper == "size":
        wheel["size"] += 1
    else:
        # The URL serves other bytes (another version's wheel) under the locked name.
        wheel["url"] = f"{lock_index.root_url}/files/alpha-2.0-py3-none-any.whl"
    lock = write_lock(tmp_path, [package, wheel_package(lock_index, "delta", "1.0")])
    before = manifest(python.parent.parent)
    result = install_lock(python, lock, env, check=False)
    assert result.returncode != 0
    assert "alpha" in result.stderr
    if tamper == "size":
        assert "bytes the lock file says" in result.stderr
    else:
        assert "hash" in result.stderr.lower()
    assert manifest(python.parent.parent) == before
    assert "alpha" not in installed(python, env)


def test_invalid_and_unknown_version_locks(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    broken = tmp_path / "pylock.broken.toml"
    broken.write_text('lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nversion = "1"\n')
    result = install_lock(python, broken, env, check=False)
    assert result.returncode == 1
    assert f"{broken} is not a valid pylock.toml" in result.stderr
    future = write_lock(tmp_path, [wheel_package(lock_index, "alpha", "1.0")], "pylock.v2.toml")
    future.write_text(future.read_text().replace('"1.0"', '"2.0"', 1))
    result = install_lock(python, future, env, check=False)
    assert result.returncode == 1 and "lock-version 2.0" in result.stderr
    newer = write_lock(tmp_path, [wheel_package(lock_index, "alpha", "1.0")], "pylock.v11.toml")
    newer.write_text(newer.read_text().replace('"1.0"', '"1.1"', 1))
    result = install_lock(python, newer, env)
    assert "lock-version 1.1, newer" in result.stderr
    assert installed(python, env)["alpha"] == "1.0"
    mixed = install_lock(python, newer, env, "gamma", check=False)
    assert mixed.returncode == 2 and "give it alone" in mixed.stderr


def test_direct_sources(tmp_path: Path, lock_index: IndexServer, env: dict[str, str]) -> None:
    """A directory (relative to the lock, editable), an archive and a git commit."""
    (tmp_path / "lockdir").mkdir()
    local = in_tree_project(tmp_path / "lockdir" / "localproj", "localproj", "1.0")
    # PEP 660's hook: the in-tree backend's wheel stands in for an editable one.
    with (local / "backend.py").open("a") as backend:
        backend.write("\nbuild_editable = build_wheel\n")
    archive_project = in_tree_project(tmp_path / "arch", "archproj", "2.0")
    archive = make_sdist(archive_project, tmp_path / "dist", "archproj", "2.0")
    repo = in_tree_project(tmp_path / "repo", "vcsproj", "3.0")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one")
    commit = git(repo, "rev-parse", "HEAD").strip()
    packages = [
        {
            "name": "localproj",
            "version": "1.0",
            "directory": {"path": "localproj", "editable": True},
        },
        {
            "name": "archproj",
            "version": "2.0",
            "archive": {
                "path": str(archive),
                "size": archive.stat().st_size,
                "hashes": {"sha256": hashlib.sha256(archive.read_bytes()).hexdigest()},
            },
        },
        {
            "name": "vcsproj",
            "version": "3.0",
            "vcs": {"type": "git", "url": repo.as_uri(), "commit-id": commit},
        },
    ]
    lock = write_lock(tmp_path / "lockdir", packages)
    python = make_venv(tmp_path / "venv")
    install_lock(python, lock, sync_env(env, tmp_path))
    got = installed(python, env)
    assert got["localproj"] == "1.0" and got["archproj"] == "2.0" and got["vcsproj"] == "3.0"
    local_url = direct_url(python, "localproj")
    assert local_url is not None and local_url["dir_info"] == {"editable": True}
    assert local_url["url"] == local.as_uri()
    archive_url = direct_url(python, "archproj")
    assert archive_url is not None and "archive_info" in archive_url
    vcs_url = direct_url(python, "vcsproj")
    assert vcs_url is not None and vcs_url["vcs_info"]["commit_id"] == commit
    # The same sources again: kept (the commit, the archive's hash, the editable).
    again = install_lock(python, lock, sync_env(env, tmp_path))
    assert "Successfully installed" not in again.stdout


def srconly_lock(
    folder: Path, server: IndexServer, name: str = "pylock.toml", **sdist: Any
) -> Path:
    entry = {**file_entry(server, "srconly-1.0.tar.gz"), **sdist}
    package = {"name": "srconly", "version": "1.0", "index": server.url, "sdist": entry}
    return write_lock(folder, [package], name)


def test_a_locked_sdist_built_before_is_neither_fetched_nor_built_again(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    """The built-wheel cache holds the wheel built from the sdist of the sha256 the lock
    names: installing and syncing that lock again (other venvs, the same cache) take it,
    without running the backend or fetching the sdist (its URL now fails, and roost's
    copy of the file is gone from the cache)."""
    lock = srconly_lock(tmp_path, lock_index)
    cache = tmp_path / "cache"
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "built.log"
    building = {**sync_env(env, logs), "INTREE_BUILD_LOG": str(log)}
    install_lock(make_venv(tmp_path / "first"), lock, building, "--cache-dir", str(cache))
    assert log.read_text().split() == ["srconly"]
    shutil.rmtree(cache / "wheels")  # the downloaded sdist, not the wheel built from it
    lock_index.set_fault("/files/srconly-1.0.tar.gz", Fault(status=404, times=None))
    try:
        second = make_venv(tmp_path / "second")
        result = install_lock(second, lock, building, "--cache-dir", str(cache))
        assert "Successfully installed srconly-1.0" in result.stdout
        third = make_venv(tmp_path / "third")
        run_roost(
            "sync", "--python", str(third), "--cache-dir", str(cache), str(lock),
            env=building, check=True,
        )  # fmt: skip
    finally:
        lock_index.clear_faults()
    assert installed(second, env)["srconly"] == "1.0"
    assert installed(third, env)["srconly"] == "1.0"
    assert log.read_text().split() == ["srconly"], "the backend ran again"


def test_a_lock_whose_sdist_hash_differs_does_not_take_the_wheel_built_before(
    tmp_path: Path, lock_index: IndexServer, env: dict[str, str]
) -> None:
    """A lock naming another sha256 for the same sdist URL gets no wheel built from other
    bytes: the sdist is fetched, its hash refused, nothing built or installed."""
    cache = tmp_path / "cache"
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "built.log"
    building = {**sync_env(env, logs), "INTREE_BUILD_LOG": str(log)}
    good = srconly_lock(tmp_path, lock_index)
    install_lock(make_venv(tmp_path / "first"), good, building, "--cache-dir", str(cache))
    assert log.read_text().split() == ["srconly"]
    other = srconly_lock(tmp_path, lock_index, "pylock.other.toml", hashes={"sha256": "0" * 64})
    python = make_venv(tmp_path / "second")
    before = manifest(python.parent.parent)
    result = install_lock(python, other, building, "--cache-dir", str(cache), check=False)
    assert result.returncode != 0
    assert "srconly-1.0.tar.gz" in result.stderr and "0" * 64 in result.stderr
    assert manifest(python.parent.parent) == before
    assert log.read_text().split() == ["srconly"]
