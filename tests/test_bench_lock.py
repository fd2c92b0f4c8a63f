"""The benchmark's lock scenario (bench/locking.py): ``roost lock`` writes the lock once,
each tool then fills fresh venvs from it, cold and warm, and the report names the set.

Run with roost alone here (the suite has no uv, and the pip it runs with may be older
than pip's lock support); ``nox -s bench`` runs all three tools.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import bench.locking
from bench.locking import bench_lock, lock_install_command
from bench.server import serve
from bench.static_index import write_index
from tests.support.wheels import WheelSpec, build_wheel

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]


def test_the_lock_scenario_with_roost(tmp_path: Path) -> None:
    wheels = [
        build_wheel(WheelSpec("bl-app", "1.0", requires=["bl-dep"]), tmp_path / "wheels"),
        build_wheel(WheelSpec("bl-dep", "1.0"), tmp_path / "wheels"),
        build_wheel(WheelSpec("bl-dep", "2.0"), tmp_path / "wheels"),
    ]
    write_index(wheels, tmp_path / "index")
    lines: list[str] = []
    with serve(tmp_path / "index") as url:
        results = bench_lock(
            f"{url}/simple/",
            ["bl-app"],
            tools=["roost"],
            modes=["cold", "noop", "warm", "resolve"],
            runs=1,
            scratch=tmp_path / "work",
            say=lines.append,
        )
    assert list(results) == ["cold", "warm"]  # a lock is never resolved: no other mode
    for mode in ("cold", "warm"):
        roost = results[mode]["tools"]["roost"]
        assert roost["failures"] == [], roost["failures"]
        assert roost["installed_dists"] == [2]
    with (tmp_path / "work" / "pylock.toml").open("rb") as file:
        locked = {p["name"]: p["version"] for p in tomllib.load(file)["packages"]}
    assert locked == {"bl-app": "1.0", "bl-dep": "2.0"}
    assert any("holds 2 packages" in line for line in lines)
    assert any("primed roost (ok" in line for line in lines)


def test_each_tool_is_told_to_install_exactly_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the arguments are looked at: where each tool's executable lives (uv is not
    # installed in the test session) does not matter here.
    monkeypatch.setattr(bench.locking, "command_prefix", lambda tool: [tool])
    lock, python, cache = tmp_path / "pylock.toml", tmp_path / "v" / "bin" / "python", tmp_path
    roost = lock_install_command("roost", python, lock, "http://i/simple/", cache)
    pip = lock_install_command("pip", python, lock, "http://i/simple/", cache)
    uv = lock_install_command("uv", python, lock, "http://i/simple/", cache)
    assert roost[1:2] == ["sync"] and roost[-1] == str(lock)
    assert pip[pip.index("install") :][-2:] == ["-r", str(lock)]
    assert uv[1:3] == ["pip", "sync"] and uv[-1] == str(lock)
