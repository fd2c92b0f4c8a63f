"""Index projects that offer only source distributions, built when the resolution keeps
them: PEP 643 metadata when the sdist vouches for it, pip's --no-binary, --only-binary
and --prefer-binary rules, and the built-wheel cache."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.envs import installed, make_venv, run_roost
from tests.support.index import PackageIndex
from tests.support.projects import in_tree_project, make_sdist
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec


def pkg_info(project: Path, name: str, version: str, *extra: str) -> None:
    """Write the PKG-INFO an sdist carries (Metadata-Version 2.2, PEP 643)."""
    lines = ["Metadata-Version: 2.2", f"Name: {name}", f"Version: {version}", *extra]
    (project / "PKG-INFO").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def sdist_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    root = tmp_path_factory.mktemp("sdist-index")
    index = PackageIndex(root / "index")
    index.add(WheelSpec("extra-dep", "1.0"))
    index.add(WheelSpec("needs-sdist", "1.0", requires=["onlysdist"]))
    # onlysdist: no wheel at all; its PKG-INFO is static and names a dependency the
    # in-tree backend's wheel does not: installing extra-dep proves PKG-INFO was used.
    static = in_tree_project(root / "onlysdist", "onlysdist", "1.0")
    pkg_info(static, "onlysdist", "1.0", "Requires-Dist: extra-dep")
    index.add_file(make_sdist(static, root / "dist", "onlysdist", "1.0"))
    # dynsdist: PKG-INFO says its requirements are dynamic: they come from building.
    dynamic = in_tree_project(root / "dynsdist", "dynsdist", "1.0")
    pkg_info(dynamic, "dynsdist", "1.0", "Dynamic: Requires-Dist", "Requires-Dist: extra-dep")
    index.add_file(make_sdist(dynamic, root / "dist", "dynsdist", "1.0"))
    # both: a wheel of 1.0 and only an sdist of 2.0.
    index.add(WheelSpec("both", "1.0"))
    newer = in_tree_project(root / "both", "both", "2.0")
    index.add_file(make_sdist(newer, root / "dist", "both", "2.0"))
    index.write()
    with IndexServer(index) as server:
        yield server


def install(
    tmp_path: Path, server: IndexServer, env: dict[str, str], *args: str
) -> tuple[subprocess.CompletedProcess[str], Path, list[str]]:
    log = tmp_path / "built.log"
    log.write_text("")
    python = make_venv(tmp_path / f"venv{len(list(tmp_path.glob('venv*')))}")
    result = run_roost(
        "install", "--python", str(python), "-i", server.url, *args,
        env={**env, "INTREE_BUILD_LOG": str(log), "ROOST_BUILD_SANDBOX_WRITABLE": str(tmp_path)},
    )  # fmt: skip
    return result, python, log.read_text().split()


def test_an_sdist_only_dependency_is_built_once(
    tmp_path: Path, sdist_index: IndexServer, env: dict[str, str]
) -> None:
    result, python, built = install(tmp_path, sdist_index, env, "needs-sdist")
    assert result.returncode == 0, result.stderr
    assert built == ["onlysdist"]
    assert installed(python) == {"extra-dep": "1.0", "needs-sdist": "1.0", "onlysdist": "1.0"}
    # The next install takes the wheel built from that very sdist (same sha256).
    result, python, built = install(tmp_path, sdist_index, env, "needs-sdist")
    assert result.returncode == 0, result.stderr
    assert built == []
    assert installed(python)["onlysdist"] == "1.0"


def test_dynamic_requirements_come_from_the_built_wheel(
    tmp_path: Path, sdist_index: IndexServer, env: dict[str, str]
) -> None:
    result, python, built = install(tmp_path, sdist_index, env, "dynsdist")
    assert result.returncode == 0, result.stderr
    assert built == ["dynsdist"]
    assert installed(python) == {"dynsdist": "1.0"}  # the wheel requires nothing


def test_only_binary_refuses_sources(
    tmp_path: Path, sdist_index: IndexServer, env: dict[str, str]
) -> None:
    result, _python, built = install(
        tmp_path, sdist_index, env, "--only-binary", ":all:", "onlysdist"
    )
    assert result.returncode == 1
    assert "source distributions: onlysdist-1.0.tar.gz" in result.stderr
    assert built == []


def test_newest_version_wins_unless_prefer_binary(
    tmp_path: Path, sdist_index: IndexServer, env: dict[str, str]
) -> None:
    result, python, built = install(tmp_path, sdist_index, env, "both")
    assert result.returncode == 0, result.stderr
    assert (installed(python)["both"], built) == ("2.0", ["both"])
    result, python, built = install(tmp_path, sdist_index, env, "--prefer-binary", "both")
    assert result.returncode == 0, result.stderr
    assert (installed(python)["both"], built) == ("1.0", [])


def test_no_binary_builds_even_when_a_wheel_exists(
    tmp_path: Path, sdist_index: IndexServer, env: dict[str, str]
) -> None:
    result, python, built = install(tmp_path, sdist_index, env, "--no-binary", "both", "both<2")
    assert result.returncode == 1  # both 1.0 has no sdist: nothing is left
    assert "No matching distribution found for both<2" in result.stderr
    result, python, built = install(tmp_path, sdist_index, env, "--no-binary", ":all:", "both")
    assert result.returncode == 0, result.stderr
    assert (installed(python)["both"], built) == ("2.0", ["both"])


#: A prepare_metadata hook for the in-tree backend that logs "prepared <name>".
PREPARE_HOOK = """

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    log = os.environ.get("INTREE_BUILD_LOG")
    if log:
        with open(log, "a") as handle:
            handle.write("prepared-" + NAME + "\\n")
    dist = f"{NAME}-{VERSION}.dist-info"
    os.makedirs(os.path.join(metadata_directory, dist))
    with open(os.path.join(metadata_directory, dist, "METADATA"), "w") as handle:
        handle.write(f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n")
    return dist
"""


def test_a_warm_install_asks_neither_the_sdist_nor_its_backend(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """The wheel built before from the sdist of the sha256 the index gives answers for
    its metadata: the backend is not asked again (pip and roost before asked it, and
    setuptools printed its warnings, on every warm install)."""
    index = PackageIndex(tmp_path / "index")
    project = in_tree_project(tmp_path / "prepped", "prepped", "1.0")
    with (project / "backend.py").open("a") as backend:
        backend.write(PREPARE_HOOK)
    index.add_file(make_sdist(project, tmp_path / "dist", "prepped", "1.0"))
    index.write()
    with IndexServer(index) as server:
        result, _python, built = install(tmp_path, server, env, "prepped")
        assert result.returncode == 0, result.stderr
        assert built == ["prepared-prepped", "prepped"]
        result, python, built = install(tmp_path, server, env, "prepped")
    assert result.returncode == 0, result.stderr
    assert built == []
    assert installed(python) == {"prepped": "1.0"}
