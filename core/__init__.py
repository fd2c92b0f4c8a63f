"""roost: a pluggable Python package installer.

The public API is what plugins need: the ``hookimpl`` marker and the hook types.
They are loaded on first use, so ``roost --version`` does not pay for pluggy and
the dataclasses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from roost.version import __version__

if TYPE_CHECKING:
    from roost.hookspecs import hookimpl
    from roost.policy_types import CandidateInfo, Exclusion, Plan, PlanEntry
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

#: The names ``roost`` re-exports from :mod:`roost.policy_types`; the rest come from
#: :mod:`roost.types`.
_POLICY_TYPES = ("CandidateInfo", "Exclusion", "Plan", "PlanEntry")

__all__ = [
    "CandidateInfo",
    "Credentials",
    "Exclusion",
    "IndexSource",
    "InstallEvent",
    "InstalledDistribution",
    "Link",
    "NormalizedName",
    "Options",
    "Plan",
    "PlanEntry",
    "ProjectLinks",
    "Refusal",
    "Scheme",
    "Settings",
    "SettingsLayer",
    "Target",
    "__version__",
    "hookimpl",
]


def __getattr__(name: str) -> Any:
    if name == "hookimpl":
        from roost.hookspecs import hookimpl

        return hookimpl
    if name in _POLICY_TYPES:
        from roost import policy_types

        return getattr(policy_types, name)
    if name in __all__:
        from roost import types

        return getattr(types, name)
    raise AttributeError(f"module 'roost' has no attribute {name!r}")
