"""The wheel holds exactly the `roost` package, with every file of core/ and plugins/."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Build from a copy: setuptools writes build/ and *.egg-info into the source tree.
    source = tmp_path_factory.mktemp("source") / "roost"
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".git", ".nox", ".bench", "__pycache__")
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("roost-*.whl")
    return built


def test_top_level_names(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"roost"}
    assert len([t for t in tops if t.endswith(".dist-info")]) == 1


def test_every_source_file_is_shipped(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for folder, package in (("core", "roost"), ("plugins", "roost/plugins")):
        for path in (ROOT / folder).iterdir():
            if path.suffix in {".py", ".typed"}:
                assert f"{package}/{path.name}" in names, path


def test_console_script_and_module_entry(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        entry_points = next(
            archive.read(n).decode() for n in archive.namelist() if n.endswith("entry_points.txt")
        )
    assert "roost = roost.cli:main" in entry_points
    done = subprocess.run(
        [sys.executable, "-m", "roost", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("roost ")
