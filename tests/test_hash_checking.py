"""Hash-checking mode (pip's rules) and the integrity of the wheel cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.envs import installed, make_venv, manifest, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer


def sha(index: PackageIndex, filename: str) -> str:
    return next(e.sha256 for e in index.entries if e.filename == filename)


def reqfile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    return path


def refused(venv: Path, *args: str) -> str:
    root = venv.parent.parent
    before = manifest(root)
    result = run_roost("install", "--python", str(venv), *args)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    assert manifest(root) == before
    return result.stderr


def test_hashes_that_match_install(
    tmp_path: Path, venv: Path, index_server: IndexServer, corpus_index: PackageIndex
) -> None:
    alpha = sha(corpus_index, "alpha-1.1-py3-none-any.whl")
    beta = sha(corpus_index, "beta-1.0-py3-none-any.whl")
    req = reqfile(
        tmp_path, f"beta==1.0 --hash=sha256:{beta}\nalpha==1.1 \\\n  --hash=sha256:{alpha}\n"
    )
    result = run_roost("install", "--python", str(venv), "-i", index_server.url, "-r", str(req))
    assert result.returncode == 0, result.stderr
    assert installed(venv) == {"alpha": "1.1", "beta": "1.0"}


def test_wrong_hash_shows_expected_and_actual(
    tmp_path: Path, venv: Path, index_server: IndexServer, corpus_index: PackageIndex
) -> None:
    actual = sha(corpus_index, "delta-1.0-py3-none-any.whl")
    req = reqfile(tmp_path, f"delta==1.0 --hash=sha256:{'0' * 64}\n")
    err = refused(venv, "-i", index_server.url, "-r", str(req))
    assert "delta-1.0-py3-none-any.whl does not match any --hash" in err
    assert f"expected sha256:{'0' * 64}" in err
    assert f"got sha256:{actual}" in err


def test_dependency_without_hash_is_refused_with_its_hash(
    tmp_path: Path, venv: Path, index_server: IndexServer, corpus_index: PackageIndex
) -> None:
    beta = sha(corpus_index, "beta-1.0-py3-none-any.whl")
    alpha = sha(corpus_index, "alpha-1.1-py3-none-any.whl")
    req = reqfile(tmp_path, f"beta==1.0 --hash=sha256:{beta}\n")
    err = refused(venv, "-i", index_server.url, "-r", str(req))
    assert "needs a --hash for every distribution" in err
    assert f"alpha==1.1 --hash=sha256:{alpha}" in err


def test_unpinned_requirement_is_refused(
    tmp_path: Path, venv: Path, index_server: IndexServer, corpus_index: PackageIndex
) -> None:
    delta = sha(corpus_index, "delta-1.0-py3-none-any.whl")
    req = reqfile(tmp_path, f"delta>=1.0 --hash=sha256:{delta}\n")
    err = refused(venv, "-i", index_server.url, "-r", str(req))
    assert "pinned to one version with ==" in err
    assert "delta>=1.0" in err


def test_require_hashes_flag_without_hashes(venv: Path, index_server: IndexServer) -> None:
    err = refused(venv, "-i", index_server.url, "--require-hashes", "delta==1.0")
    assert "delta==1.0 --hash=sha256:" in err


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha224"])
def test_weak_hash_algorithms_are_refused(
    tmp_path: Path, venv: Path, index_server: IndexServer, algorithm: str
) -> None:
    req = reqfile(tmp_path, f"delta==1.0 --hash={algorithm}:abcdef\n")
    err = refused(venv, "-i", index_server.url, "-r", str(req))
    assert algorithm in err
    assert "sha256" in err


@pytest.mark.parametrize("damage", ["truncate", "corrupt"])
def test_damaged_cache_entry_is_evicted_and_fetched_again(
    tmp_path: Path, corpus_index: PackageIndex, damage: str
) -> None:
    cache = tmp_path / "cache"
    with IndexServer(corpus_index) as server:
        first = make_venv(tmp_path / "first")
        args = ["-i", server.url, "--cache-dir", str(cache), "delta"]
        assert run_roost("install", "--python", str(first), *args).returncode == 0
        (entry,) = cache.glob("wheels/*/*/delta-1.0-py3-none-any.whl")
        data = entry.read_bytes()
        entry.write_bytes(data[:100] if damage == "truncate" else data[:-3] + b"xyz")
        # Without its unpacked copy, which would spare reading the wheel at all.
        shutil.rmtree(cache / "unpacked")
        second = make_venv(tmp_path / "second")
        result = run_roost("install", "--python", str(second), *args)
        assert result.returncode == 0, result.stderr
        assert "cached delta-1.0-py3-none-any.whl is corrupt" in result.stderr
        assert len(server.requests_for("/files/delta-1.0-py3-none-any.whl")) == 2
        assert entry.read_bytes() == data
        # A third run is served from the (repaired) cache.
        third = make_venv(tmp_path / "third")
        shutil.rmtree(cache / "unpacked")
        assert run_roost("install", "--python", str(third), *args).returncode == 0
        assert len(server.requests_for("/files/delta-1.0-py3-none-any.whl")) == 2
    assert installed(second) == {"delta": "1.0"}


def test_cache_entry_forged_with_its_stamp_is_caught_and_refetched(
    tmp_path: Path, corpus_index: PackageIndex
) -> None:
    import hashlib

    cache = tmp_path / "cache"
    good = sha(corpus_index, "delta-1.0-py3-none-any.whl")
    req = reqfile(tmp_path, f"delta==1.0 --hash=sha256:{good}\n")
    with IndexServer(corpus_index) as server:
        args = ["-i", server.url, "--cache-dir", str(cache), "-r", str(req)]
        first = make_venv(tmp_path / "first")
        assert run_roost("install", "--python", str(first), *args).returncode == 0
        (entry,) = cache.glob("wheels/*/*/delta-1.0-py3-none-any.whl")
        forged = entry.read_bytes() + b"\0"
        entry.write_bytes(forged)
        stamp = entry.with_name(entry.name + ".sha256")
        stamp.write_text(hashlib.sha256(forged).hexdigest() + "\n")
        shutil.rmtree(cache / "unpacked")  # else the wheel is not read at all
        second = make_venv(tmp_path / "second")
        result = run_roost("install", "--python", str(second), *args)
        assert result.returncode == 0, result.stderr
        # The index's hash or the --hash catches it, whichever is checked first.
        assert "cached delta-1.0-py3-none-any.whl" in result.stderr
        assert "corrupt" in result.stderr or "does not match its --hash" in result.stderr
        assert len(server.requests_for("/files/delta-1.0-py3-none-any.whl")) == 2


def test_unwritable_cache_only_warns(
    tmp_path: Path, venv: Path, index_server: IndexServer
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "wheels").write_text("not a directory")
    result = run_roost(
        "install",
        "--python",
        str(venv),
        "-i",
        index_server.url,
        "--cache-dir",
        str(cache),
        "delta",
    )
    assert result.returncode == 0, result.stderr
    assert "cannot write to the cache" in result.stderr
    assert installed(venv) == {"delta": "1.0"}
