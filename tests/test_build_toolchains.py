"""Real builds by backends that drive a native toolchain: scikit-build-core running the
machine's CMake and C compiler, and maturin running cargo.

roost fills each isolated build environment from the loopback index (the backends and
their dependencies, fetched once by nox) and nothing else: a backend that asked for a
``cmake``, ``ninja`` or ``puccinialin`` wheel would fail the install, and the tests
also check, with ``-v``, that it asked for nothing beyond ``build-system.requires``.
A test skips, naming the tool, only when the toolchain itself is missing.

Not covered: pyo3 and cffi bindings for maturin. pyo3 is a crate from crates.io and
cffi a wheel nox does not fetch, and this machine reaches no registry; a
``bindings = "bin"`` crate without dependencies is what cargo can build offline
(``CARGO_NET_OFFLINE=true`` proves it).
"""

from __future__ import annotations

import email.parser
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.support.envs import clean_env, installed, make_venv, manifest, need_pyenv, run_roost
from tests.support.fetched import fetched_wheel
from tests.support.index import PackageIndex
from tests.support.projects import C_SOURCE
from tests.support.server import IndexServer

#: The Python nox fetched the backends' dependencies for: the one running the tests.
RUNNING = f"{sys.version_info[0]}.{sys.version_info[1]}"
#: Bound on the subprocesses the tests run themselves; roost's own runs get
#: run_roost's default (300 s), room for a cold cargo or CMake build on 2 cores.
TIMEOUT = 120
#: How roost logs (with -v) what it installs into a build environment: the backend's
#: ``build-system.requires``, then what its get_requires_for_build_wheel hook asked for.
REQUIRED = "installing the build's build-system.requires: "
ASKED = "installing the build's what the backend's get_requires_for_build_wheel hook asked for"


def with_dependencies(project: str) -> list[Path]:
    """The fetched wheel of *project* and of each dependency it has on this Python."""
    wheel = fetched_wheel(project, RUNNING)
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        fields = email.parser.BytesParser().parsebytes(archive.read(name), headersonly=True)
    wheels = [wheel]
    for line in fields.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            wheels.append(fetched_wheel(requirement.name, RUNNING))
    return wheels


@pytest.fixture(scope="module")
def toolchain_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """scikit-build-core with its dependencies, and maturin with its own: none from 3.11
    on; below, tomli, which nox fetches as a dependency of scikit-build-core."""
    index = PackageIndex(tmp_path_factory.mktemp("toolchains-index"))
    for wheel in {*with_dependencies("scikit-build-core"), *with_dependencies("maturin")}:
        index.add(wheel)
    index.write()
    with IndexServer(index) as server:
        yield server


def install(
    python: Path, server: IndexServer, project: Path, env: dict[str, str], *, verbose: bool
) -> subprocess.CompletedProcess[str]:
    """``roost install --python VENV -i INDEX ./<project>``, from the project's parent;
    with -v when *verbose* (it adds roost's own traceback to a failure's message)."""
    return run_roost(
        *(["-v"] if verbose else []), "install", "--python", str(python), "-i", server.url,
        f"./{project.name}", env=env, cwd=project.parent,
    )  # fmt: skip


def run(command: list[str]) -> str:
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=TIMEOUT)
    return out.stdout.strip()


#: What a target interpreter says of its site-packages, its most specific tag, and the
#: file name suffix of its extension modules.
_FACTS = """
import json, sys, sysconfig
version = "cp%d%d" % sys.version_info[:2]
platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
print(json.dumps({
    "purelib": sysconfig.get_path("purelib"),
    "tag": f"{version}-{version}-{platform}",
    "suffix": sysconfig.get_config_var("EXT_SUFFIX"),
}))
"""


def facts(python: Path) -> dict[str, str]:
    found: dict[str, str] = json.loads(run([str(python), "-c", _FACTS]))
    return found


def wheel_tags(python: Path, dist: str) -> list[str]:
    """The ``Tag:`` lines of the installed *dist*'s WHEEL file."""
    dist_info = next(Path(facts(python)["purelib"]).glob(f"{dist}-*.dist-info"))
    lines = (dist_info / "WHEEL").read_text().splitlines()
    return [line.removeprefix("Tag: ") for line in lines if line.startswith("Tag: ")]


# -- scikit-build-core: CMake and the C compiler -------------------------------------------

#: The oldest CMake scikit-build-core accepts by default (its ``cmake.version``); with an
#: older one on PATH it would ask for the ``cmake`` wheel, which is not served.
CMAKE_MINIMUM = (3, 15)


def need_cmake_toolchain() -> dict[str, str]:
    """Extra environment for the CMake build, or skip naming the missing tool."""
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("no cmake on PATH (scikit-build-core drives the machine's CMake)")
    compilers = [os.environ["CC"]] if os.environ.get("CC") else ["cc", "gcc", "clang"]
    if not any(shutil.which(c.split()[0]) for c in compilers):
        pytest.skip(f"no C compiler on PATH: none of {', '.join(compilers)}")
    first = run([cmake, "--version"]).splitlines()[0]  # "cmake version 3.25.1"
    version = tuple(int(part) for part in first.split()[-1].split(".")[:2])
    if version < CMAKE_MINIMUM:
        pytest.skip(f"{cmake} is {first}; scikit-build-core needs 3.15 or newer")
    if shutil.which("ninja") is not None:
        return {}
    # Without ninja on PATH, scikit-build-core asks for the ninja wheel on platforms
    # that have one, unless the generator is set to something else: make, then.
    if shutil.which("make") is None:
        pytest.skip("neither ninja nor make on PATH: CMake has no build tool to generate for")
    return {"CMAKE_GENERATOR": "Unix Makefiles"}


def cmake_project(root: Path, name: str = "cmakeext", version: str = "2.0") -> Path:
    """A scikit-build-core project: package *name* with ``_speedups`` built by CMake."""
    package = root / "src" / name
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = ["scikit-build-core"]
            build-backend = "scikit_build_core.build"

            [project]
            name = "{name}"
            version = "{version}"
            """
        )
    )
    (root / "CMakeLists.txt").write_text(
        textwrap.dedent(
            """\
            cmake_minimum_required(VERSION 3.15...3.31)
            project(${SKBUILD_PROJECT_NAME} LANGUAGES C)
            find_package(Python REQUIRED COMPONENTS Interpreter Development.Module)
            python_add_library(_speedups MODULE src/_speedups.c WITH_SOABI)
            install(TARGETS _speedups DESTINATION ${SKBUILD_PROJECT_NAME})
            """
        )
    )
    (root / "src" / "_speedups.c").write_text(C_SOURCE)
    (package / "__init__.py").write_text("from ._speedups import add\n")
    return root


@pytest.mark.parametrize("version", ["roost's", "3.12"])
def test_scikit_build_core_compiles_with_cmake_for_the_target(
    tmp_path: Path, toolchain_index: IndexServer, version: str
) -> None:
    """CMake finds the target's headers and ABI: the test interpreter's, and a Python of
    another minor version that roost does not run in."""
    extra = need_cmake_toolchain()
    base = Path(sys.executable) if version == "roost's" else need_pyenv(version)
    python = make_venv(tmp_path / "venv", base)
    project = cmake_project(tmp_path / "cmakeext")
    env = {**clean_env(tmp_path / "home"), **extra}
    result = install(python, toolchain_index, project, env, verbose=True)
    assert result.returncode == 0, result.stderr
    # scikit-build-core found the system CMake and ninja (or make, see above) adequate:
    # it asked for no cmake or ninja wheel, nothing beyond build-system.requires.
    assert f"{REQUIRED}scikit-build-core\n" in result.stderr
    assert ASKED not in result.stderr
    assert installed(python) == {"cmakeext": "2.0"}
    assert run([str(python), "-c", "import cmakeext; print(cmakeext.add(40, 2))"]) == "42"
    target = facts(python)
    assert wheel_tags(python, "cmakeext") == [target["tag"]]
    compiled = [p.name for p in Path(target["purelib"]).glob("cmakeext/_speedups*")]
    assert compiled == [f"_speedups{target['suffix']}"]


def test_a_cmake_error_is_shown_and_nothing_changes(
    tmp_path: Path, toolchain_index: IndexServer
) -> None:
    extra = need_cmake_toolchain()
    python = make_venv(tmp_path / "venv")
    project = cmake_project(tmp_path / "broken")
    lists = project / "CMakeLists.txt"
    lists.write_text(lists.read_text().replace("src/_speedups.c", "src/missing.c"))
    before = manifest(tmp_path / "venv")
    env = {**clean_env(tmp_path / "home"), **extra}
    result = install(python, toolchain_index, project, env, verbose=False)
    assert result.returncode == 1
    assert (
        "the build_wheel hook of the backend 'scikit_build_core.build' exited with status 1"
        in result.stderr
    )
    # CMake's own words, among the last lines of its output.
    assert "Cannot find source file:" in result.stderr and "src/missing.c" in result.stderr
    assert "Traceback" not in result.stderr
    assert manifest(tmp_path / "venv") == before


# -- maturin: cargo --------------------------------------------------------------------------


def need_rust_toolchain() -> Path:
    """The folder holding the cargo and rustc to build with, or skip naming the missing one.

    rustup installs into ~/.cargo/bin, which only shells that source ~/.cargo/env put on
    PATH, so it is looked for there too. What it holds are rustup's proxies, and they
    pick a toolchain from ~/.rustup under HOME, which the tests move to a temporary
    folder: the real toolchain's folder (rustc's sysroot, asked with the real HOME) is
    what goes on the PATH roost and maturin see.
    """
    rustup_bin = Path.home() / ".cargo" / "bin"
    found = {tool: shutil.which(tool) or shutil.which(tool, path=str(rustup_bin))
             for tool in ("cargo", "rustc")}  # fmt: skip
    missing = [tool for tool, path in found.items() if path is None]
    if missing:
        pytest.skip(f"no {' or '.join(missing)} on PATH or in {rustup_bin}")
    rustc = str(found["rustc"])
    sysroot = Path(run([rustc, "--print", "sysroot"]))
    folder = sysroot / "bin"
    if not (folder / "cargo").is_file() or not (folder / "rustc").is_file():
        # A distribution's Rust whose sysroot is elsewhere: its tools are real, not proxies.
        folder = Path(rustc).parent
    return folder


def rust_project(root: Path, name: str = "rusthello", version: str = "0.3.0") -> Path:
    """A maturin project of one binary and no crate dependencies: cargo builds it offline."""
    (root / "src").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = ["maturin>=1.0,<2"]
            build-backend = "maturin"

            [project]
            name = "{name}"
            version = "{version}"

            [tool.maturin]
            bindings = "bin"
            """
        )
    )
    (root / "Cargo.toml").write_text(
        f'[package]\nname = "{name}"\nversion = "{version}"\nedition = "2021"\n'
    )
    (root / "src" / "main.rs").write_text(
        'fn main() {\n    println!("hello from rust, {} args", std::env::args().count() - 1);\n}\n'
    )
    return root


def rust_env(tmp_path: Path) -> dict[str, str]:
    env = clean_env(tmp_path / "home")
    env["PATH"] = f"{need_rust_toolchain()}{os.pathsep}{env.get('PATH', '')}"
    # Nothing to fetch, and a fetch would fail the build instead of reaching out.
    env["CARGO_NET_OFFLINE"] = "true"
    return env


def test_maturin_builds_a_rust_binary_into_the_venv(
    tmp_path: Path, toolchain_index: IndexServer
) -> None:
    env = rust_env(tmp_path)
    python = make_venv(tmp_path / "venv")
    project = rust_project(tmp_path / "rusthello")
    result = install(python, toolchain_index, project, env, verbose=True)
    assert result.returncode == 0, result.stderr
    # cargo was on PATH: maturin asked for no puccinialin to download a Rust toolchain.
    assert f"{REQUIRED}maturin>=1.0,<2\n" in result.stderr
    assert ASKED not in result.stderr
    assert installed(python) == {"rusthello": "0.3.0"}
    binary = tmp_path / "venv" / "bin" / "rusthello"
    assert binary.is_file() and os.access(binary, os.X_OK)
    assert run([str(binary), "a", "b"]) == "hello from rust, 2 args"
    # A program, not an extension module: tied to the platform, not to an ABI (maturin's
    # backend builds with --compatibility off, so the plain platform tag).
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    assert wheel_tags(python, "rusthello") == [f"py3-none-{platform}"]


def test_a_rust_compile_error_is_shown_and_nothing_changes(
    tmp_path: Path, toolchain_index: IndexServer
) -> None:
    env = rust_env(tmp_path)
    python = make_venv(tmp_path / "venv")
    project = rust_project(tmp_path / "rustbroken", "rustbroken")
    main = project / "src" / "main.rs"
    main.write_text(main.read_text().replace("println!", 'let x: u8 = "no"; println!'))
    before = manifest(tmp_path / "venv")
    result = install(python, toolchain_index, project, env, verbose=False)
    assert result.returncode == 1
    assert "the build_wheel hook of the backend 'maturin' exited with status 1" in result.stderr
    assert "error[E0308]: mismatched types" in result.stderr  # rustc's own words
    assert "Traceback" not in result.stderr
    assert manifest(tmp_path / "venv") == before
