"""`roost download`, for this machine and for another one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.envs import need_pyenv, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec


@pytest.fixture(scope="module")
def platform_index(tmp_path_factory: pytest.TempPathFactory) -> PackageIndex:
    """A project with per-interpreter, per-platform wheels and marker-gated dependencies."""
    index = PackageIndex(tmp_path_factory.mktemp("platforms"))
    for tag in (
        "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
        "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
        "cp312-cp312-macosx_11_0_arm64",
        "cp312-cp312-win_amd64",
    ):
        index.add(
            WheelSpec(
                "native",
                "1.0",
                tag=tag,
                root_is_purelib=False,
                requires=[
                    'onlinux; sys_platform == "linux"',
                    'onwindows; sys_platform == "win32"',
                    'new312; python_version >= "3.12"',
                ],
            )
        )
    for name in ("onlinux", "onwindows", "new312"):
        index.add(WheelSpec(name, "1.0"))
    index.write()
    return index


def test_download_for_another_python_and_platform(
    tmp_path: Path, platform_index: PackageIndex, tmp_home: dict[str, str]
) -> None:
    python = need_pyenv("3.11")
    dest = tmp_path / "wheels"
    result = run_roost(
        "download",
        "--python",
        str(python),
        "-d",
        str(dest),
        "--platform",
        "manylinux2014_x86_64",
        "--python-version",
        "3.12",
        "--only-binary=:all:",
        "-i",
        platform_index.file_url,
        "native",
        env=tmp_home,
        check=True,
    )
    assert sorted(p.name for p in dest.iterdir()) == [
        "native-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "new312-1.0-py3-none-any.whl",
        "onlinux-1.0-py3-none-any.whl",
    ]
    assert "Successfully downloaded" in result.stdout


def test_download_for_windows_uses_windows_markers(
    tmp_path: Path, platform_index: PackageIndex, tmp_home: dict[str, str]
) -> None:
    dest = tmp_path / "wheels"
    run_roost(
        "download",
        "-d",
        str(dest),
        "--platform",
        "win_amd64",
        "--python-version",
        "312",
        "--implementation",
        "cp",
        "--abi",
        "cp312",
        "--only-binary=:all:",
        "-i",
        platform_index.file_url,
        "native",
        env=tmp_home,
        check=True,
    )
    assert sorted(p.name for p in dest.iterdir()) == [
        "native-1.0-cp312-cp312-win_amd64.whl",
        "new312-1.0-py3-none-any.whl",
        "onwindows-1.0-py3-none-any.whl",
    ]


def test_download_here_then_again(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    dest = tmp_path / "d"
    first = run_roost(
        "download", "-d", str(dest), "-i", index_server.url, "beta", env=tmp_home, check=True
    )
    assert "Saved" in first.stdout
    assert sorted(p.name for p in dest.iterdir()) == [
        "alpha-1.1-py3-none-any.whl",
        "beta-1.0-py3-none-any.whl",
    ]
    again = run_roost(
        "download", "-d", str(dest), "-i", index_server.url, "beta", env=tmp_home, check=True
    )
    assert "File was already downloaded" in again.stdout
    no_deps = tmp_path / "n"
    run_roost(
        "download",
        "--no-deps",
        "-d",
        str(no_deps),
        "-i",
        index_server.url,
        "beta",
        env=tmp_home,
        check=True,
    )
    assert [p.name for p in no_deps.iterdir()] == ["beta-1.0-py3-none-any.whl"]


def test_no_binary_without_an_sdist_says_why(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    result = run_roost(
        "download",
        "-d",
        str(tmp_path),
        "--no-binary",
        "alpha",
        "-i",
        index_server.url,
        "beta",
        env=tmp_home,
    )
    assert result.returncode == 1
    assert "--no-binary excludes the wheels of alpha" in result.stderr
    assert not list(tmp_path.glob("*.whl"))


def test_bad_python_version(tmp_path: Path, tmp_home: dict[str, str]) -> None:
    result = run_roost(
        "download", "--python-version", "three", "--only-binary=:all:",
        "-i", "http://127.0.0.1:9/x", "beta", env=tmp_home,
    )  # fmt: skip
    assert result.returncode == 1
    assert "--python-version 'three'" in result.stderr
