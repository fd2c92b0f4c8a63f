"""Real environments for tests: a clean process environment, venvs, and roost's CLI run
in a subprocess of the interpreter running the tests.

A test must not depend on the machine it runs on: :func:`clean_env` drops every
``PIP_*``, ``ROOST_*`` and ``XDG_*`` variable and points HOME and the XDG folders into a
temporary folder, so neither pip's nor roost's configuration (nor their caches) leak in.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

# Variables that point an interpreter at other files than its own.
_INTERPRETER_VARIABLES = frozenset(
    {"VIRTUAL_ENV", "PYTHONUSERBASE", "PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE"}
)
_BIN = "Scripts" if os.name == "nt" else "bin"
_PYTHON = "python.exe" if os.name == "nt" else "python"


def clean_env(home: Path) -> dict[str, str]:
    """``os.environ`` without PIP_*, ROOST_*, XDG_*, VIRTUAL_ENV and PYTHONPATH-like settings.

    HOME and the XDG folders point into *home* and ``PIP_CONFIG_FILE`` is
    ``os.devnull``, so the machine's pip and roost configuration never leak into a test.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "ROOST_", "XDG_")) and key not in _INTERPRETER_VARIABLES
    }
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "XDG_CONFIG_DIRS": str(home / ".xdg-config-dirs"),
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
    )
    return env


def make_venv(
    path: Path, python: str | Path = sys.executable, *, system_site_packages: bool = False
) -> Path:
    """Create a real venv at *path* with ``<python> -m venv --without-pip``; return its python."""
    command = [str(python), "-m", "venv", "--without-pip"]
    if system_site_packages:
        command.append("--system-site-packages")
    with tempfile.TemporaryDirectory(prefix="roost-home-") as home:
        subprocess.run(
            [*command, str(path)],
            check=True,
            capture_output=True,
            env=clean_env(Path(home)),
            timeout=120,
        )
    return path / _BIN / _PYTHON


_LIST_DISTRIBUTIONS = """
import json, importlib.metadata as m
seen = {}
for d in m.distributions():
    name = d.metadata["Name"]
    if name and name not in seen:
        seen[name] = d.version
print(json.dumps(seen))
"""


def installed(python: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """``{normalized name: version}`` of the distributions *python* can see.

    Runs in a clean environment (temporary HOME) unless *env* is given; the first
    distribution of a name on ``sys.path`` wins, as for imports.
    """
    with tempfile.TemporaryDirectory(prefix="roost-home-") as home:
        out = subprocess.run(
            [str(python), "-c", _LIST_DISTRIBUTIONS],
            check=True,
            capture_output=True,
            text=True,
            cwd=home,
            env=env if env is not None else clean_env(Path(home)),
            timeout=120,
        ).stdout
    found: dict[str, str] = {}
    for name, version in json.loads(out).items():
        found.setdefault(canonicalize_name(name), version)
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class Venv:
    """A virtual environment made by the ``roost_venv`` fixture."""

    #: The environment's folder.
    path: Path
    #: Its interpreter: pass it to roost as ``--python``.
    python: Path

    def installed(self) -> dict[str, str]:
        """``{normalized name: version}`` of every distribution the venv's Python sees."""
        return installed(self.python)

    def has(self, name: str, version: str | None = None) -> bool:
        """Whether distribution *name* (any spelling) is installed, at *version* if given
        (compared as PEP 440 versions, so ``1.0`` matches ``1.0.0``)."""
        found = self.installed().get(canonicalize_name(name))
        if found is None or version is None:
            return found is not None
        try:
            return Version(found) == Version(version)
        except InvalidVersion:
            return found == version


class VenvMaker:
    """The ``roost_venv`` fixture: each call makes a fresh venv under :attr:`folder`."""

    def __init__(self, folder: Path) -> None:
        #: Holds the venvs, ``venv-1``, ``venv-2``, ...
        self.folder = folder
        self._made = 0

    def __call__(
        self, python: str | Path = sys.executable, *, system_site_packages: bool = False
    ) -> Venv:
        """A new venv of *python* (the interpreter running the tests by default), without
        pip."""
        self._made += 1
        path = self.folder / f"venv-{self._made}"
        self.folder.mkdir(parents=True, exist_ok=True)
        return Venv(path, make_venv(path, python, system_site_packages=system_site_packages))


@functools.cache
def _default_sys_path(python: str) -> frozenset[str]:
    """The ``sys.path`` *python* starts with in a clean environment."""
    with tempfile.TemporaryDirectory(prefix="roost-home-") as home:
        out = subprocess.run(
            [python, "-c", "import json, sys; print(json.dumps(sys.path[1:]))"],
            check=True,
            capture_output=True,
            text=True,
            cwd=home,
            env=clean_env(Path(home)),
            timeout=120,
        ).stdout
    return frozenset(_same_path(entry) for entry in json.loads(out))


def _same_path(entry: str) -> str:
    return os.path.normcase(os.path.abspath(entry))


def current_path_additions() -> list[str]:
    """The entries of this process's ``sys.path`` that a fresh interpreter would lack:
    ``PYTHONPATH``, pytest's ``pythonpath`` setting, test folders pytest inserted.

    They are what makes a plugin importable in the tests without installing it, so a
    child roost needs them too.
    """
    default = _default_sys_path(sys.executable)
    added: list[str] = []
    for entry in sys.path:
        if not entry or not os.path.exists(entry):
            continue
        if _same_path(entry) not in default and entry not in added:
            added.append(entry)
    return added


class RoostRunner:
    """The ``run_roost`` fixture: ``run_roost(*args)`` runs ``python -m roost *args`` in a
    subprocess of the interpreter running the tests.

    The child's environment is :func:`clean_env` of :attr:`home`, a temporary HOME kept
    for the whole test (so roost's cache and config files there carry from one call to
    the next), with ``PYTHONPATH`` set to what this process added to ``sys.path``. So
    the plugins the tests can import are the ones roost loads: installed ones through
    their entry points, others with ``-p MODULE``. Nothing of the developer's own
    configuration reaches it.
    """

    def __init__(self, home: Path) -> None:
        #: The child's HOME; also its working directory unless a call names another.
        self.home = home

    @property
    def environ(self) -> dict[str, str]:
        """The environment each run starts from (a fresh copy)."""
        self.home.mkdir(parents=True, exist_ok=True)
        env = clean_env(self.home)
        additions = current_path_additions()
        if additions:
            env["PYTHONPATH"] = os.pathsep.join(additions)
        return env

    def __call__(
        self,
        *args: str,
        env: Mapping[str, str | None] | None = None,
        input: str | None = None,
        timeout: float = 300,
        cwd: Path | None = None,
        check: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """Run roost with *args* (``-p`` options first, then the command) and return the
        finished process, its output as text.

        ``env``: variables set on top of :attr:`environ` (``None`` removes one).
        ``input``: the child's stdin. ``timeout``: seconds before the child is killed
        and ``subprocess.TimeoutExpired`` raised. ``cwd``: the working directory
        (default :attr:`home`). ``check``: raise AssertionError, showing the output,
        when roost exits non-zero.

        Name the target with ``--python``: like ``python -m roost`` on a command line,
        roost otherwise installs into the interpreter that runs it.
        """
        environ = self.environ
        for key, value in (env or {}).items():
            if value is None:
                environ.pop(key, None)
            else:
                environ[key] = value
        result = subprocess.run(
            [sys.executable, "-m", "roost", *args],
            env=environ,
            cwd=self.home if cwd is None else cwd,
            input=input,
            # No terminal to wait on: a prompt without input reads end-of-file.
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"roost {' '.join(args)} exited {result.returncode}\n"
                f"--- stdout ---\n{result.stdout}--- stderr ---\n{result.stderr}"
            )
        return result
