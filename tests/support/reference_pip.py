"""The pip roost's pip-compatibility tests compare with: pip 26.3, found once per session.

``ROOST_REFERENCE_PIP`` (an interpreter whose ``-m pip`` is pip 26.3), else the pip
wheel nox fetches with the other test wheels (run from the wheel), else the tests' own
interpreter's pip. A test that needs it and finds none fails, saying how to provide it.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fetched import wheels_dir

#: The pip release roost's behaviour and output follow.
VERSION = "26.3"
WHEEL = f"pip-{VERSION}-py3-none-any.whl"


@functools.cache
def find() -> tuple[str, str]:
    """``("python", interpreter)`` or ``("wheel", path)`` of the reference pip, or
    ``("", what was tried)`` without one."""
    tried: list[tuple[str, str, list[str]]] = []
    named = os.environ.get("ROOST_REFERENCE_PIP")
    if named:
        tried.append(("python", named, [named, "-m", "pip"]))
    wheel = wheels_dir() / WHEEL
    tried.append(("wheel", str(wheel), [sys.executable, str(wheel / "pip")]))
    tried.append(("python", sys.executable, [sys.executable, "-m", "pip"]))
    said = []
    for kind, where, command in tried:
        done = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, check=False, timeout=60
        )
        if done.stdout.startswith(f"pip {VERSION} "):
            return kind, where
        said.append(f"{' '.join(command)}: {(done.stdout or done.stderr).strip()[:60]}")
    return "", "; ".join(said)


def require() -> tuple[str, str]:
    """:func:`find`'s answer; fails (never skips) the test when there is no such pip."""
    kind, where = find()
    if not kind:
        pytest.fail(
            f"these tests compare with pip {VERSION}, and none was found ({where}): nox "
            f"fetches {WHEEL} with the other test wheels (TEST_WHEELS in noxfile.py), or "
            f"set ROOST_REFERENCE_PIP to an interpreter whose pip is {VERSION}"
        )
    return kind, where


def command(python: str | Path | None = None) -> list[str]:
    """How to run the reference pip on *python*'s environment (the tests' own without)."""
    kind, where = require()
    if kind == "wheel":
        # From its wheel, inside the target's own interpreter (what pip's --python does).
        return [str(python or sys.executable), str(Path(where) / "pip")]
    return [where, "-m", "pip", *(["--python", str(python)] if python else [])]
