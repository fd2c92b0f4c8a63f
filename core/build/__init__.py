"""Building wheels from sources: getting the source, the build environment, the build hooks.

Only :class:`BuildOptions` lives here, so that an install that builds nothing can say
how it would build without importing the build machinery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from roost.types import Settings


@dataclass(frozen=True)
class BuildOptions:
    """How builds run, from ``--no-build-isolation`` and friends."""

    isolation: bool = True
    check_build_dependencies: bool = False
    timeout: float = 3600.0
    #: Where ``-e`` checks VCS URLs out (``--src``); None: ``./src``, as pip outside a venv.
    src_dir: str | None = None
    #: The run's merged settings, handed to the build hooks (``build-sandbox`` and such).
    settings: Settings | None = None
