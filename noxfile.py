"""roost's sessions: `nox` runs lint, typecheck, tests, lowest and examples (what CI runs)."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "lowest", "examples"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
#: Development tools are pinned here; roost's own dependencies are not (see the file).
CONSTRAINTS = ("-c", str(ROOT / ".ci" / "constraints.txt"))
#: Wheels of real projects the tests serve on loopback, fetched once from the
#: configured index (tests/support/fetched.py reads them): each requirement, the
#: Python versions to fetch its newest fitting release for, and whether its own
#: dependencies come too.
TEST_WHEELS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    # The tag equality test runs packaging inside every target Python.
    ("packaging", ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13"), False),
    ("six", ("3.8",), False),
    # Real build backends for the build tests (tests/test_build*.py).
    ("setuptools", (PYTHON,), False),
    ("flit-core", (PYTHON,), False),
    ("hatchling", (PYTHON,), True),
    # Both vendor what they need (pdm-backend wants importlib-metadata below 3.10 only).
    ("poetry-core", (PYTHON,), False),
    ("pdm-backend", (PYTHON,), False),
    # Backends that drive a native toolchain (cmake, cargo); their tests say why they
    # skip when the toolchain itself is absent.
    ("scikit-build-core", (PYTHON,), True),
    ("maturin", (PYTHON,), False),
    # The pip whose behaviour and output roost's pip-compatibility tests compare with
    # (run from its wheel), pinned so a new pip release cannot move them overnight.
    ("pip==26.3", (PYTHON,), False),
    # The uv that the lock-file interop tests hand roost's pylock.toml to (its binary is
    # taken out of the wheel), pinned for the same reason.
    ("uv==0.13.9", (PYTHON,), False),
)
#: Version-control clients the VCS tests drive (git is assumed, as pip assumes it),
#: as (command, Debian package).
VCS_CLIENTS = (("hg", "mercurial"), ("svn", "subversion"), ("bzr", "brz"))
TEST_WHEELS_DIR = ROOT / ".test-wheels"


def _fetch_test_wheels(session: nox.Session) -> None:
    """Download TEST_WHEELS into .test-wheels/ unless this exact list is there already."""
    digest = hashlib.sha256(repr(TEST_WHEELS).encode()).hexdigest()[:16]
    stamp = TEST_WHEELS_DIR / f".complete-{digest}"
    if stamp.exists():
        return
    TEST_WHEELS_DIR.mkdir(exist_ok=True)
    for requirement, versions, with_deps in TEST_WHEELS:
        for version in versions:
            session.run(
                "python", "-m", "pip", "download", "-q",
                *(() if with_deps else ("--no-deps",)),
                "--only-binary=:all:", "--python-version", version,
                "-d", str(TEST_WHEELS_DIR), requirement,
            )  # fmt: skip
    stamp.touch()


def _vcs_clients(session: nox.Session) -> None:
    """Install the missing VCS clients with apt when this is a Debian machine run as root.

    Elsewhere the tests that need a missing client fail and name the package to install.
    """
    import shutil

    missing = [package for command, package in VCS_CLIENTS if shutil.which(command) is None]
    if not missing or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    session.run("apt-get", "update", "-qq", external=True, env=env)
    session.run(
        "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing,
        external=True, env=env,
    )  # fmt: skip


def _run_tests(session: nox.Session) -> None:
    _fetch_test_wheels(session)
    _vcs_clients(session)
    args = session.posargs or ["-n", "2"]
    env = {"PYTHONDONTWRITEBYTECODE": "1", "ROOST_TEST_WHEELS": str(TEST_WHEELS_DIR)}
    session.run("pytest", *args, env=env)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole suite against the newest releases of roost's dependencies."""
    session.install(*CONSTRAINTS, ".[test]")
    _run_tests(session)


def _lowest_constraints(session: nox.Session) -> Path:
    """A constraints file pinning each runtime dependency to its declared lower bound."""
    import tomllib
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = []
    for line in project["dependencies"]:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        bounds = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        if len(bounds) != 1:
            session.error(f"pyproject.toml: {line!r} needs exactly one '>=' lower bound")
        pins.append(f"{requirement.name}=={bounds[0]}")
    # Not session.create_tmp(): it points TMPDIR into .nox/, inside this git checkout,
    # and tests that read "is this folder in a repository?" would then say yes.
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="roost-lowest-")) / "lowest.txt"
    path.write_text("\n".join(pins) + "\n")
    return path


@nox.session(python=PYTHON)
def lowest(session: nox.Session) -> None:
    """The whole suite against the lowest versions pyproject.toml declares."""
    session.install(*CONSTRAINTS, "-c", str(_lowest_constraints(session)), ".[test]")
    _run_tests(session)


#: The example plugins under examples/, each its own distribution with its own tests.
EXAMPLES = ("roost-sbom", "roost-policy")


@nox.session(python=PYTHON)
@nox.parametrize("example", EXAMPLES)
def examples(session: nox.Session, example: str) -> None:
    """An example plugin installed next to roost from this tree, and its own tests
    (written with roost.testing), each in a venv of its own."""
    folder = ROOT / "examples" / example
    # One install: the plugin's `roost` requirement is met by this checkout.
    session.install(*CONSTRAINTS, ".", f"{folder}[test]", "pytest", "pytest-xdist")
    session.chdir(folder)
    session.run(
        "pytest", "-n", "2", "-p", "no:cacheprovider", "tests", *session.posargs,
        env={"PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip


@nox.session(python=PYTHON)
def network(session: nox.Session) -> None:
    """Tests that need the configured (non-loopback) index."""
    session.install(*CONSTRAINTS, ".[test]")
    session.run("pytest", "-m", "network", "--run-network", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff, and import-linter's layer, public-API and no-cycle contracts (pyproject.toml)."""
    # A regular install: import-linter, like mypy, cannot see through editable finders.
    session.install(*CONSTRAINTS, "ruff", "import-linter", ".")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports", "--config", str(ROOT / "pyproject.toml"))


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict against a regular install (mypy cannot see through editable finders)."""
    # pytest: roost.testing, the fixture kit for plugin authors, is a pytest plugin.
    session.install(*CONSTRAINTS, ".", "mypy", "types-setuptools", "pytest")
    tmp = session.create_tmp()
    session.chdir(tmp)
    session.run("mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"), "-p", "roost")


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """roost's main job end to end: `--user` installs from the configured index."""
    session.install(".")
    session.run("python", str(ROOT / "docs" / "demo.py"), *session.posargs, env=dict(os.environ))


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """roost against pip and uv on a loopback index (issue #5); not part of CI.

    Downloads the requirement sets once, with pip from the configured index, into
    .bench/. Example: `nox -s bench -- --runs 3 --sets small,medium`; see docs/benchmarks.md.
    """
    session.install(".")
    session.install("--upgrade", "pip", "uv")
    session.run("python", "-m", "bench.run", *session.posargs)
