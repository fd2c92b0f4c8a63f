"""``roost lock`` with install's resolution options: the upload cut-off (a lock that
stays the same when newer files appear), pre-release choices, ``--ignore-requires-python``,
``--only-deps``, hash-checking of the inputs, the binary options; and the candidate
filters (built-in and a plugin's) holding for every file a lock lists, not only the
file the resolver chose."""

from __future__ import annotations

import datetime
import hashlib
import sys
from pathlib import Path
from typing import Any

from tests.support.envs import plugin_env, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec, build_sdist
from tests.test_lock import lock, packages, read

UTC = datetime.timezone.utc
#: A wheel tag of the tests' own interpreter: it ranks above py3-none-any.
OWN_TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}-none-any"
EARLY = datetime.datetime(2024, 1, 1, tzinfo=UTC)
LATER = datetime.datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
NEWEST = datetime.datetime(2025, 6, 1, tzinfo=UTC)


def timed_index(root: Path) -> PackageIndex:
    """``timed`` 1.0 (a py3 wheel of 2024, a better-fitting wheel of 2025 and an sdist of
    2024) and 2.0 (2025)."""
    index = PackageIndex(root)
    index.add(WheelSpec("timed", "1.0"), upload_time=EARLY)
    index.add(WheelSpec("timed", "1.0", tag=OWN_TAG), upload_time=LATER)
    index.add_file(build_sdist("timed", "1.0", root / "sdists"), upload_time=EARLY)
    index.add(WheelSpec("timed", "2.0"), upload_time=NEWEST)
    index.write()
    return index


def wheel_names(package: dict[str, Any]) -> list[str]:
    return sorted(wheel["name"] for wheel in package.get("wheels", []))


def test_upload_cutoff_holds_for_every_file_and_keeps_the_lock(tmp_path: Path) -> None:
    index = timed_index(tmp_path / "index")
    with IndexServer(index) as server:
        lock(tmp_path, server, "timed")
        found = packages(read(tmp_path / "pylock.toml"))["timed"]
        assert found["version"] == "2.0"
        # PEP 700 upload times, from the index's JSON pages, written as TOML datetimes.
        [wheel] = found["wheels"]
        assert wheel["upload-time"] == NEWEST

        lock(tmp_path, server, "-U", "--exclude-newer", "2025-01-01", "timed")
        first = (
            (tmp_path / "pylock.toml").read_text().replace(server.url.rsplit("/", 1)[0], "INDEX")
        )
        found = packages(read(tmp_path / "pylock.toml"))["timed"]
        assert found["version"] == "1.0"
        # The 2025 wheel of 1.0 fits better, but the cut-off excludes it: not listed.
        assert wheel_names(found) == ["timed-1.0-py3-none-any.whl"]
        assert found["wheels"][0]["upload-time"] == EARLY
        assert found["sdist"]["upload-time"] == EARLY
        # pip's spelling, the same moment: the same lock.
        lock(tmp_path, server, "-U", "--uploaded-prior-to", "2025-01-01T00:00:00+00:00", "timed")
        assert (tmp_path / "pylock.toml").read_text().replace(
            server.url.rsplit("/", 1)[0], "INDEX"
        ) == first

    # Newer uploads later on do not change a lock made with the same cut-off.
    index.add(WheelSpec("timed", "1.0", tag="py2.py3-none-any"), upload_time=NEWEST)
    index.add(WheelSpec("timed", "3.0"), upload_time=NEWEST)
    index.write()
    with IndexServer(index) as server:
        # (A new server, a new port: the lock's URLs name it.)
        lock(tmp_path, server, "-U", "--exclude-newer", "2025-01-01", "timed")
        assert (tmp_path / "pylock.toml").read_text().replace(
            server.url.rsplit("/", 1)[0], "INDEX"
        ) == first
        check = lock(tmp_path, server, "--check", "--exclude-newer", "2025-01-01", "timed")
        assert check.returncode == 0
        both = lock(
            tmp_path, server, "--exclude-newer", "2025-01-01", "--uploaded-prior-to", "P1D",
            "timed", check=False,
        )  # fmt: skip
        assert both.returncode == 2 and "give one of them" in both.stderr


def test_index_without_upload_times_is_a_clear_error(
    tmp_path: Path, index_server: IndexServer
) -> None:
    result = lock(tmp_path, index_server, "--exclude-newer", "2025-01-01", "beta", check=False)
    assert result.returncode == 1
    assert "needs upload times" in result.stderr and "PEP 700" in result.stderr
    assert not (tmp_path / "pylock.toml").exists()


FILTER_PLUGIN = """
import os

from roost import hookimpl
from roost.policy_types import Exclusion


@hookimpl
def roost_filter_candidates(project, candidates, options):
    banned = os.environ["BANNED_FILE"]
    return [
        Exclusion(filename=c.filename, reason="not on the allow-list")
        for c in candidates
        if c.filename == banned
    ]
"""


def test_a_plugins_filter_holds_for_every_file_listed(tmp_path: Path) -> None:
    index = timed_index(tmp_path / "index")
    banned = "timed-1.0-py3-none-any.whl"
    env = plugin_env(tmp_path, "lock_filter", FILTER_PLUGIN, BANNED_FILE=banned)
    with IndexServer(index) as server:
        lock(tmp_path, server, "timed==1.0")
        assert wheel_names(packages(read(tmp_path / "pylock.toml"))["timed"]) == [
            f"timed-1.0-{OWN_TAG}.whl", banned,
        ]  # fmt: skip
        # The resolver chose the other wheel anyway; the banned one must not be listed
        # for an installer to take.
        result = run_roost(
            "-p", "lock_filter", "lock", "--python", sys.executable, "-i", server.url,
            "-U", "timed==1.0", cwd=tmp_path, env=env, check=True,
        )  # fmt: skip
        assert result.returncode == 0
        found = packages(read(tmp_path / "pylock.toml"))["timed"]
        assert wheel_names(found) == [f"timed-1.0-{OWN_TAG}.whl"]
        assert found["sdist"]["name"] == "timed-1.0.tar.gz"


def test_binary_options_hold_for_every_file_listed(tmp_path: Path) -> None:
    index = timed_index(tmp_path / "index")
    with IndexServer(index) as server:
        lock(tmp_path, server, "--only-binary", ":all:", "timed==1.0")
        found = packages(read(tmp_path / "pylock.toml"))["timed"]
        assert "sdist" not in found and len(found["wheels"]) == 2
        # --no-binary: the sdist alone (built with the target's setuptools to learn its
        # metadata).
        lock(tmp_path, server, "-U", "--no-build-isolation", "--no-binary", "timed", "timed==1.0")
        found = packages(read(tmp_path / "pylock.toml"))["timed"]
        assert "wheels" not in found and found["sdist"]["name"] == "timed-1.0.tar.gz"
        # --prefer-binary: the older wheel over a newer sdist-only release.
        index.add_file(build_sdist("timed", "4.0", tmp_path / "sdists"), upload_time=NEWEST)
        index.write()
        lock(tmp_path, server, "-U", "--prefer-binary", "timed")
        assert packages(read(tmp_path / "pylock.toml"))["timed"]["version"] == "2.0"


def test_prerelease_choices(tmp_path: Path, index_server: IndexServer) -> None:
    def locked(*args: str) -> str:
        lock(tmp_path, index_server, "-U", *args)
        return str(packages(read(tmp_path / "pylock.toml"))["alpha"]["version"])

    assert locked("alpha") == "2.0"
    assert locked("--pre", "alpha") == "2.1rc1"
    assert locked("--all-releases", "alpha", "alpha") == "2.1rc1"
    assert locked("--all-releases", ":all:", "--only-final", "alpha", "alpha") == "2.0"
    refused = lock(tmp_path, index_server, "--only-final", "alpha", "alpha>=2.1rc1", check=False)
    assert refused.returncode == 1 and "--only-final" in refused.stderr
    both = lock(tmp_path, index_server, "--pre", "--only-final", ":all:", "alpha", check=False)
    assert both.returncode == 2


def test_ignore_requires_python(tmp_path: Path, index_server: IndexServer) -> None:
    # onlynew 1.0 needs Python >= 3.12.
    expected = "1.0" if sys.version_info >= (3, 12) else "0.9"
    lock(tmp_path, index_server, "onlynew")
    assert packages(read(tmp_path / "pylock.toml"))["onlynew"]["version"] == expected
    lock(tmp_path, index_server, "-U", "--ignore-requires-python", "onlynew")
    found = packages(read(tmp_path / "pylock.toml"))["onlynew"]
    assert found["version"] == "1.0"
    assert found["requires-python"] == ">=3.12"


def test_only_deps(tmp_path: Path, index_server: IndexServer) -> None:
    lock(tmp_path, index_server, "--only-deps", "beta", "gamma[fast]")
    found = packages(read(tmp_path / "pylock.toml"))
    assert {name: p["version"] for name, p in found.items()} == {"alpha": "1.1", "delta": "1.0"}
    (tmp_path / "pyproject.toml").write_text('[dependency-groups]\ndev = ["zeta"]\n')
    clash = lock(tmp_path, index_server, "--only-deps", "--group", "dev", "beta", check=False)
    assert clash.returncode == 1 and "--only-deps cannot be combined with --group" in clash.stderr
    clash = lock(tmp_path, index_server, "--only-dependencies", "--no-deps", "beta", check=False)
    assert clash.returncode == 1 and "--no-deps" in clash.stderr


def _sha256(index: PackageIndex, filename: str) -> str:
    return hashlib.sha256((index.files_dir / filename).read_bytes()).hexdigest()


def test_hash_checking_of_the_inputs(
    tmp_path: Path, index_server: IndexServer, corpus_index: PackageIndex
) -> None:
    alpha = _sha256(corpus_index, "alpha-1.1-py3-none-any.whl")
    beta = _sha256(corpus_index, "beta-1.0-py3-none-any.whl")
    unpinned = lock(tmp_path, index_server, "--require-hashes", "beta", check=False)
    assert unpinned.returncode == 1 and "must be pinned" in unpinned.stderr
    partial = tmp_path / "partial.txt"
    partial.write_text(f"beta==1.0 --hash=sha256:{beta}\n")
    missing = lock(tmp_path, index_server, "-r", str(partial), check=False)
    assert missing.returncode == 1
    assert f"alpha==1.1 --hash=sha256:{alpha}" in missing.stderr
    assert not (tmp_path / "pylock.toml").exists()
    # --no-require-hashes: a --hash does not turn the mode on (beta's is still checked).
    lock(tmp_path, index_server, "--no-require-hashes", "-r", str(partial))
    assert set(packages(read(tmp_path / "pylock.toml"))) == {"alpha", "beta"}

    full = tmp_path / "full.txt"
    full.write_text(f"beta==1.0 --hash=sha256:{beta}\nalpha==1.1 --hash=sha256:{alpha}\n")
    lock(tmp_path, index_server, "-U", "-r", str(full))
    found = packages(read(tmp_path / "pylock.toml"))
    assert found["alpha"]["wheels"][0]["hashes"]["sha256"] == alpha
    assert found["beta"]["wheels"][0]["hashes"]["sha256"] == beta

    before = (tmp_path / "pylock.toml").read_bytes()
    wrong = tmp_path / "wrong.txt"
    wrong.write_text(f"beta==1.0 --hash=sha256:{beta}\nalpha==1.1 --hash=sha256:{'0' * 64}\n")
    bad = lock(tmp_path, index_server, "-U", "-r", str(wrong), check=False)
    assert bad.returncode != 0 and alpha in bad.stderr
    assert (tmp_path / "pylock.toml").read_bytes() == before


def test_editable_vcs_url_checked_out_into_src(tmp_path: Path, index_server: IndexServer) -> None:
    from tests.support.projects import git, in_tree_project

    repo = in_tree_project(tmp_path / "repo", "gitproj", "1.0")
    with (repo / "backend.py").open("a") as backend:
        backend.write("\nbuild_editable = build_wheel\n")  # stands in for PEP 660's hook
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one")
    git(repo, "tag", "v1.0")
    work = tmp_path / "work"
    work.mkdir()
    url = f"git+{repo.as_uri()}@v1.0#egg=gitproj"
    lock(work, index_server, "--src", "checkouts", "-e", url)
    found = packages(read(work / "pylock.toml"))
    assert found["gitproj"]["directory"] == {"path": "checkouts/gitproj", "editable": True}
    assert (work / "checkouts" / "gitproj" / ".git").exists()
