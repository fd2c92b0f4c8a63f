"""`--report`: pip's installation report format, and the same content as pip's."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.envs import clean_env, installed, run_pip, run_roost
from tests.support.server import IndexServer

# What pip's documentation says each install item has (format version "1").
ITEM_KEYS = {"download_info", "is_direct", "is_yanked", "requested", "metadata"}


def pip_report(python: Path, home: Path, *args: str) -> dict:  # type: ignore[type-arg]
    done = run_pip(
        python,
        "install",
        "--dry-run",
        "--quiet",
        "--isolated",
        "--no-cache-dir",
        "--report",
        "-",
        *args,
        env=clean_env(home),
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def summary(report: dict) -> dict[str, tuple]:  # type: ignore[type-arg]
    return {
        item["metadata"]["name"]: (
            item["metadata"]["version"],
            item["download_info"]["url"],
            item["download_info"]["archive_info"].get("hashes"),
            item["requested"],
            tuple(item.get("requested_extras", ())),
            item["is_direct"],
            tuple(item["metadata"].get("requires_dist", ())),
        )
        for item in report["install"]
    }


def test_report_matches_pip(tmp_path: Path, venv: Path, index_server: IndexServer) -> None:
    args = ["-i", index_server.url, "gamma[fast]", "beta", "alpha==1.5"]
    ours_file = tmp_path / "report.json"
    run_roost(
        "install",
        "--python",
        str(venv),
        "--dry-run",
        "--report",
        str(ours_file),
        *args,
        check=True,
    )
    assert installed(venv) == {}  # --dry-run installed nothing
    ours = json.loads(ours_file.read_text())
    theirs = pip_report(venv, tmp_path, *args)
    assert ours["version"] == theirs["version"] == "1"
    for item in ours["install"]:
        assert set(item) >= ITEM_KEYS
    assert summary(ours) == summary(theirs)
    # Older pips leave is_yanked out; where pip has it, it must agree with ours.
    yanked = {i["metadata"]["name"]: i["is_yanked"] for i in ours["install"]}
    assert yanked == {"alpha": True, "beta": False, "delta": False, "gamma": False}
    for item in theirs["install"]:
        if "is_yanked" in item:
            assert item["is_yanked"] == yanked[item["metadata"]["name"]]
    assert ours["environment"] == theirs["environment"]


def test_report_to_stdout_while_installing(
    tmp_path: Path, venv: Path, index_server: IndexServer
) -> None:
    done = run_roost(
        "-q",
        "install",
        "--python",
        str(venv),
        "--report",
        "-",
        "-i",
        index_server.url,
        "delta",
        check=True,
    )
    report = json.loads(done.stdout)
    assert [i["metadata"]["name"] for i in report["install"]] == ["delta"]
    assert installed(venv) == {"delta": "1.0"}
