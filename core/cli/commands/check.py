"""``roost check``: installed distributions whose requirements are missing or conflict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from roost.cli.options import python_option

if TYPE_CHECKING:
    from roost.target.installed import InstalledDist
    from roost.types import Target


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
        """pip's wording, which scripts parse."""
        if self.installed is None:
            return (
                f"{self.name} {self.version} requires {self.dependency}, which is not installed."
            )
        return (
            f"{self.name} {self.version} has requirement {self.requirement}, "
            f"but you have {self.dependency} {self.installed}."
        )


def find_problems(dists: Sequence[InstalledDist], target: Target) -> list[Problem]:
    """Missing requirements first, then conflicts; each group by name, as pip lists them.

    Markers are evaluated against *target*, with no extra selected. Pre-releases
    satisfy specifiers here, as in pip: an installed version is what it is.
    """
    from packaging.utils import canonicalize_name

    from roost.flows.environment import active_requires, display_version

    installed: dict[str, InstalledDist] = {dist.key: dist for dist in dists}
    missing: list[Problem] = []
    conflicting: list[Problem] = []
    for dist in sorted(dists, key=lambda d: d.key):
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


def check_command() -> click.Command:
    @click.command("check")
    @python_option
    @click.pass_context
    def check(ctx: click.Context, /, **_: Any) -> None:
        """Check that every installed distribution has compatible dependencies."""
        from roost.cli.invocation import invocation
        from roost.flows.environment import distributions, exit_quietly, load_context

        context = load_context(invocation(ctx, "check"))
        problems = find_problems(distributions(context.target, skip=()), context.target)
        for problem in problems:
            click.echo(problem.message)
        if problems:
            exit_quietly(1)
        click.echo("No broken requirements found.")

    return check
