"""What is installed in an environment, read by its own interpreter.

The target may be another Python than the one running roost (pipx, ``--python``), so
the distributions are listed by running :mod:`roost_sbom._probe` in the target, with
``importlib.metadata`` and its standard library only. roost's hooks do not offer a
reader of a whole environment: ``roost_post_install`` gets only what was installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from roost.errors import RoostError

#: Longest the target may take to list its distributions, in seconds.
PROBE_TIMEOUT = 120.0
_SENTINEL = "ROOST-SBOM-PROBE:"
#: Variables that would show the target other directories than its own: roost's own
#: ``PYTHONPATH`` often holds roost's plugins, which are not part of the target.
_FOREIGN_VARIABLES = ("PYTHONPATH",)


@dataclass(frozen=True)
class Distribution:
    """One installed distribution, as its ``.dist-info`` describes it."""

    name: str
    version: str
    #: Selected core metadata fields; ``Classifier``, ``Requires-Dist`` and
    #: ``Project-URL`` are lists (only licence classifiers are kept).
    fields: Mapping[str, Any] = field(default_factory=dict)
    #: The PEP 610 ``direct_url.json`` content, for a distribution installed by URL or path.
    direct_url: Mapping[str, Any] | None = None
    #: PEP 376 ``REQUESTED``: asked for by the user, not only pulled in as a dependency.
    requested: bool = False

    def field(self, name: str) -> str | None:
        value = self.fields.get(name)
        return value if isinstance(value, str) else None

    def fields_list(self, name: str) -> list[str]:
        value = self.fields.get(name)
        return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


@dataclass(frozen=True)
class Environment:
    """An interpreter and the distributions it sees."""

    executable: str
    #: ``CPython``, ``PyPy``, ...
    implementation: str
    #: ``3.12.1``.
    version: str
    prefix: str
    is_venv: bool
    #: The PEP 508 marker environment of the interpreter.
    markers: Mapping[str, str]
    #: The directories read (the interpreter's ``sys.path``, or the ones asked for).
    paths: tuple[str, ...]
    distributions: tuple[Distribution, ...]
    #: Distribution folders without a name or version, left out.
    skipped: int = 0


class ProbeError(RoostError):
    """The target interpreter could not list what it has installed."""


def _probe_source() -> str:
    return (Path(__file__).parent / "_probe.py").read_text(encoding="utf-8")


def _probe_env(env: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in env.items() if key not in _FOREIGN_VARIABLES}


def read_environment(
    python: str, paths: Sequence[str] = (), *, env: Mapping[str, str] | None = None
) -> Environment:
    """Run *python* and return what it has installed: every distribution on its
    ``sys.path`` (the first of a name wins, as for imports), or only those in *paths*.

    :raises ProbeError: when the interpreter cannot be run or gives no usable answer.
    """
    command = [python, "-c", _probe_source(), json.dumps([os.path.abspath(p) for p in paths])]
    try:
        done = subprocess.run(
            command,
            env=_probe_env(os.environ if env is None else env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=PROBE_TIMEOUT,
            check=False,
        )
    except OSError as exc:
        raise ProbeError(f"could not run {python} to list its distributions: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ProbeError(
            f"{python} did not list its distributions within {PROBE_TIMEOUT:.0f} seconds"
        ) from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise ProbeError(f"{python} could not list its distributions: {last[:300]}")
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(_SENTINEL):
            try:
                return _environment(json.loads(line[len(_SENTINEL) :]))
            except (ValueError, TypeError, KeyError) as exc:
                raise ProbeError(f"{python} gave an unreadable list of distributions") from exc
    raise ProbeError(f"{python} did not list its distributions (is it a Python 3.8+?)")


def _environment(data: Mapping[str, Any]) -> Environment:
    dists = tuple(
        Distribution(
            name=str(item["name"]),
            version=str(item["version"]),
            fields=dict(item.get("fields") or {}),
            direct_url=item["direct_url"] if isinstance(item.get("direct_url"), dict) else None,
            requested=bool(item.get("requested")),
        )
        for item in data["distributions"]
    )
    return Environment(
        executable=str(data["executable"]),
        implementation=str(data["implementation"]),
        version=str(data["version"]),
        prefix=str(data["prefix"]),
        is_venv=bool(data["is_venv"]),
        markers={str(key): str(value) for key, value in dict(data["markers"]).items()},
        paths=tuple(str(path) for path in data["paths"]),
        distributions=dists,
        skipped=int(data.get("skipped", 0)),
    )


def _venv_python(directory: Path) -> Path:
    return directory / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_python(python: str | None, *, cwd: Path, env: Mapping[str, str]) -> str:
    """The interpreter ``roost sbom`` describes, chosen as ``roost install`` chooses its
    target: *python* (a path, a name on ``PATH`` or a venv directory) > ``$VIRTUAL_ENV``
    > a ``.venv`` here or above > ``python3`` on ``PATH``.

    :raises ProbeError: when nothing usable is found.
    """
    if python:
        candidate = cwd / os.path.expanduser(python)
        if candidate.is_dir():
            if not _usable(_venv_python(candidate)):
                raise ProbeError(f"--python {python}: {candidate} is not a virtual environment")
            return str(_venv_python(candidate))
        if _usable(candidate):
            return str(candidate)
        if os.sep not in python and (found := shutil.which(python, path=env.get("PATH"))):
            return found
        raise ProbeError(f"--python {python}: no such interpreter or virtual environment")
    virtual_env = env.get("VIRTUAL_ENV")
    if virtual_env:
        if not _usable(_venv_python(cwd / virtual_env)):
            raise ProbeError(f"VIRTUAL_ENV is {virtual_env}, which has no interpreter")
        return str(_venv_python(cwd / virtual_env))
    for directory in (cwd, *cwd.parents):
        if (directory / ".venv" / "pyvenv.cfg").is_file() and _usable(
            _venv_python(directory / ".venv")
        ):
            return str(_venv_python(directory / ".venv"))
    for name in ("python3", "python"):
        found = shutil.which(name, path=env.get("PATH"))
        if found:
            return found
    raise ProbeError("no Python found: pass --python, or activate a virtual environment")
