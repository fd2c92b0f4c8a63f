"""A resolution is reused only for the same inputs over the same, still fresh, index
pages: real runs against a loopback index that sends ``max-age``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.envs import dry_run_install, installed, make_venv, run_roost
from tests.support.index import PackageIndex
from tests.test_http_cache import ConditionalServer

REUSED = "resolution: the previous one, reused"


@pytest.fixture
def fresh_server(corpus_index: PackageIndex) -> Iterator[ConditionalServer]:
    with ConditionalServer(corpus_index, cache_control="max-age=600") as running:
        yield running


def dry_run(home: dict[str, str], tmp_path: Path, url: str, *args: str) -> tuple[str, str]:
    result = dry_run_install(url, tmp_path, *args, env=home, verbose=True)
    would = [line for line in result.stdout.splitlines() if line.startswith("Would install")]
    return (would[0] if would else ""), result.stderr


def test_the_same_inputs_over_the_same_fresh_pages_reuse_the_resolution(
    fresh_server: ConditionalServer, tmp_home: dict[str, str], tmp_path: Path
) -> None:
    first, log = dry_run(tmp_home, tmp_path, fresh_server.url, "beta")
    assert first == "Would install alpha-1.1 beta-1.0" and REUSED not in log
    second, log = dry_run(tmp_home, tmp_path, fresh_server.url, "beta")
    assert second == first and REUSED in log
    # Other requirements are another resolution.
    other, log = dry_run(tmp_home, tmp_path, fresh_server.url, "beta", "alpha<1.1")
    assert other == "Would install alpha-1.0 beta-1.0" and REUSED not in log


@pytest.mark.parametrize("option", ["--refresh", "-U", "--pre"])
def test_options_that_ask_the_index_or_change_the_answer_resolve_again(
    fresh_server: ConditionalServer, tmp_home: dict[str, str], tmp_path: Path, option: str
) -> None:
    dry_run(tmp_home, tmp_path, fresh_server.url, "beta")
    _, log = dry_run(tmp_home, tmp_path, fresh_server.url, option, "beta")
    assert REUSED not in log


def test_stale_pages_are_not_trusted(
    corpus_index: PackageIndex, tmp_home: dict[str, str], tmp_path: Path
) -> None:
    with ConditionalServer(corpus_index, cache_control="max-age=0") as running:
        dry_run(tmp_home, tmp_path, running.url, "beta")
        _, log = dry_run(tmp_home, tmp_path, running.url, "beta")
    assert REUSED not in log


def test_a_damaged_entry_is_ignored_and_replaced(
    fresh_server: ConditionalServer, tmp_home: dict[str, str], tmp_path: Path
) -> None:
    first, _ = dry_run(tmp_home, tmp_path, fresh_server.url, "beta")
    (entry,) = (Path(tmp_home["HOME"]) / ".cache" / "roost" / "resolutions").glob("*.json")
    entry.write_text('{"format": 1, "pages": [["x"')
    again, log = dry_run(tmp_home, tmp_path, fresh_server.url, "beta")
    assert again == first and REUSED not in log
    _, log = dry_run(tmp_home, tmp_path, fresh_server.url, "beta")
    assert REUSED in log


def test_hash_checking_mode_resolves_every_time(
    fresh_server: ConditionalServer,
    corpus_index: PackageIndex,
    tmp_home: dict[str, str],
    tmp_path: Path,
) -> None:
    digest = next(e.sha256 for e in corpus_index.entries if e.filename.startswith("delta-1.0"))
    req = tmp_path / "req.txt"
    req.write_text(f"delta==1.0 --hash=sha256:{digest}\n")
    dry_run(tmp_home, tmp_path, fresh_server.url, "-r", str(req))
    _, log = dry_run(tmp_home, tmp_path, fresh_server.url, "-r", str(req))
    assert REUSED not in log


def test_installs_into_new_venvs_reuse_it_and_what_is_installed_counts(
    fresh_server: ConditionalServer, tmp_home: dict[str, str], tmp_path: Path
) -> None:
    def install(venv: Path, *reqs: str) -> str:
        result = run_roost(
            "-v", "install", "--python", str(venv), "-i", fresh_server.url, *reqs,
            env=tmp_home, check=True,
        )  # fmt: skip
        return result.stderr

    one, two, three = (make_venv(tmp_path / name) for name in ("one", "two", "three"))
    assert REUSED not in install(one, "beta")
    assert REUSED in install(two, "beta")
    assert installed(two) == installed(one) == {"alpha": "1.1", "beta": "1.0"}
    # With alpha 1.0 installed first, "beta" is another question (alpha 1.0 is kept).
    install(three, "alpha==1.0")
    assert REUSED not in install(three, "beta")
    assert installed(three) == {"alpha": "1.0", "beta": "1.0"}


def test_extras_and_markers_come_back_the_same(
    fresh_server: ConditionalServer, tmp_home: dict[str, str], tmp_path: Path
) -> None:
    first, _ = dry_run(tmp_home, tmp_path, fresh_server.url, "gamma[fast]", "epsilon")
    assert "delta-1.0" in first and "gamma-1.0" in first
    again, log = dry_run(tmp_home, tmp_path, fresh_server.url, "gamma[fast]", "epsilon")
    assert again == first and REUSED in log
    # Without the extra, the same project is another question.
    other, log = dry_run(tmp_home, tmp_path, fresh_server.url, "gamma", "epsilon")
    assert REUSED not in log
    # delta then comes only through epsilon's marker (python_version < "3.11").
    assert ("delta-1.0" in other) == (sys.version_info < (3, 11))
