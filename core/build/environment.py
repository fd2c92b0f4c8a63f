"""Build environments: an isolated venv of the target interpreter, or the target itself.

With isolation (pip's default) every build gets a fresh virtual environment made
from the target's interpreter, so the wheel is built for the target's ABI, holding
only what the build asks for; roost installs that itself (its resolver, indexes,
credentials, TLS and store, through the *installer* callable the flow passes in).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from roost.errors import BuildError

#: ``installer(python, requirements, why)``: make *requirements* importable by *python*.
Installer = Callable[[str, Sequence[str], str], None]
#: Creating a venv copies or links a handful of files; a minute means something is wrong.
VENV_TIMEOUT = 120


class IsolatedEnvironment:
    """A fresh venv under *root*, created on first use, filled by *installer*."""

    isolated = True

    def __init__(self, base_python: str, root: Path, installer: Installer) -> None:
        self._base = base_python
        self._root = root
        self._installer = installer
        self._python: str | None = None

    @property
    def python(self) -> str:
        if self._python is None:
            folder = self._root / "env"
            try:
                proc = subprocess.run(
                    [self._base, "-m", "venv", "--without-pip", str(folder)],
                    capture_output=True,
                    text=True,
                    timeout=VENV_TIMEOUT,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise BuildError(f"could not create a build environment: {exc}") from None
            if proc.returncode != 0:
                detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                raise BuildError(
                    f"could not create a build environment with {self._base} -m venv: {detail}"
                )
            self._python = str(folder / ("Scripts" if os.name == "nt" else "bin") / "python")
        return self._python

    def install(self, requirements: Sequence[str], why: str) -> None:
        if requirements:
            self._installer(self.python, list(requirements), why)

    def environ(self) -> Mapping[str, str]:
        scripts = str(Path(self.python).parent)
        # Tools a backend runs (cmake, ninja, cython) come from the environment first;
        # the user site stays out, as it does for pip's isolated builds.
        return {
            "PATH": scripts + os.pathsep + os.environ.get("PATH", ""),
            "PYTHONNOUSERSITE": "1",
        }


class TargetEnvironment:
    """``--no-build-isolation``: the backend runs in the target interpreter as it is.

    Nothing is installed; with ``--check-build-dependencies`` what the build asks for
    must already be there.
    """

    isolated = False

    def __init__(self, python: str, check: Callable[[str, Sequence[str], str], None] | None):
        self._python = python
        self._check = check

    @property
    def python(self) -> str:
        return self._python

    def install(self, requirements: Sequence[str], why: str) -> None:
        if self._check is not None and requirements:
            self._check(self._python, list(requirements), why)

    def environ(self) -> Mapping[str, str]:
        return {}
