"""Nested builds: a build dependency that exists only as an sdist is built, in a build
environment of its own, before the build that needs it; builds two deep; a cycle of
build dependencies is refused with the chain; --only-binary reaches build environments.

Every backend here is a small packager (below) that needs nothing from an index, so
what is built, and in which order, is exactly what the tests arrange.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.envs import installed, make_venv, manifest, run_roost
from tests.support.index import PackageIndex
from tests.support.projects import make_sdist
from tests.support.server import IndexServer

#: A PEP 517 backend that packs the project's top-level modules (all but backend.py)
#: into a wheel named by meta.txt, asks for what requires.txt lists, and logs each
#: build to $NEST_LOG. Projects use it in-tree, and ship it as their module, so an
#: installed project is itself a backend for the next one.
PACKAGER = """
import base64, hashlib, os, zipfile

def _meta():
    with open("meta.txt") as handle:
        return handle.read().split()

def get_requires_for_build_wheel(config_settings=None):
    if not os.path.exists("requires.txt"):
        return []
    with open("requires.txt") as handle:
        return handle.read().split()

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version = _meta()
    with open(os.environ["NEST_LOG"], "a") as log:
        log.write(name + "\\n")
    dist = name.replace("-", "_") + "-" + version
    files = {}
    for entry in sorted(os.listdir(".")):
        if entry.endswith(".py") and entry != "backend.py":
            with open(entry, "rb") as handle:
                files[entry] = handle.read()
    files[dist + ".dist-info/METADATA"] = (
        "Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (name, version)
    ).encode()
    files[dist + ".dist-info/WHEEL"] = (
        b"Wheel-Version: 1.0\\nGenerator: packager\\nRoot-Is-Purelib: true\\n"
        b"Tag: py3-none-any\\n"
    )
    record = []
    filename = dist + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append("%s,sha256=%s,%d" % (path, digest.decode(), len(data)))
        record.append(dist + ".dist-info/RECORD,,")
        zf.writestr(dist + ".dist-info/RECORD", "\\n".join(record) + "\\n")
    return filename
"""


def packaged(root: Path, name: str, *, backend: str | None, requires: tuple[str, ...]) -> Path:
    """A project packed by PACKAGER: in-tree when *backend* is None, else the module
    *backend* an installed build requirement provides. Its own module is PACKAGER, so
    once installed it can build other projects."""
    root.mkdir(parents=True)
    module = name.replace("-", "_")
    (root / f"{module}.py").write_text(PACKAGER)
    (root / "meta.txt").write_text(f"{name} 1.0\n")
    if backend is None:
        (root / "backend.py").write_text(PACKAGER)
        table = 'requires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    else:
        table = f'requires = ["{requires[0]}"]\nbuild-backend = "{backend}"\n'
    if requires[1:]:
        (root / "requires.txt").write_text("\n".join(requires[1:]) + "\n")
    (root / "pyproject.toml").write_text("[build-system]\n" + table)
    return root


@pytest.fixture(scope="module")
def nested_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """Backends that exist only as sdists: nestback (built in-tree), nestback2 (built
    by nestback), and cyc-a / cyc-b, each needing the other to build."""
    root = tmp_path_factory.mktemp("nested")
    index = PackageIndex(root / "index")
    sdists = root / "dist"
    projects = [
        packaged(root / "nestback", "nestback", backend=None, requires=()),
        packaged(root / "nestback2", "nestback2", backend="nestback", requires=("nestback",)),
        packaged(root / "cyc-a", "cyc-a", backend="cyc_b", requires=("cyc-b",)),
        packaged(root / "cyc-b", "cyc-b", backend="cyc_a", requires=("cyc-a",)),
    ]
    for project in projects:
        name = project.name
        index.add_file(make_sdist(project, sdists, name, "1.0"))
    index.write()
    with IndexServer(index) as server:
        yield server


def install(
    tmp_path: Path, server: IndexServer, env: dict[str, str], *args: str
) -> tuple[subprocess.CompletedProcess[str], Path, list[str]]:
    log = tmp_path / "nest.log"
    log.write_text("")
    python = make_venv(tmp_path / "venv")
    result = run_roost(
        "install", "--python", str(python), "-i", server.url, *args,
        env={**env, "NEST_LOG": str(log), "ROOST_BUILD_SANDBOX_WRITABLE": str(tmp_path)},
    )  # fmt: skip
    return result, python, log.read_text().split()


def test_an_sdist_only_build_dependency_is_built_first(
    tmp_path: Path, nested_index: IndexServer, env: dict[str, str]
) -> None:
    app = packaged(tmp_path / "app", "app", backend="nestback", requires=("nestback",))
    result, python, built = install(tmp_path, nested_index, env, str(app))
    assert result.returncode == 0, result.stderr
    # nestback was built (from its sdist, in its own environment) before the app it builds.
    assert built == ["nestback", "app"]
    # The build dependency stays in the build environment, not the target.
    assert installed(python) == {"app": "1.0"}


def test_builds_nest_two_deep(
    tmp_path: Path, nested_index: IndexServer, env: dict[str, str]
) -> None:
    app = packaged(tmp_path / "app2", "app2", backend="nestback2", requires=("nestback2",))
    result, python, built = install(tmp_path, nested_index, env, str(app))
    assert result.returncode == 0, result.stderr
    assert built == ["nestback", "nestback2", "app2"]
    assert installed(python) == {"app2": "1.0"}


def test_a_cycle_of_build_dependencies_is_refused_with_its_chain(
    tmp_path: Path, nested_index: IndexServer, env: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    before = manifest(python.parent.parent)
    log = tmp_path / "nest.log"
    log.write_text("")
    result = run_roost(
        "install", "--python", str(python), "-i", nested_index.url, "cyc-a",
        env={**env, "NEST_LOG": str(log), "ROOST_BUILD_SANDBOX_WRITABLE": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 1
    assert "building cyc-a needs cyc-a itself (cyc-a -> cyc-b -> cyc-a)" in result.stderr
    assert "Traceback" not in result.stderr
    assert log.read_text() == ""  # nothing got as far as building a wheel
    assert manifest(python.parent.parent) == before


def test_only_binary_reaches_build_environments(
    tmp_path: Path, nested_index: IndexServer, env: dict[str, str]
) -> None:
    app = packaged(tmp_path / "app", "app", backend="nestback", requires=("nestback",))
    result, python, built = install(
        tmp_path, nested_index, env, "--only-binary", "nestback", str(app)
    )
    assert result.returncode == 1
    assert "nestback" in result.stderr and "source distributions: nestback-1.0.tar.gz" in (
        result.stderr
    )
    assert built == []
    assert installed(python) == {}
