"""``--group [PATH:]GROUP`` (PEP 735 dependency groups of a pyproject.toml), as pip 26.3
reads them: includes followed, repeatable, and a clear error (nothing installed) for a
missing file, table or group, a cycle, an invalid entry or a path of another kind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from roost.testing import VenvMaker, WheelMaker
from tests.support import reference_pip
from tests.support.envs import run_roost

PYPROJECT = """\
[project]
name = "app"
version = "0"

[dependency-groups]
test = ["needs", {include-group = "Lint"}]
lint = ["timed==1.0"]
docs = ["other"]
"""


@pytest.fixture
def folder(make_wheel: WheelMaker) -> Path:
    """A find-links folder: ``timed`` 1.0 and 2.0, ``needs`` (requires timed), ``other``."""
    make_wheel("timed", "1.0")
    make_wheel("timed", "2.0")
    make_wheel("needs", "1.0", requires=["timed"])
    make_wheel("other", "1.0")
    return make_wheel.folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    return root


def _install(
    venv_python: Path, folder: Path, home: dict[str, str], cwd: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return run_roost(
        "install",
        "--no-index",
        "-f",
        str(folder),
        "--python",
        str(venv_python),
        *args,
        env=home,
        cwd=cwd,
    )


def test_group_installs_its_requirements_with_includes_as_pip_does(
    folder: Path,
    project: Path,
    roost_venv: VenvMaker,
    tmp_home: dict[str, str],
) -> None:
    ours = roost_venv()
    result = _install(ours.python, folder, tmp_home, project, "--group", "test")
    assert result.returncode == 0, result.stderr
    assert ours.installed() == {"needs": "1.0", "timed": "1.0"}
    reference_pip.require()
    theirs = roost_venv()
    args = ["install", "--no-index", "-f", str(folder), "--group", "test"]
    pip = subprocess.run(
        [*reference_pip.command(theirs.python), *args],
        env=tmp_home,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert pip.returncode == 0, pip.stderr
    assert theirs.installed() == ours.installed()


def test_groups_repeat_and_take_a_path(
    folder: Path, project: Path, roost_venv: VenvMaker, tmp_home: dict[str, str], tmp_path: Path
) -> None:
    venv = roost_venv()
    path = project / "pyproject.toml"
    result = _install(
        venv.python,
        folder,
        tmp_home,
        tmp_path,
        "--group",
        f"{path}:LINT",
        "--group",
        f"{path}:docs",
    )
    assert result.returncode == 0, result.stderr
    assert venv.installed() == {"timed": "1.0", "other": "1.0"}
    # Beside named requirements, which the resolver holds together with the group's.
    conflict = _install(venv.python, folder, tmp_home, project, "timed>=2", "--group", "lint")
    assert conflict.returncode == 1
    assert "timed" in conflict.stderr
    assert venv.installed() == {"timed": "1.0", "other": "1.0"}


def test_download_and_dry_run_take_groups(
    folder: Path, project: Path, roost_venv: VenvMaker, tmp_home: dict[str, str], tmp_path: Path
) -> None:
    venv = roost_venv()
    dry = _install(venv.python, folder, tmp_home, project, "--dry-run", "--group", "docs")
    assert dry.returncode == 0, dry.stderr
    assert "Would install other-1.0" in dry.stdout
    dest = tmp_path / "saved"
    run_roost(
        "download",
        "--no-index",
        "-f",
        str(folder),
        "--python",
        str(venv.python),
        "-d",
        str(dest),
        "--group",
        "lint",
        env=tmp_home,
        cwd=project,
        check=True,
    )
    assert [p.name for p in dest.iterdir()] == ["timed-1.0-py3-none-any.whl"]
    assert venv.installed() == {}


BROKEN = {
    "cycle": (
        '[dependency-groups]\na = [{include-group = "b"}]\nb = [{include-group = "a"}]\n',
        "a",
        "Cyclic dependency group include",
    ),
    "invalid entry": ('[dependency-groups]\na = ["not a requirement!"]\n', "a", "cannot be read"),
    "unknown object": ('[dependency-groups]\na = [{foo = "b"}]\n', "a", "Invalid dependency"),
    "missing include": (
        '[dependency-groups]\na = [{include-group = "gone"}]\n',
        "a",
        "'gone' not found",
    ),
    "not a list": ('[dependency-groups]\na = "x"\n', "a", "rather than a list"),
    "duplicate names": ('[dependency-groups]\nA = ["x"]\na = ["y"]\n', "a", "Duplicate"),
    "no table": ('[project]\nname = "x"\n', "a", "has no [dependency-groups] table"),
    "table not a table": ('dependency-groups = ["a"]\n', "a", "is not a table"),
    "missing group": ('[dependency-groups]\nb = ["x"]\nc = []\n', "a", "(its groups: b, c)"),
    "bad toml": ("[dependency-groups\n", "a", "is not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_groups_are_clear_errors_and_change_nothing(
    case: str, folder: Path, roost_venv: VenvMaker, tmp_home: dict[str, str], tmp_path: Path
) -> None:
    text, group, message = BROKEN[case]
    (tmp_path / "pyproject.toml").write_text(text)
    venv = roost_venv()
    result = _install(venv.python, folder, tmp_home, tmp_path, "--group", group)
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert venv.installed() == {}


REFUSED = [
    ("dev", 1, "pyproject.toml not found"),
    ("setup.cfg:dev", 2, "a group's file is a local pyproject.toml or a lock file"),
    (":dev", 2, "a group's file is a local pyproject.toml"),
    ("pyproject.toml:not valid!", 2, "is not a dependency group name"),
    ("pyproject.toml:", 2, "is not a dependency group name"),
]


@pytest.mark.parametrize("case", range(len(REFUSED)))
def test_group_values_refused(
    case: int, folder: Path, roost_venv: VenvMaker, tmp_home: dict[str, str], tmp_path: Path
) -> None:
    value, code, message = REFUSED[case]
    venv = roost_venv()
    result = _install(venv.python, folder, tmp_home, tmp_path, "--group", value)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert venv.installed() == {}
