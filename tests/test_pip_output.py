"""roost's output for everyday commands, against pip 26.3's on the same index and venv.

Scripts and CI logs grep pip's lines (``Successfully installed``, ``No matching
distribution found for``, ...), so each test runs the reference pip and roost on the
same loopback index, in a venv at the same path with the same working folder, and
compares the lines roost says in pip's shape:

- ``Collecting``, ``Requirement already satisfied`` and ``Ignoring`` lines as a set
  (pip says them as it resolves, in its resolver's order; roost once it has resolved);
- ``Installing collected packages``, pip's lines for a version an install replaces,
  ``Successfully installed`` and ``Would install`` exactly, in order;
- pip's error lines, each found as it is in roost's (roost explains more after them),
  and the exit status.

pip's ``Downloading``/``Using cached`` lines are compared in ``tests/test_fetch_lines.py``
(with a cache, which pip is run without here). The reference pip is the pip 26.3 wheel
among the fetched test wheels (``tests/support/fetched.py``), run from the wheel inside
the venv's own interpreter, unless ``ROOST_REFERENCE_PIP`` names an interpreter whose
pip is 26.3.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import reference_pip
from tests.support.envs import clean_env, make_venv, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec

#: Lines compared as a set: pip prints them in its resolver's order.
RESOLUTION_PREFIXES = (
    "Collecting ",
    "Processing ",
    "Obtaining ",
    "Requirement already satisfied: ",
    "Ignoring ",
)
#: Lines compared in order.
SUMMARY_PREFIXES = (
    "Installing collected packages: ",
    "  Attempting uninstall: ",
    "    Found existing installation: ",
    "    Uninstalling ",
    "      Successfully uninstalled ",
    "Successfully installed ",
    "Would install ",
)
PY = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """Projects whose names, dependencies and markers exercise pip's lines."""
    index = PackageIndex(tmp_path_factory.mktemp("pip-output-index"))
    index.add(
        WheelSpec(
            "Top.Level",
            "1.0",
            requires=[
                "Mid_Dep>=1.0",
                'leaf-b; python_version >= "3"',
                'never; python_version < "3"',
            ],
        )
    )
    index.add(WheelSpec("Mid_Dep", "1.0", requires=["leaf-a<2,>=0.5"]))
    index.add(WheelSpec("leaf-a", "0.5"))
    index.add(WheelSpec("leaf-a", "1.0"))
    index.add(WheelSpec("leaf-a", "1.5"), yanked="broken")
    index.add(WheelSpec("leaf-b", "1.0"))
    index.add(WheelSpec("leaf-c", "1.0"))
    index.add(WheelSpec("withextra", "1.0", extras=["fast"], requires=['leaf-c; extra == "fast"']))
    index.add(WheelSpec("needsmissing", "1.0", requires=["missing-dep>=1"]))
    index.add(WheelSpec("newpython", "0.9"))
    index.add(WheelSpec("newpython", "1.0", requires_python=">=3.99"))
    # Requires-Python in the metadata only, not on the index page.
    index.add(WheelSpec("metapy", "1.0", requires_python=">=3.99"), requires_python=None)
    index.add(WheelSpec("usesmetapy", "1.0", requires=["metapy"]))
    index.add(WheelSpec("old", "1.0"))
    index.add(WheelSpec("old", "2.0"))
    index.add(WheelSpec("lexpr", "1.0", fields={"License-Expression": "MIT OR Apache-2.0"}))
    index.add(WheelSpec("lold", "1.0", fields={"License": "BSD"}))
    index.write()
    with IndexServer(index) as running:
        yield running


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def resolution(self) -> list[str]:
        return sorted(
            line for line in self.stdout.splitlines() if line.startswith(RESOLUTION_PREFIXES)
        )

    def summary(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith(SUMMARY_PREFIXES)]

    def errors(self) -> list[str]:
        return [
            line for line in self.stderr.splitlines() if line.startswith(("ERROR: ", "HINT: "))
        ]


class Side:
    """One installer's runs in a venv at ``<folder>/same``, from *folder*: the other
    installer's venv is moved aside first, so both print the same paths."""

    def __init__(self, folder: Path, tool: str) -> None:
        self.folder, self.tool = folder, tool
        self.home = folder / f"home-{tool}"
        self.home.mkdir()
        self.venv = make_venv(folder / "same")

    def __call__(self, *args: str) -> Run:
        env = clean_env(self.home)
        if self.tool == "pip":
            command = [*reference_pip.command(self.venv), *args, "--no-cache-dir"]
            done = subprocess.run(
                command,
                env=env,
                cwd=self.folder,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            return Run(done.returncode, done.stdout, done.stderr)
        command, *rest = args
        result = run_roost(command, "--python", str(self.venv), *rest, env=env, cwd=self.folder)
        return Run(result.returncode, result.stdout, result.stderr)

    def done(self) -> None:
        (self.folder / "same").rename(self.folder / self.tool)


def both(folder: Path, *commands: tuple[str, ...]) -> list[tuple[Run, Run]]:
    """Each command run by pip in a fresh venv, then by roost in another at the same path."""
    runs: dict[str, list[Run]] = {}
    for tool in ("pip", "roost"):
        side = Side(folder, tool)
        runs[tool] = [side(*command) for command in commands]
        side.done()
    return list(zip(runs["pip"], runs["roost"], strict=True))


def same_lines(pip: Run, roost: Run) -> None:
    assert roost.returncode == pip.returncode, roost.stderr
    assert roost.resolution() == pip.resolution()
    assert roost.summary() == pip.summary()


def write_requirements(folder: Path) -> None:
    (folder / "more").mkdir()
    (folder / "more" / "inner.txt").write_text("leaf-c==1.0\n")
    (folder / "req.txt").write_text(
        'leaf-b  # pinned by hand\n-r more/inner.txt\nnever; python_version < "3"\n'
    )


def test_an_install_says_what_pip_says(tmp_path: Path, server: IndexServer) -> None:
    """Collecting lines with pip's "(from ...)" chains (dependents, -r files, nested
    files by their absolute path), markers left out, a requirement whose marker is
    false ignored, pip's install order, and the summary in the requirements'
    spelling, sorted as pip sorts."""
    write_requirements(tmp_path)
    install = ("install", "-i", server.url, "Top.Level", "withextra[fast]", "-r", "req.txt")
    [(pip, roost)] = both(tmp_path, install)
    same_lines(pip, roost)
    inner = tmp_path / "more" / "inner.txt"
    assert roost.resolution() == sorted(
        [
            "Collecting Top.Level",
            "Collecting withextra[fast]",
            "Collecting leaf-b (from -r req.txt (line 1))",
            f"Collecting leaf-c==1.0 (from -r {inner} (line 1))",
            "Collecting Mid_Dep>=1.0 (from Top.Level)",
            "Collecting leaf-a<2,>=0.5 (from Mid_Dep>=1.0->Top.Level)",
            "Ignoring never: markers 'python_version < \"3\"' don't match your environment",
        ]
    )
    assert roost.summary()[-1] == (
        "Successfully installed Mid_Dep-1.0 Top.Level-1.0 leaf-a-1.0 leaf-b-1.0 leaf-c-1.0 "
        "withextra-1.0"
    )


def test_installing_again_says_every_requirement_is_satisfied(
    tmp_path: Path, server: IndexServer
) -> None:
    write_requirements(tmp_path)
    install = ("install", "-i", server.url, "Top.Level", "withextra[fast]", "-r", "req.txt")
    [_, (pip, roost)] = both(tmp_path, install, install)
    same_lines(pip, roost)
    site = f"./same/lib/python{PY}/site-packages"
    assert (
        f"Requirement already satisfied: leaf-a<2,>=0.5 in {site} (from Mid_Dep>=1.0->Top.Level)"
        " (1.0)"
    ) in roost.resolution()
    assert not roost.summary()


def test_an_upgrade_says_what_it_replaces(tmp_path: Path, server: IndexServer) -> None:
    first = ("install", "-i", server.url, "old==1.0")
    [_, (pip, roost)] = both(tmp_path, first, ("install", "-i", server.url, "old==2.0"))
    same_lines(pip, roost)
    assert roost.summary() == [
        "Installing collected packages: old",
        "  Attempting uninstall: old",
        "    Found existing installation: old 1.0",
        "    Uninstalling old-1.0:",
        "      Successfully uninstalled old-1.0",
        "Successfully installed old-2.0",
    ]


def test_a_dry_run_names_what_it_would_install(tmp_path: Path, server: IndexServer) -> None:
    [(pip, roost)] = both(tmp_path, ("install", "--dry-run", "-i", server.url, "Top.Level"))
    same_lines(pip, roost)
    assert roost.summary() == ["Would install Mid_Dep-1.0 Top.Level-1.0 leaf-a-1.0 leaf-b-1.0"]


@pytest.mark.parametrize(
    "requirement",
    ["nothing-here", "leaf-a==9", "newpython==1.0", "needsmissing", "requirements.txt"],
)
def test_not_found_says_pips_lines(tmp_path: Path, server: IndexServer, requirement: str) -> None:
    """pip's "Could not find a version" and "No matching distribution found" lines,
    with the yanked versions and those needing another Python before them."""
    [(pip, roost)] = both(tmp_path, ("install", "-i", server.url, requirement))
    assert (pip.returncode, roost.returncode) == (1, 1)
    # pip says its hint for "requirements.txt" on stdout; roost among its errors.
    assert [line for line in roost.errors() if not line.startswith("HINT: ")] == pip.errors()
    assert roost.errors()[-1].startswith("ERROR: No matching distribution found for ")


@pytest.mark.parametrize("requirement", ["metapy", "usesmetapy"])
def test_a_python_the_metadata_refuses_is_said_as_pip_says_it(
    tmp_path: Path, server: IndexServer, requirement: str
) -> None:
    [(pip, roost)] = both(tmp_path, ("install", "-i", server.url, requirement))
    assert (pip.returncode, roost.returncode) == (1, 1)
    assert roost.errors() == pip.errors()
    assert roost.errors()[0].startswith("ERROR: Package 'metapy' requires a different Python: ")


@pytest.mark.parametrize(
    ("files", "given"),
    [
        ({}, ("-r", "missing.txt")),
        ({}, ("-r", ".")),
        ({"outer.txt": "leaf-b\n-r inner-missing.txt\n"}, ("-r", "outer.txt")),
    ],
)
def test_an_unreadable_requirements_file_fails_as_with_pip(
    tmp_path: Path, server: IndexServer, files: dict[str, str], given: tuple[str, ...]
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    [(pip, roost)] = both(tmp_path, ("install", "-i", server.url, *given))
    assert (pip.returncode, roost.returncode) == (1, 1)
    (expected,) = pip.errors()
    (said,) = roost.errors()
    # pip names no line for a missing nested file; roost adds it.
    assert said.startswith(expected)
    assert said == expected or said.endswith(" (from line 2 of outer.txt)")


@pytest.mark.parametrize(
    ("files", "given"),
    [
        ({"req.txt": "leaf-b\nfoo===bar baz\n"}, ("-r", "req.txt")),
        ({"req.txt": "leaf-b\n./no-such-dir[x\n"}, ("-r", "req.txt")),
        ({"outer.txt": "-r inner.txt\n", "inner.txt": "\n\nleaf-a >>\n"}, ("-r", "outer.txt")),
        ({}, ("leaf-a >>",)),
    ],
)
def test_an_invalid_requirement_is_said_as_pip_says_it(
    tmp_path: Path, server: IndexServer, files: dict[str, str], given: tuple[str, ...]
) -> None:
    """pip's "Invalid requirement" lines, with "(from line N of FILE)" after the
    parser's message for a line of a requirements file (FILE as pip names it)."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    [(pip, roost)] = both(tmp_path, ("install", "-i", server.url, *given))
    assert (pip.returncode, roost.returncode) == (1, 1)
    ours = roost.stderr.splitlines()
    theirs = pip.stderr.splitlines()
    assert ours[0].startswith("ERROR: Invalid requirement: ")
    # the message, the requirement and the caret line, as pip prints them (the hint
    # after them is roost's own wording)
    assert ours[:3] == theirs[:3]


def test_install_without_requirements_exits_1(tmp_path: Path, server: IndexServer) -> None:
    [(pip, roost)] = both(tmp_path, ("install", "-i", server.url))
    assert (pip.returncode, roost.returncode) == (1, 1)
    lead = "ERROR: You must give at least one requirement to install ("
    assert pip.errors()[0].startswith(lead) and roost.errors()[0].startswith(lead)
    assert roost.stdout == ""


def test_show_prints_the_license_expression_of_metadata_2_4(
    tmp_path: Path, server: IndexServer
) -> None:
    """pip shows ``License-Expression`` when metadata 2.4 or later has one, else
    ``License``: the same metadata, edited to 2.4 in both venvs, shows the same."""
    install = ("install", "-i", server.url, "lexpr", "lold")
    runs: dict[str, list[Run]] = {}
    for tool in ("pip", "roost"):
        side = Side(tmp_path, tool)
        assert side(*install).returncode == 0
        site = tmp_path / "same" / "lib" / f"python{PY}" / "site-packages"
        for name in ("lexpr", "lold"):
            metadata = site / f"{name}-1.0.dist-info" / "METADATA"
            metadata.write_text(
                metadata.read_text().replace("Metadata-Version: 2.1", "Metadata-Version: 2.4")
            )
        runs[tool] = [side("show", "lexpr"), side("show", "lold"), side("show", "lexpr", "lold")]
        side.done()
    for pip, roost in zip(runs["pip"], runs["roost"], strict=True):
        assert (roost.returncode, roost.stdout) == (pip.returncode, pip.stdout)
    lexpr, lold, _ = (run.stdout.splitlines() for run in runs["roost"])
    assert "License-Expression: MIT OR Apache-2.0" in lexpr and "License: " not in lexpr
    assert "License: BSD" in lold


def test_version_after_the_command_is_refused_as_by_pip(tmp_home: dict[str, str]) -> None:
    """pip reads -V/--version before the command name only: after it, pip says there is
    no such option (exit 2). roost does the same, and prints its version before."""
    for argv in (["install", "-V"], ["cache", "-V", "dir"], ["list", "--version"]):
        pip = subprocess.run(
            [*reference_pip.command(), *argv],
            env=tmp_home,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        ours = run_roost(*argv, env=tmp_home)
        assert (pip.returncode, ours.returncode) == (2, 2), (argv, ours.stderr)
        assert "no such option" in pip.stderr.lower() and "no such option" in ours.stderr.lower()
    for argv in (["-V"], ["--version"], ["-q", "-V"], ["-V", "install", "x"]):
        ours = run_roost(*argv, env=tmp_home)
        assert ours.returncode == 0 and ours.stdout.startswith("roost "), argv
