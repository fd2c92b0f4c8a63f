"""The reference pip and roost run side by side, for tests that compare pip's commands.

``pip26`` (a fixture: import it into a test module so pytest finds it there) runs the
reference pip of :mod:`tests.support.reference_pip` in the test's clean HOME, and fails
saying how to provide one when there is none; ``roost`` runs roost the same way.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import reference_pip
from tests.support.envs import run_roost

PipRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def pip26(tmp_home: dict[str, str]) -> PipRunner:
    """Run the reference pip: ``pip26(*args, python=None, env=..., cwd=...)``."""
    reference_pip.require()

    def run(
        *args: str | Path,
        python: str | Path | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*reference_pip.command(python), *map(str, args)],
            env=env or tmp_home,
            cwd=cwd or tmp_home["HOME"],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    return run


def roost(
    *args: str | Path, env: dict[str, str], **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    return run_roost(*map(str, args), env=env, **kwargs)
