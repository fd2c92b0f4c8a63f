"""roost.testing: pytest fixtures for testing roost plugins against the real CLI.

Installing roost registers this module as a pytest plugin (entry point ``pytest11``,
name ``roost.testing``); ``pytest -p roost.testing`` or ``pytest_plugins =
["roost.testing"]`` load it where plugin autoloading is off. Its fixtures:

- ``make_wheel(name, version, *, requires=(), tag="py3-none-any", files=None,
  entry_points=None, **metadata) -> Path``: a real wheel (:class:`WheelMaker`).
- ``roost_index``: a started loopback index server, PEP 503 HTML and PEP 691 JSON
  with PEP 658 metadata; ``.add(path)`` serves a wheel or sdist at once (``upload_time=``
  an aware datetime: its PEP 700 ``upload-time``), ``.url`` is for ``-i``
  (:class:`IndexServer`).
- ``roost_venv(python=sys.executable) -> Venv``: a fresh venv with ``.path``,
  ``.python``, ``.has(name, version=None)`` and ``.installed()`` (:class:`VenvMaker`).
- ``run_roost(*args, env=None, input=None, timeout=300) -> CompletedProcess[str]``:
  ``python -m roost`` in a subprocess with a temporary HOME, caches and config, and
  the plugins of the current environment (:class:`RoostRunner`).

Nothing in roost itself imports this package; the classes load on first use, so
loading the plugin costs pytest runs that do not use it next to nothing.

PYTEST_DONT_REWRITE: there are no assertions here for pytest to rewrite, and this marker
keeps pytest from warning when a conftest imports the package before loading it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from roost.testing.environments import (
        RoostRunner,
        Venv,
        VenvMaker,
        clean_env,
        installed,
        make_venv,
    )
    from roost.testing.index import PackageIndex
    from roost.testing.server import Fault, IndexServer
    from roost.testing.wheels import WheelMaker, WheelSpec, build_sdist, build_wheel

__all__ = [
    "Fault",
    "IndexServer",
    "PackageIndex",
    "RoostRunner",
    "Venv",
    "VenvMaker",
    "WheelMaker",
    "WheelSpec",
    "build_sdist",
    "build_wheel",
    "clean_env",
    "installed",
    "make_venv",
    "make_wheel",
    "roost_index",
    "roost_venv",
    "run_roost",
]

# Public name -> the module defining it, imported when the name is first asked for.
_LAZY = {
    "RoostRunner": "environments",
    "Venv": "environments",
    "VenvMaker": "environments",
    "clean_env": "environments",
    "installed": "environments",
    "make_venv": "environments",
    "PackageIndex": "index",
    "Fault": "server",
    "IndexServer": "server",
    "WheelMaker": "wheels",
    "WheelSpec": "wheels",
    "build_sdist": "wheels",
    "build_wheel": "wheels",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'roost.testing' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"roost.testing.{module}"), name)


@pytest.fixture
def make_wheel(tmp_path: Path) -> WheelMaker:
    """Build real wheels: ``make_wheel("demo", "1.0", requires=["delta>=1"])`` returns the
    path of ``demo-1.0-py3-none-any.whl`` in the test's ``tmp_path/roost-wheels``.

    Keywords: ``requires``, ``tag``, ``files`` (more members), ``entry_points``
    (``{group: {name: "module:attr"}}``), ``requires_python``, ``extras``, ``data``,
    ``module``, ``folder``; any other keyword is a METADATA field. See
    :meth:`WheelMaker.__call__`.
    """
    from roost.testing.wheels import WheelMaker

    return WheelMaker(tmp_path / "roost-wheels")


@pytest.fixture
def roost_index(tmp_path: Path) -> Iterator[IndexServer]:
    """An empty package index served on 127.0.0.1 for this test: ``roost_index.add(path)``
    serves a wheel or sdist from then on, ``roost_index.url`` is what ``-i`` takes.

    Pages are PEP 691 JSON or PEP 503 HTML as the client asks, wheels come with PEP 658
    metadata files, ``add(path, upload_time=datetime)`` gives the file a PEP 700
    ``upload-time`` on the JSON page, and ``roost_index.requests`` records every request.
    """
    from roost.testing.index import PackageIndex
    from roost.testing.server import IndexServer

    with IndexServer(PackageIndex(tmp_path / "roost-index")) as server:
        yield server


@pytest.fixture
def roost_venv(tmp_path: Path) -> VenvMaker:
    """Make fresh virtual environments: ``roost_venv()`` (or ``roost_venv(python)``)
    returns a :class:`Venv` with ``.path``, ``.python``, ``.installed()`` and
    ``.has(name, version=None)``."""
    from roost.testing.environments import VenvMaker

    return VenvMaker(tmp_path / "roost-venvs")


@pytest.fixture
def run_roost(tmp_path: Path) -> RoostRunner:
    """Run roost's CLI: ``run_roost("install", "--python", str(venv.python), "-i",
    roost_index.url, "demo")`` returns a ``subprocess.CompletedProcess[str]``.

    The child has a temporary HOME (``run_roost.home``), so the developer's pip and
    roost configuration, caches and ``ROOST_*``/``PIP_*`` variables stay out; the
    plugins this environment can import are the ones it loads. ``env=`` sets variables
    for one run, ``input=`` feeds stdin, ``timeout=`` bounds it (300 s).
    """
    from roost.testing.environments import RoostRunner

    return RoostRunner(tmp_path / "roost-home")
