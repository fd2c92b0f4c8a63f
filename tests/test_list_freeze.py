"""`roost freeze` and `roost list` print what `pip freeze` and `pip list` print.

pip runs as ``<this python> -m pip --python <venv>``, so both tools read the same
real venv; outputs that scripts parse are compared byte for byte (JSON as data).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.envs import clean_env, make_venv, need_pyenv, run_pip, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel


def pip(python: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_pip(python, *args, env=env, check=True)


def roost(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_roost(*args, env=env, cwd=Path(env["HOME"]), check=True)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("home")
    return clean_env(folder)


@pytest.fixture(scope="module")
def populated(
    tmp_path_factory: pytest.TempPathFactory,
    index_server: IndexServer,
    corpus_index: PackageIndex,
    home: dict[str, str],
) -> Path:
    """A venv with beta (and alpha 1.1), gamma[fast] (and delta), zeta by path, a fake pip."""
    root = tmp_path_factory.mktemp("populated")
    python = make_venv(root / "venv")
    url = index_server.url
    roost(home, "install", "--python", str(python), "-i", url, "beta", "gamma[fast]")
    zeta = corpus_index.dists_dir / "zeta-1.0-py3-none-any.whl"
    roost(home, "install", "--python", str(python), str(zeta))
    wheels = root / "wheels"
    build_wheel(WheelSpec("pip", "99.0", module="not_pip"), wheels)
    roost(home, "install", "--python", str(python), "--no-index", "-f", str(wheels), "pip")
    return python


def test_freeze_matches_pip_with_direct_url(populated: Path, home: dict[str, str]) -> None:
    ours = roost(home, "freeze", "--python", str(populated)).stdout
    assert ours == pip(populated, home, "freeze").stdout
    lines = ours.splitlines()
    assert lines[:3] == ["alpha==1.1", "beta==1.0", "delta==1.0"]
    assert any(line.startswith("zeta @ file:///") and "#sha256=" in line for line in lines)
    assert not any(line.startswith("pip") for line in lines)
    everything = roost(home, "freeze", "--python", str(populated), "--all").stdout
    assert everything.splitlines() == [*lines[:4], "pip==99.0", *lines[4:]]
    excluded = roost(home, "freeze", "--python", str(populated), "--exclude", "Beta").stdout
    assert "beta==1.0" not in excluded.splitlines()
    assert "alpha==1.1" in excluded.splitlines()


def test_freeze_requirement_file_keeps_its_order(
    populated: Path, home: dict[str, str], tmp_path: Path
) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(
        "# pinned by hand\n"
        "--index-url http://127.0.0.1:9/simple\n"
        "gamma[fast]>=1  # fast mode\n"
        "\n"
        "# pinned by hand\n"
        "beta\n"
        "notinstalled==1.0\n"
        "\n"
        "ALPHA\n"
    )
    ours = roost(home, "freeze", "--python", str(populated), "-r", str(reqs))
    theirs = pip(populated, home, "freeze", "-r", str(reqs))
    # Word for word, pip's header included: CI jobs diff the two.
    assert ours.stdout == theirs.stdout
    assert ours.stdout.splitlines()[:6] == [
        "# pinned by hand",
        "--index-url http://127.0.0.1:9/simple",
        "gamma==1.0",
        "",
        "beta==1.0",
        "alpha==1.1",
    ]
    assert "## The following requirements were added by pip freeze:" in ours.stdout
    assert "notinstalled" in ours.stderr


def test_list_formats_match_pip(populated: Path, home: dict[str, str]) -> None:
    python = str(populated)
    ours = json.loads(roost(home, "list", "--python", python, "--format", "json").stdout)
    assert ours == json.loads(pip(populated, home, "list", "--format", "json").stdout)
    assert {"name": "alpha", "version": "1.1"} in ours
    assert all(set(entry) == {"name", "version"} for entry in ours)
    columns = roost(home, "list", "--python", python).stdout
    assert columns == pip(populated, home, "list").stdout
    assert columns.splitlines()[0].split() == ["Package", "Version"]
    assert set(columns.splitlines()[1]) == {"-", " "}
    frozen = roost(home, "list", "--python", python, "--format", "freeze").stdout
    assert frozen.splitlines() == [f"{e['name']}=={e['version']}" for e in ours]
    top = roost(home, "list", "--python", python, "--not-required", "--format", "freeze").stdout
    # gamma needs delta only for its "fast" extra, so delta counts as not required.
    assert top.splitlines() == ["beta==1.0", "delta==1.0", "gamma==1.0", "pip==99.0", "zeta==1.0"]
    narrowed = roost(
        home, "list", "--python", python, "--format", "freeze", "--exclude", "zeta"
    ).stdout
    assert "zeta==1.0" not in narrowed.splitlines()
    refused = run_roost("list", "--python", python, "-o", "--format", "freeze", env=home)
    assert refused.returncode != 0
    assert "--outdated" in refused.stderr


def test_path_option_reads_only_that_directory(
    populated: Path, home: dict[str, str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert roost(home, "list", "--python", str(populated), "--path", str(empty)).stdout == ""
    site = next(populated.parent.parent.glob("lib/python*/site-packages"))
    ours = roost(home, "freeze", "--python", str(populated), "--path", str(site)).stdout
    assert ours == roost(home, "freeze", "--python", str(populated)).stdout
    clash = run_roost("list", "--python", str(populated), "--path", str(site), "--user", env=home)
    assert clash.returncode != 0


def test_outdated_and_uptodate_against_the_index(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    url = index_server.url
    roost(tmp_home, "install", "--python", str(python), "-i", url, "alpha==1.0", "delta")
    args = ("list", "--python", str(python), "-i", url)
    outdated = roost(tmp_home, *args, "--outdated", "--format", "json").stdout
    expected = [
        {"name": "alpha", "version": "1.0", "latest_version": "2.0", "latest_filetype": "wheel"}
    ]
    assert json.loads(outdated) == expected
    theirs = pip(python, tmp_home, "list", "-i", url, "--outdated", "--format", "json").stdout
    assert json.loads(theirs) == expected
    columns = roost(tmp_home, *args, "-o").stdout.splitlines()
    assert [line.split() for line in columns] == [
        ["Package", "Version", "Latest", "Type"],
        ["-------", "-------", "------", "-----"],
        ["alpha", "1.0", "2.0", "wheel"],
    ]
    pre = json.loads(roost(tmp_home, *args, "-o", "--pre", "--format", "json").stdout)
    assert pre[0]["latest_version"] == "2.1rc1"
    current = json.loads(roost(tmp_home, *args, "--uptodate", "--format", "json").stdout)
    assert current == [{"name": "delta", "version": "1.0"}]


def test_user_site_only(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    env = dict(tmp_home, PYTHONUSERBASE=str(tmp_path / "userbase"))
    python = make_venv(tmp_path / "venv", system_site_packages=True)
    url = index_server.url
    roost(env, "install", "--python", str(python), "-i", url, "--user", "alpha==1.0")
    roost(env, "install", "--python", str(python), "-i", url, "delta")
    ours = roost(env, "list", "--python", str(python), "--user", "--format", "json").stdout
    assert json.loads(ours) == [{"name": "alpha", "version": "1.0"}]
    assert json.loads(ours) == json.loads(
        pip(python, env, "list", "--user", "--format", "json").stdout
    )
    frozen = roost(env, "freeze", "--python", str(python), "--user").stdout
    assert frozen == "alpha==1.0\n"
    local = roost(env, "freeze", "--python", str(python), "--local").stdout
    assert local == "delta==1.0\n"


def test_freeze_hides_build_tools_before_python_312(
    tmp_path: Path, tmp_home: dict[str, str]
) -> None:
    """pip ≥ 23.1 hides setuptools and wheel only on Pythons older than 3.12: the target's."""
    python = make_venv(tmp_path / "venv", need_pyenv("3.11"))
    wheels = tmp_path / "wheels"
    for name in ("setuptools", "wheel", "distribute", "plainpkg"):
        build_wheel(WheelSpec(name, "99.0", module=f"fake_{name}"), wheels)
    roost(
        tmp_home,
        "install",
        "--python",
        str(python),
        "--no-index",
        "-f",
        str(wheels),
        "setuptools",
        "wheel",
        "distribute",
        "plainpkg",
    )
    ours = roost(tmp_home, "freeze", "--python", str(python)).stdout
    assert ours == "plainpkg==99.0\n"
    assert ours == pip(python, tmp_home, "freeze").stdout
    everything = roost(tmp_home, "freeze", "--python", str(python), "--all").stdout
    assert everything.splitlines() == [
        "distribute==99.0",
        "plainpkg==99.0",
        "setuptools==99.0",
        "wheel==99.0",
    ]
