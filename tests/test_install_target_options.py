"""``roost install`` for another machine (``--platform``, ``--python-version``,
``--implementation``, ``--abi`` with ``--target``), ``--ignore-requires-python``, and
requirements files that name nothing: each against pip 26.3 on the same index."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import reference_pip
from tests.support.envs import clean_env, installed, make_venv, manifest, run_roost
from tests.support.index import PackageIndex, build_sdist
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec

LAMBDA = ("--platform", "manylinux2014_x86_64", "--python-version", "3.12")
#: Files each installer writes about itself.
OWN_FILES = {"INSTALLER", "RECORD"}


@pytest.fixture(scope="module")
def foreign_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """Wheels for other machines: a native project built for CPython 3.11 and 3.12 on
    manylinux, macOS and Windows, with platform- and version-gated dependencies, and
    a newer release that has only an sdist and a macOS wheel (so it must be passed by).
    ``layered`` has only dependencies whose markers hold on this Linux machine and on
    the Lambda target alike (pip evaluates markers for the machine it runs on)."""
    index = PackageIndex(tmp_path_factory.mktemp("foreign"))
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
                console_scripts={"native": "native:main"},
                requires=[
                    'onlinux; sys_platform == "linux"',
                    'onwindows; sys_platform == "win32"',
                    'new312; python_version >= "3.12"',
                    'old311; python_version < "3.12"',
                ],
            )
        )
    for tag in ("cp311-cp311-manylinux2014_x86_64", "cp312-cp312-manylinux2014_x86_64"):
        index.add(
            WheelSpec(
                "layered",
                "1.0",
                tag=tag,
                root_is_purelib=False,
                console_scripts={"layered": "layered:main"},
                requires=[
                    'onlinux; sys_platform == "linux"',
                    'onwindows; sys_platform == "win32"',
                    'modern; python_version >= "3.8"',
                ],
                data={"data/share/layered/readme.txt": b"layer"},
            )
        )
    index.add(WheelSpec("native", "2.0", tag="cp312-cp312-macosx_11_0_arm64"))
    index.add_file(build_sdist("native", "2.0", index.root / "build"))
    for name in ("onlinux", "onwindows", "new312", "old311", "modern"):
        index.add(WheelSpec(name, "1.0"))
    index.write()
    with IndexServer(index) as server:
        yield server


def pip(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The reference pip, run by the tests' own interpreter (as roost's --python is)."""
    return subprocess.run(
        [*reference_pip.command(), *args, "--no-cache-dir"],
        env=clean_env(home),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def layer(root: Path) -> dict[str, tuple[int, str]]:
    """*root*'s files, less what each installer writes about itself and bytecode;
    scripts by name only (each installer has its own launcher text)."""
    return {
        path: (0, "<script>") if path.startswith("bin/") else facts
        for path, facts in manifest(root).items()
        if Path(path.rstrip("/")).name not in OWN_FILES and "__pycache__" not in path
    }


def recorded(root: Path) -> set[str]:
    """Every file the RECORD files under *root* list, relative to *root*.

    pip's RECORD of a --target install names scripts and data as they were in its
    staging folder (``../../bin/x``, outside the target); roost's name them where they
    are, so only roost's are held to the files really there.
    """
    paths: set[str] = set()
    for record in root.glob("*.dist-info/RECORD"):
        for row in csv.reader(record.read_text().splitlines()):
            if row:
                paths.add((root / row[0]).resolve().relative_to(root.resolve()).as_posix())
    return paths


def test_lambda_layer_recipe_makes_what_pip_makes(
    tmp_path: Path, foreign_server: IndexServer
) -> None:
    """The AWS Lambda layer recipe: the same files, byte for byte, as pip puts there
    (pip's bytecode aside: roost compiles only with --compile): the manylinux 3.12
    wheel, its data files, its script, and its dependencies."""
    recipe = ("install", *LAMBDA, "--only-binary=:all:", "--target", "layer/python")
    work = tmp_path / "same"
    work.mkdir()
    by_pip = pip(
        *recipe,
        "--no-compile",
        "-i",
        foreign_server.url,
        "layered",
        home=tmp_path / "hp",
        cwd=work,
    )
    assert by_pip.returncode == 0, by_pip.stderr
    (tmp_path / "same").rename(tmp_path / "pip")
    work.mkdir()
    by_roost = run_roost(
        *recipe,
        "--python",
        sys.executable,
        "-i",
        foreign_server.url,
        "layered",
        env=clean_env(tmp_path / "hr"),
        cwd=work,
    )
    assert by_roost.returncode == 0, by_roost.stderr
    pip_layer, roost_layer = tmp_path / "pip" / "layer" / "python", work / "layer" / "python"
    assert layer(roost_layer) == layer(pip_layer)
    files = {p for p, facts in manifest(roost_layer).items() if facts[1] != "<dir>"}
    assert recorded(roost_layer) == files
    names = {p.name.split("-")[0] for p in roost_layer.glob("*.dist-info")}
    assert names == {"layered", "modern", "onlinux"}
    assert (
        "cp312-cp312-manylinux2014_x86_64"
        in (roost_layer / "layered-1.0.dist-info" / "WHEEL").read_text()
    )
    assert (roost_layer / "bin" / "layered").is_file()
    assert "Successfully installed layered-1.0 modern-1.0 onlinux-1.0" in by_roost.stdout


def test_markers_describe_the_target_machine(tmp_path: Path, foreign_server: IndexServer) -> None:
    """Unlike pip 26.3, which evaluates markers for the interpreter it runs on (it would
    put old311 into a 3.12 layer built by a 3.11), roost evaluates them for the
    machine described, as ``download`` does."""
    target = tmp_path / "layer"
    done = run_roost(
        "install", *LAMBDA, "--only-binary=:all:", "--target", str(target),
        "--python", sys.executable, "-i", foreign_server.url, "native",
        env=clean_env(tmp_path / "hr"), check=True,
    )  # fmt: skip
    assert "Successfully installed native-1.0 new312-1.0 onlinux-1.0" in done.stdout
    wheel = (target / "native-1.0.dist-info" / "WHEEL").read_text()
    assert "cp312-cp312-manylinux_2_17_x86_64" in wheel


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        # Checked first, as pip does: sources would be built for this machine.
        (("--target", "t"), "--only-binary=:all:"),
        (("--target", "t", "--only-binary=:all:", "--no-binary", "native"), "--only-binary=:all:"),
        # Into this environment: refused even with wheels only.
        (("--only-binary=:all:",), "--target DIR"),
        (("--no-deps",), "--target DIR"),
    ],
)
def test_platform_options_refused_where_pip_refuses_them(
    tmp_path: Path, foreign_server: IndexServer, extra: tuple[str, ...], words: str
) -> None:
    venv = make_venv(tmp_path / "venv")
    before = manifest(tmp_path / "venv")
    args = ("install", *LAMBDA, *extra, "-i", foreign_server.url, "native")
    by_pip = pip("--python", str(venv), *args, home=tmp_path / "hp", cwd=tmp_path)
    by_roost = run_roost(
        *args, "--python", str(venv), env=clean_env(tmp_path / "hr"), cwd=tmp_path
    )
    assert by_pip.returncode == 1, by_pip.stderr
    assert by_roost.returncode == by_pip.returncode, by_roost.stderr
    assert words in by_roost.stderr
    assert "--platform, --python-version, --implementation and --abi" in by_roost.stderr
    assert manifest(tmp_path / "venv") == before
    assert not (tmp_path / "t").exists()


def test_dry_run_for_windows_and_no_deps_into_target(
    tmp_path: Path, foreign_server: IndexServer
) -> None:
    """--dry-run needs no --target; --no-deps stands in for --only-binary=:all:."""
    venv = make_venv(tmp_path / "venv")
    windows = (
        "install",
        "--dry-run",
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
        foreign_server.url,
        "native",
    )
    by_pip = pip("--python", str(venv), *windows, home=tmp_path / "hp", cwd=tmp_path)
    by_roost = run_roost(
        *windows, "--python", str(venv), env=clean_env(tmp_path / "hr"), cwd=tmp_path
    )
    assert by_pip.returncode == by_roost.returncode == 0, by_roost.stderr
    # pip's markers are this machine's (old311, onlinux); roost's the described one's.
    assert "Would install native-1.0 new312-1.0 onwindows-1.0" in by_roost.stdout
    assert installed(venv) == {}
    target = tmp_path / "nodeps"
    run_roost(
        "install",
        *LAMBDA,
        "--no-deps",
        "--target",
        str(target),
        "--python",
        sys.executable,
        "-i",
        foreign_server.url,
        "native",
        env=clean_env(tmp_path / "hr"),
        check=True,
    )
    assert sorted(p.name for p in target.glob("*.dist-info")) == ["native-1.0.dist-info"]


def test_ignore_requires_python_as_pip(tmp_path: Path, index_server: IndexServer) -> None:
    """onlynew 1.0 wants Python >=3.12: an older target gets 0.9, unless the check is off."""
    python = "3.11"
    for flags, version in (((), "0.9"), (("--ignore-requires-python",), "1.0")):
        args = ("install", "--dry-run", "--target", str(tmp_path / "t"), *flags)
        args += ("--python-version", python, "--only-binary=:all:", "-i", index_server.url)
        by_pip = pip(*args, "onlynew", home=tmp_path / "hp", cwd=tmp_path)
        by_roost = run_roost(
            *args, "--python", sys.executable, "onlynew", env=clean_env(tmp_path / "hr")
        )
        assert by_roost.returncode == by_pip.returncode == 0, by_roost.stderr
        assert f"Would install onlynew-{version}" in by_pip.stdout
        assert f"Would install onlynew-{version}" in by_roost.stdout


@pytest.mark.parametrize("command", ["install", "download", "wheel"])
def test_requirements_file_naming_nothing(
    tmp_path: Path, index_server: IndexServer, command: str
) -> None:
    """pip does nothing and exits 0; a download or wheel folder is still made."""
    (tmp_path / "empty.txt").write_text("# nothing yet\n\n   \n")
    venv = make_venv(tmp_path / "venv")
    before = manifest(tmp_path / "venv")
    folder = {"install": (), "download": ("-d", "out-{}"), "wheel": ("-w", "out-{}")}[command]
    results = {}
    for tool in ("pip", "roost"):
        args = (command, "-r", "empty.txt", *(f.format(tool) for f in folder))
        args += ("-i", index_server.url)
        if tool == "pip":
            results[tool] = pip("--python", str(venv), *args, home=tmp_path / "hp", cwd=tmp_path)
        else:
            results[tool] = run_roost(
                *args, "--python", str(venv), env=clean_env(tmp_path / "hr"), cwd=tmp_path
            )
    assert results["pip"].returncode == 0, results["pip"].stderr
    assert results["roost"].returncode == 0, results["roost"].stderr
    assert "Success" not in results["roost"].stdout
    assert results["roost"].stderr == ""
    assert manifest(tmp_path / "venv") == before
    if folder:
        assert (tmp_path / "out-pip").is_dir()
        assert list((tmp_path / "out-roost").iterdir()) == []


def test_no_requirement_at_all_is_pips_error(tmp_path: Path) -> None:
    result = run_roost("download", "-d", str(tmp_path), env=clean_env(tmp_path))
    assert result.returncode == 1
    assert "ERROR: You must give at least one requirement to download" in result.stderr
