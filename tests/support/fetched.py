"""Wheels of real projects the tests need (packaging, six, ...), fetched once by nox.

``nox`` downloads them from the configured index into ``.test-wheels/`` (see
``noxfile.py``, ``TEST_WHEELS``) before the tests run, so the test run itself
touches nothing beyond loopback. ``ROOST_TEST_WHEELS`` names another folder.
"""

from __future__ import annotations

import email.parser
import os
import zipfile
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def wheels_dir() -> Path:
    """The folder nox fills; fails the test (never skips) when it is missing."""
    import pytest

    folder = Path(os.environ.get("ROOST_TEST_WHEELS") or ROOT / ".test-wheels")
    if not folder.is_dir():
        pytest.fail(
            f"{folder} is missing: run the tests through `nox -s tests` (it fetches the "
            "wheels the tests need once), or point ROOST_TEST_WHEELS at such a folder."
        )
    return folder


def requires_python(wheel: Path) -> SpecifierSet:
    """The ``Requires-Python`` of *wheel*'s metadata (empty when it has none)."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        fields = email.parser.BytesParser().parsebytes(archive.read(name), headersonly=True)
    return SpecifierSet(fields.get("Requires-Python") or "")


def fetched_wheel(project: str, python_version: str) -> Path:
    """The newest fetched wheel of *project* that installs on Python *python_version*."""
    import pytest

    wanted = canonicalize_name(project)
    found: list[tuple[Version, Path]] = []
    for wheel in wheels_dir().glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        if name == wanted and requires_python(wheel).contains(python_version, prereleases=True):
            found.append((version, wheel))
    if not found:
        pytest.fail(f"no fetched wheel of {project} for Python {python_version} in {wheels_dir()}")
    return max(found)[1]
