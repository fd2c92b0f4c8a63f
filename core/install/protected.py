"""The files an environment needs to start, which no wheel's data files, scripts or
headers may replace.

A wheel's ``.data/data/`` members go anywhere under the data root (a venv's root, a
prefix), and its scripts into the folder that holds the interpreter: a wheel could
replace ``bin/python3.12`` or ``pyvenv.cfg`` and leave an environment that no longer
starts (and that roost can then no longer repair). Refused, by the paths the install
really writes to (the archive checks of :mod:`roost.store.wheel_check` refuse the plain
cases earlier, without knowing the scheme):

- the interpreter: the target's executable, and any interpreter name (``python3.12``,
  ``pythonw.exe``, ``pypy3``) in its folder or the scripts folder, with the
  interpreter's library, zipped standard library and ``._pth`` files there or beside
  the standard library's folder;
- ``pyvenv.cfg`` in the data root, the interpreter's folder or the one above it, where
  CPython looks for it;
- the standard library: anything inside the folder that holds site-packages
  (``lib/python3.12``, ``Lib``), except inside site-packages itself.

Scripts of other names, activation scripts, ``.pth`` files and ``sitecustomize`` stay
allowed: a wheel runs code in the environment anyway, this keeps the environment whole.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping

from roost.store.wheel_check import INTERPRETER_NAME

#: The interpreter's own files beside it or its standard library: its shared library,
#: zipped standard library and path configuration.
_RUNTIME_NAME = re.compile(r"libpython\d.*|python\d*(_d)?\.dll|python\d+\.zip|.*\._pth")
#: The schemes whose files may land outside site-packages.
GUARDED = frozenset({"data", "scripts", "headers"})


def _key(path: str) -> str:
    """*path* resolved, and case-folded: on a case-insensitive filesystem ``BIN/Python3``
    is ``bin/python3`` (on others, refusing it too costs no real wheel anything)."""
    return os.path.realpath(path).casefold()


def protected(scheme_dict: Mapping[str, str], interpreter: str) -> Protected:
    """The :class:`Protected` files of the scheme *scheme_dict* and *interpreter*, made
    once per run (each wheel's destination asks; resolving the folders is ~80 lstat
    calls)."""
    return _protected(tuple(sorted(scheme_dict.items())), interpreter)


@functools.lru_cache(maxsize=4)
def _protected(scheme: tuple[tuple[str, str], ...], interpreter: str) -> Protected:
    return Protected(dict(scheme), interpreter)


class Protected:
    """The protected files of the environment a scheme and its interpreter make."""

    def __init__(self, scheme_dict: Mapping[str, str], interpreter: str) -> None:
        executable = os.path.abspath(interpreter)
        bin_dirs = {os.path.dirname(executable), scheme_dict["scripts"]}
        self._executables = {
            _key(executable),
            os.path.join(
                _key(os.path.dirname(executable)), os.path.basename(executable).casefold()
            ),
        }
        self._bin_dirs = {_key(folder) for folder in bin_dirs}
        self._config_dirs = {
            _key(folder)
            for folder in (
                scheme_dict["data"],
                *bin_dirs,
                *(os.path.dirname(folder) for folder in bin_dirs),
            )
        }
        libraries = {scheme_dict["purelib"], scheme_dict["platlib"]}
        self._packages = {_key(folder) for folder in libraries}
        self._stdlib = {_key(os.path.dirname(folder)) for folder in libraries}
        self._runtime_dirs = self._bin_dirs | {os.path.dirname(f) for f in self._stdlib}
        self._parents: dict[str, str] = {}

    def why(self, target: str) -> str | None:
        """What the file at *target* is to the environment, if it is protected."""
        folder = os.path.dirname(target)
        parent = self._parents.get(folder)
        if parent is None:
            parent = self._parents[folder] = _key(folder)
        name = os.path.basename(target).casefold()
        if name == "pyvenv.cfg" and parent in self._config_dirs:
            return "the environment's configuration"
        if os.path.join(parent, name) in self._executables or (
            parent in self._bin_dirs and INTERPRETER_NAME.fullmatch(name)
        ):
            return "the environment's interpreter"
        if parent in self._runtime_dirs and _RUNTIME_NAME.fullmatch(name):
            return "a file of the interpreter's"
        if _within(parent, self._stdlib) and not _within(parent, self._packages):
            return "in the standard library's folder"
        return None


def _within(folder: str, roots: set[str]) -> bool:
    return any(folder == root or folder.startswith(root + os.sep) for root in roots)


def kept_by_sync(python_version: tuple[int, ...]) -> frozenset[str]:
    """The distributions ``roost sync`` keeps though the set it syncs to does not name
    them, as pip-sync keeps its own: pip (and ``roost`` itself, when installed), and
    below Python 3.12, where venvs are still made with them, setuptools and wheel."""
    kept = {"pip", "roost"}
    if tuple(python_version[:2]) < (3, 12):
        kept |= {"setuptools", "wheel"}
    return frozenset(kept)
