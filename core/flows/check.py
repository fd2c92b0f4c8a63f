"""Installed distributions whose requirements are missing or conflict.

One piece of logic for two callers: ``roost check`` (every distribution the target
sees) and the warning after ``roost install`` (only the distributions that install
touched, and those that depend on them, as pip limits it).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from roost.target.installed import InstalledDist
    from roost.types import InstalledDistribution, Scheme, Target
    from roost.util.output import Output


@dataclass(frozen=True)
class Problem:
    """One broken requirement of one installed distribution."""

    #: The normalised name and version of the distribution that has the requirement.
    name: str
    version: str
    requirement: str
    #: The normalised name of what it requires.
    dependency: str
    #: The installed version of the dependency; None when it is not installed.
    installed: str | None = None

    @property
    def message(self) -> str:
        """``roost check``'s line, in pip's ``check`` wording, which scripts parse."""
        if self.installed is None:
            return (
                f"{self.name} {self.version} requires {self.dependency}, which is not installed."
            )
        return (
            f"{self.name} {self.version} has requirement {self.requirement}, "
            f"but you have {self.dependency} {self.installed}."
        )

    @property
    def after_install(self) -> str:
        """The line after an install, in the wording pip's ``install`` uses for it (it
        names the whole requirement where ``check`` names the project)."""
        if self.installed is None:
            return (
                f"{self.name} {self.version} requires {self.requirement}, which is not installed."
            )
        return (
            f"{self.name} {self.version} requires {self.requirement}, but you have "
            f"{self.dependency} {self.installed} which is incompatible."
        )


def find_problems(
    dists: Sequence[InstalledDist], target: Target, *, only: Collection[str] | None = None
) -> list[Problem]:
    """Missing requirements first, then conflicts; each group by name, as pip lists them.

    Markers are evaluated against *target*, with no extra selected. Pre-releases
    satisfy specifiers here, as in pip: an installed version is what it is. With
    *only* (normalised names), the requirements of the other distributions are not
    looked at.
    """
    from packaging.utils import canonicalize_name

    from roost.flows.environment import active_requires, display_version

    installed: dict[str, InstalledDist] = {dist.key: dist for dist in dists}
    missing: list[Problem] = []
    conflicting: list[Problem] = []
    for dist in sorted(dists, key=lambda d: d.key):
        if only is not None and dist.key not in only:
            continue
        version = display_version(dist)
        found_missing: set[tuple[str, str]] = set()
        found_conflicts: set[tuple[str, str, str]] = set()
        for req in active_requires(dist, target):
            name: str = canonicalize_name(req.name)
            other = installed.get(name)
            if other is None:
                found_missing.add((name, str(req)))
                continue
            other_version = display_version(other)
            if not req.specifier.contains(other_version, prereleases=True):
                found_conflicts.add((name, other_version, str(req)))
        for name, text in sorted(found_missing):
            missing.append(Problem(dist.key, version, text, name))
        for name, other_version, text in sorted(found_conflicts):
            conflicting.append(Problem(dist.key, version, text, name, other_version))
    return missing + conflicting


def touched(dists: Sequence[InstalledDist], done: Sequence[InstalledDistribution]) -> set[str]:
    """The names an install touched (*done*), and those of the distributions that
    require any of them (whatever the requirement's marker, as pip counts them)."""
    from packaging.utils import canonicalize_name

    names = {canonicalize_name(d.name) for d in done}
    return names | {
        dist.key
        for dist in dists
        if any(canonicalize_name(req.name) in names for req in dist.requires)
    }


def warn_after_install(
    done: Sequence[InstalledDistribution],
    target: Target,
    scheme: Scheme,
    *,
    explicit_location: bool,
    out: Output,
) -> None:
    """Say (as an error line, the install still succeeds) which requirements the
    install left unmet among the distributions it touched, as pip does."""
    from roost.flows.environment import installed_view
    from roost.target.installed import scan

    dists = scan(installed_view(target, scheme, explicit_location))
    problems = find_problems(dists, target, only=touched(dists, done))
    if not problems:
        return
    out.error(
        "the resolver weighed what this install asked for and what that depends on, "
        "not every distribution already installed, and these installed distributions "
        "are now left with requirements they do not meet:\n"
        + "\n".join(problem.after_install for problem in problems)
    )
