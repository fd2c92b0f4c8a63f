"""Building wheels from sources: getting the source, the build environment, the build hooks.

Only :class:`BuildOptions` lives here, so that an install that builds nothing can say
how it would build without importing the build machinery.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BuildOptions:
    """How builds run, from ``--no-build-isolation`` and friends."""

    isolation: bool = True
    check_build_dependencies: bool = False
    timeout: float = 3600.0
