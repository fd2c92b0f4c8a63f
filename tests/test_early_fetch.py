"""Wheels fetched and unpacked while the resolver still works: what it must not change.

The resolver hands over the first version it pins of each project until it first
backtracks; those wheels download (and unpack into the store) during the resolution.
A dropped candidate's wheel must never fail or enter the install, a wheel must be
fetched once however it is asked for, and ``--dry-run`` fetches no wheel at all.
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.support.envs import installed, make_venv, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel


def _broken_lib(kind: str, built: Path, requires: list[str]) -> Path:
    """lib 2.0's wheel, broken as *kind* says: a member changed after RECORD was written
    (refused while unpacking) or a zip bomb (refused before anything is unpacked, so
    the store would keep it if it were unpacked unchecked)."""
    if kind == "bomb":
        zeros = {"lib/zeros.bin": bytes(2 << 20)}
        return build_wheel(WheelSpec("lib", "2.0", requires=requires, files=zeros), built)
    wheel = build_wheel(WheelSpec("lib", "2.0", requires=requires), built)
    return _broken_record(wheel, "lib/__init__.py")


def _install(
    server: IndexServer, venv: Path, cache: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return run_roost(
        "install", "--python", str(venv), "-i", server.url, "--cache-dir", str(cache), *args
    )


REFUSALS = {"record": "didn't match RECORD", "bomb": "a zip bomb?"}


def _broken_record(wheel: Path, member: str) -> Path:
    """*wheel* rewritten with *member*'s content changed and its RECORD row kept: a
    wheel every installer must refuse."""
    damaged = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(damaged, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == member:
                data += b"# changed after RECORD was written\n"
            out.writestr(info, data)
    damaged.replace(wheel)
    return wheel


@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_dropped_candidates_broken_wheel_neither_fails_nor_installs(
    tmp_path: Path, kind: str
) -> None:
    """``app`` needs ``lib`` and ``util``. The resolver takes ``lib`` first (names break
    ties) and pins lib 2.0 (core<2), then finds that util needs core>=2 and backtracks
    to lib 1.0. lib 2.0's wheel, fetched while resolving, is broken."""
    index = PackageIndex(tmp_path / "index")
    index.add(WheelSpec("app", "1.0", requires=["lib", "util"]))
    index.add(WheelSpec("lib", "1.0"))
    index.add(_broken_lib(kind, tmp_path / "built", ["core<2"]))
    index.add(WheelSpec("util", "1.0", requires=["core>=2"]))
    index.add(WheelSpec("core", "1.0"))
    index.add(WheelSpec("core", "2.0"))
    venv = make_venv(tmp_path / "venv")
    cache = tmp_path / "cache"
    with IndexServer(index) as server:
        result = _install(server, venv, cache, "app")
        assert result.returncode == 0, result.stderr
        # lib 2.0 was pinned first, so its wheel was fetched during the resolution...
        assert len(server.requests_for("*/lib-2.0-*.whl")) == 1
        # ...and every wheel installed was fetched once.
        for name in ("app-1.0", "lib-1.0", "util-1.0", "core-2.0"):
            assert len(server.requests_for(f"*/{name}-*.whl")) == 1, name
    assert installed(venv) == {"app": "1.0", "lib": "1.0", "util": "1.0", "core": "2.0"}
    # Its broken wheel never reached the store; no half-written entry was left.
    store = cache / "unpacked"
    manifests = [p.read_text() for p in store.glob("*/manifest.json")]
    assert not any("lib-2.0-" in text for text in manifests)
    assert any("lib-1.0-" in text for text in manifests)
    assert not list(store.glob(".tmp-*"))


@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_the_same_broken_wheel_is_refused_when_it_is_the_one_chosen(
    tmp_path: Path, kind: str
) -> None:
    """The early unpack's failure is dropped, and the plan meets it again: the refusal
    is the one a wheel unpacked after the resolution gets, and the store stays empty."""
    index = PackageIndex(tmp_path / "index")
    index.add(_broken_lib(kind, tmp_path / "built", []))
    cache = tmp_path / "cache"
    venv = make_venv(tmp_path / "venv")
    with IndexServer(index) as server:
        result = _install(server, venv, cache, "lib")
        assert len(server.requests_for("*/lib-2.0-*.whl")) == 1
    assert result.returncode != 0
    assert "refusing to install lib 2.0" in result.stderr
    assert REFUSALS[kind] in result.stderr
    assert installed(venv) == {}
    assert not list((cache / "unpacked").glob("*/manifest.json"))


def test_dry_run_fetches_no_wheel(tmp_path: Path) -> None:
    index = PackageIndex(tmp_path / "index")
    index.add(WheelSpec("util", "1.0", requires=["core>=2"]))
    index.add(WheelSpec("core", "2.0"))
    venv = make_venv(tmp_path / "venv")
    with IndexServer(index) as server:
        result = _install(server, venv, tmp_path / "cache", "--dry-run", "util")
        assert result.returncode == 0, result.stderr
        assert set(result.stdout.split("Would install ")[1].split()) == {"util-1.0", "core-2.0"}
        assert server.requests_for("*.whl") == []
        assert server.requests_for("*.metadata")
    assert installed(venv) == {}
