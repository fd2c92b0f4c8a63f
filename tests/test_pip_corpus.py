"""Real-world pip command lines, run with pip 26.3 and with roost: the same result.

tests/data/pip_corpus.toml holds the lines (Dockerfiles, CI steps, READMEs, pip's own
docs), each with its source. Each line runs twice through ``bash -c``, in a folder
laid out the same way both times (a venv, a home, the files the lines use): once with
``pip`` meaning the reference pip 26.3 (:mod:`tests.support.reference_pip`), once
with ``pip`` meaning roost. The two runs happen one after the other at the same path
(the first folder is moved aside), so paths written into files (``pip freeze`` of an
editable project) match. Then they must agree on:

- the exit status;
- the distributions (and versions) the venv's Python sees;
- the files the line left in its folder (``--target``, ``--prefix``, ``-d``, ``-w``
  outputs, ``freeze > requirements.txt``): their names, and the content of text files
  and of the distribution files taken from the index as they are.

Byte code is left out of the comparison (roost compiles less by default than pip, as
docs/commands.md says), and so are the installer's own marks in ``.dist-info``
(``INSTALLER``, ``RECORD``).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import reference_pip
from tests.support.envs import ROOST_COMMAND, clean_env, installed, make_venv
from tests.support.fetched import fetched_wheel
from tests.support.index import PackageIndex
from tests.support.projects import FLIT, pyproject_project
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec, build_sdist

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

CORPUS = Path(__file__).parent / "data" / "pip_corpus.toml"
LINES: list[dict[str, Any]] = tomllib.loads(CORPUS.read_text())["line"]
#: How the lines name the installer; each becomes ``pip`` (the script on PATH).
INSTALLER_SPELLINGS = ("python3 -m pip ", "python -m pip ", "pip3 ")
#: Whatever takes longer than this is a failure (a hang, a retry loop).
TIMEOUT = 300
#: Distributions and their dependencies, named as the real projects the lines name.
PROJECTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "requests",
        "2.31.0",
        ("urllib3<3,>=1.21.1", "idna<4,>=2.5", "certifi>=2017.4.17", "charset-normalizer<4,>=2"),
    ),
    ("urllib3", "1.26.20", ()),
    ("urllib3", "2.2.3", ()),
    ("idna", "3.10", ()),
    ("certifi", "2024.8.30", ()),
    ("charset-normalizer", "3.4.0", ()),
    (
        "flask",
        "3.0.3",
        (
            "Werkzeug>=3.0.0",
            "Jinja2>=3.1.2",
            "itsdangerous>=2.1.2",
            "click>=8.1.3",
            "blinker>=1.6.2",
        ),
    ),
    ("werkzeug", "3.0.4", ("MarkupSafe>=2.1.1",)),
    ("jinja2", "3.1.4", ("MarkupSafe>=2.0",)),
    ("markupsafe", "3.0.2", ()),
    ("itsdangerous", "2.2.0", ()),
    ("click", "8.1.7", ()),
    ("blinker", "1.8.2", ()),
    ("django", "5.1.2", ("asgiref<4,>=3.8.1", "sqlparse>=0.3.1")),
    ("asgiref", "3.8.1", ()),
    ("sqlparse", "0.5.1", ()),
    ("pytest", "8.3.3", ("iniconfig", "packaging", "pluggy<2,>=1.5")),
    ("iniconfig", "2.0.0", ()),
    ("pluggy", "1.5.0", ()),
    ("packaging", "24.1", ()),
    (
        "flake8",
        "7.1.1",
        ("mccabe<0.8.0,>=0.7.0", "pycodestyle<2.13.0,>=2.12.0", "pyflakes<3.3.0,>=3.2.0"),
    ),
    ("mccabe", "0.7.0", ()),
    ("pycodestyle", "2.12.1", ()),
    ("pyflakes", "3.2.0", ()),
    ("build", "1.2.2", ("packaging>=19.1", "pyproject_hooks")),
    ("pyproject-hooks", "1.2.0", ()),
    ("twine", "5.1.1", ("requests>=2.20", "packaging")),
    ("wheel", "0.44.0", ()),
    ("gunicorn", "23.0.0", ("packaging",)),
    ("h11", "0.14.0", ()),
    ("httptools", "0.6.4", ()),
    ("torch", "2.5.0", ()),
    ("torchvision", "0.20.0", ("torch==2.5.0",)),
    ("onlynew", "0.9", ()),
)


@dataclass(frozen=True)
class Indexes:
    main: IndexServer
    extra: IndexServer
    #: Every file of the main index by name: content of downloaded files is compared.
    files: dict[str, bytes]
    #: ``name==version --hash=sha256:...`` lines of requests 2.31.0 and its dependencies.
    lock: str


def _main_index(root: Path) -> tuple[PackageIndex, dict[str, Path]]:
    index = PackageIndex(root)
    # PEP 700 upload times: a month old, but for requests 2.32.3, uploaded today, which
    # "--uploaded-prior-to P7D" leaves out.
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=30)
    added: dict[str, Path] = {}
    for name, version, requires in PROJECTS:
        added[f"{name}-{version}"] = index.add(
            WheelSpec(name, version, requires=list(requires)), upload_time=old
        )
    index.add(
        WheelSpec("requests", "2.32.3", requires=["urllib3<3,>=1.21.1", "idna", "certifi"]),
        upload_time=datetime.datetime.now(datetime.timezone.utc),
    )
    index.add(WheelSpec("onlynew", "1.0", requires_python=">=3.99"), upload_time=old)
    extras = {"standard": ["httptools>=0.5.0"]}
    index.add(
        WheelSpec(
            "uvicorn",
            "0.32.0",
            requires=["click>=7.0", "h11>=0.8", 'httptools>=0.5.0; extra == "standard"'],
            extras=list(extras),
        ),
        upload_time=old,
    )
    index.add(
        WheelSpec("SomeProject", "1.0", extras=["PDF"], requires=['pyflakes; extra == "pdf"']),
        upload_time=old,
    )
    index.add(WheelSpec("SomeProject", "1.5"), upload_time=old)
    index.add(WheelSpec("SomeProject", "2.0b1"), upload_time=old)
    # An sdist-only project (as docopt is), built with setuptools.
    index.add_file(build_sdist("docopt", "0.6.2", root / "build"), upload_time=old)
    for real in ("pip", "setuptools", "flit_core"):
        index.add(
            fetched_wheel(real, f"{sys.version_info[0]}.{sys.version_info[1]}"), upload_time=old
        )
    index.write()
    return index, added


def _lock(added: dict[str, Path]) -> str:
    pinned = (
        "requests-2.31.0",
        "urllib3-2.2.3",
        "idna-3.10",
        "certifi-2024.8.30",
        "charset-normalizer-3.4.0",
    )
    lines = []
    for key in pinned:
        name, _, version = key.rpartition("-")
        digest = hashlib.sha256(added[key].read_bytes()).hexdigest()
        lines.append(f"{name}=={version} --hash=sha256:{digest}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Indexes]:
    main, added = _main_index(tmp_path_factory.mktemp("corpus-main"))
    extra = PackageIndex(tmp_path_factory.mktemp("corpus-extra"))
    extra.add(WheelSpec("torch", "2.5.0+cpu"))
    extra.add(WheelSpec("torchvision", "0.20.0+cpu", requires=["torch==2.5.0+cpu"]))
    extra.write()
    files = {path.name: path.read_bytes() for path in main.files_dir.rglob("*") if path.is_file()}
    with IndexServer(main) as main_server, IndexServer(extra) as extra_server:
        yield Indexes(main_server, extra_server, files, _lock(added))


def _lay_out(folder: Path, indexes: Indexes) -> None:
    """The files the lines use, in *folder* (the folder each line runs in)."""
    pyproject_project(
        folder,
        "myproject",
        build_system=FLIT,
        dependencies=("requests>=2.0",),
        extras={"dev": ["pytest", "flake8"]},
    )
    with (folder / "pyproject.toml").open("a") as toml:
        toml.write('[dependency-groups]\ndev = ["pytest", "build"]\n')
    (folder / "requirements.txt").write_text("flask\nrequests==2.31.0  # pinned\n")
    (folder / "requirements-dev.txt").write_text("-r requirements.txt\npytest\n")
    (folder / "docs-requirements.txt").write_text("jinja2\n")
    (folder / "constraints.txt").write_text("urllib3<2\n")
    (folder / "requirements-lock.txt").write_text(indexes.lock)
    wheelhouse = folder / "wheelhouse"
    wheelhouse.mkdir()
    for name, data in indexes.files.items():
        if name.endswith(".whl") and name.split("-")[0] in (
            "requests",
            "urllib3",
            "idna",
            "certifi",
            "charset_normalizer",
        ):
            (wheelhouse / name).write_bytes(data)


def _installer_script(bin_dir: Path, tool: str, venv_python: Path) -> None:
    """``pip`` (and ``pip3``) on PATH: the reference pip, or roost, for the venv."""
    bin_dir.mkdir()
    command = reference_pip.command(venv_python) if tool == "pip" else list(ROOST_COMMAND)
    for name in ("pip", "pip3"):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\nexec {shlex.join(command)} "$@"\n')
        script.chmod(0o755)


def command_line(line: str, indexes: Indexes) -> str:
    """The corpus line as the shell runs it: placeholders filled, ``pip`` for the tool."""
    text = line.replace("{index}", indexes.main.url).replace("{extra}", indexes.extra.url)
    for spelling in INSTALLER_SPELLINGS:
        text = text.replace(spelling, "pip ")
    return text


@dataclass
class Outcome:
    returncode: int
    output: str
    installed: dict[str, str]
    files: dict[str, str]


def _files(folder: Path, indexes: Indexes) -> dict[str, str]:
    """Relative path -> what is compared of it (see the module docstring)."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        parts = relative.parts
        if "__pycache__" in parts or path.suffix == ".pyc" or path.is_dir():
            continue
        if any(p.endswith(".dist-info") for p in parts) and path.name in ("INSTALLER", "RECORD"):
            continue
        if path.suffix in (".txt", ".json") and not any(p.endswith(".dist-info") for p in parts):
            text = path.read_text(errors="replace")
            if path.name == "report.json":  # names the installer; compared elsewhere
                text = "<report>"
            found[relative.as_posix()] = text
        elif path.name in indexes.files and path.read_bytes() == indexes.files[path.name]:
            found[relative.as_posix()] = "<from the index>"
        else:
            found[relative.as_posix()] = "<file>"
    return found


def run_line(root: Path, tool: str, line: str, indexes: Indexes) -> Outcome:
    """*line* run with *tool* in ``root/same``, which is then renamed ``root/<tool>``."""
    same = root / "same"
    work = same / "work"
    work.mkdir(parents=True)
    home = same / "home"
    home.mkdir()
    venv_python = make_venv(same / "venv")
    _lay_out(work, indexes)
    before = set(_files(work, indexes))
    bin_dir = same / "bin"
    _installer_script(bin_dir, tool, venv_python)
    env = clean_env(home)
    env.update(
        {
            "VIRTUAL_ENV": str(same / "venv"),
            "PATH": os.pathsep.join([str(bin_dir), str(same / "venv" / "bin"), env["PATH"]]),
            "PIP_INDEX_URL": indexes.main.url,
        }
    )
    done = subprocess.run(
        ["bash", "-c", command_line(line, indexes)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    after = {
        path: what
        for path, what in _files(work, indexes).items()
        if path not in before or path.endswith(".txt")
    }
    outcome = Outcome(
        done.returncode, done.stdout + done.stderr, installed(venv_python, env), after
    )
    same.rename(root / tool)
    return outcome


@pytest.mark.parametrize("entry", LINES, ids=[entry["run"][:60] for entry in LINES])
def test_a_real_world_line_gives_what_pip_gives(
    tmp_path: Path, indexes: Indexes, entry: dict[str, Any]
) -> None:
    reference_pip.require()
    pip = run_line(tmp_path, "pip", entry["run"], indexes)
    roost = run_line(tmp_path, "roost", entry["run"], indexes)
    said = f"\n--- pip ---\n{pip.output}\n--- roost ---\n{roost.output}"
    # The corpus says how pip ends (0 unless "exit" says otherwise): a line that fails
    # for both because the test's set-up is wrong does not pass unnoticed.
    assert pip.returncode == int(entry.get("exit", 0)), said
    assert roost.returncode == pip.returncode, said
    assert roost.installed == pip.installed, said
    assert roost.files == pip.files, said


def test_the_corpus_is_big_and_says_where_each_line_comes_from() -> None:
    assert len(LINES) >= 60
    runs = [entry["run"] for entry in LINES]
    assert len(set(runs)) == len(runs), "a line is listed twice"
    for entry in LINES:
        assert {"run", "source"} <= set(entry) <= {"run", "source", "exit"}, entry
        assert entry["source"].strip(), entry
        assert "://" not in entry["run"], "an index is named by its placeholder only"
