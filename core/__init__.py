"""roost: a pluggable Python package installer.

The public API is what plugins need: the ``hookimpl`` marker and the hook types.
"""

from __future__ import annotations

from roost.hookspecs import hookimpl
from roost.types import (
    Credentials,
    IndexSource,
    InstalledDistribution,
    InstallEvent,
    Link,
    NormalizedName,
    Options,
    ProjectLinks,
    Refusal,
    Scheme,
    Settings,
    SettingsLayer,
    Target,
)

__version__ = "0.1.0"

__all__ = [
    "Credentials",
    "IndexSource",
    "InstallEvent",
    "InstalledDistribution",
    "Link",
    "NormalizedName",
    "Options",
    "ProjectLinks",
    "Refusal",
    "Scheme",
    "Settings",
    "SettingsLayer",
    "Target",
    "__version__",
    "hookimpl",
]
