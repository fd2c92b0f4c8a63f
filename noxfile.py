"""roost's sessions: `nox` runs lint, typecheck and tests (what CI runs)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole suite: loopback only, real venvs and interpreters."""
    session.install(".[test]")
    # Run from a folder without core/ and plugins/ so the installed package is tested.
    args = session.posargs or ["-n", "2"]
    session.run("pytest", *args, env={"PYTHONDONTWRITEBYTECODE": "1"})


@nox.session(python=PYTHON)
def network(session: nox.Session) -> None:
    """Tests that need the configured (non-loopback) index."""
    session.install(".[test]")
    session.run("pytest", "-m", "network", "--run-network", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict against a regular install (mypy cannot see through editable finders)."""
    session.install(".", "mypy", "types-setuptools")
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
