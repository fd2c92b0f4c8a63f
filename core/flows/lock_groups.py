"""``roost lock --group [PATH:]NAME``: the requirements of PEP 735 dependency groups.

Each group is read from a ``pyproject.toml`` (``./pyproject.toml`` unless a path is
given before the colon) through :mod:`packaging.dependency_groups`, includes followed.
Its requirements join the command's, first, so that the flow knows which of the
requirements it gathered came from which group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

if TYPE_CHECKING:
    from roost.flows.invocation import Invocation


@dataclass(frozen=True)
class GroupRequirements:
    """The requirement strings of the groups asked for, each with its group."""

    requirements: tuple[str, ...] = ()
    #: The (normalized) group each of :attr:`requirements` comes from.
    group_of: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.group_of)))


def group_requirements(values: Sequence[str]) -> GroupRequirements:
    """The requirements of each ``[PATH:]NAME`` in *values*, each with its group."""
    from roost.flows.groups import group_entries

    requirements: list[str] = []
    group_of: list[str] = []
    for request, texts in group_entries(values):
        requirements.extend(texts)
        group_of.extend(canonicalize_name(request.group) for _ in texts)
    return GroupRequirements(tuple(requirements), tuple(group_of))


def with_group_requirements(invocation: Invocation, groups: GroupRequirements) -> Invocation:
    """*invocation* whose requirements start with the groups' requirements."""
    base = invocation.params_for

    def params_for(settings: Any) -> dict[str, Any]:
        params = base(settings)
        given = tuple(params.get("requirements") or ())
        # The groups are read here, not by the gathering every resolving command
        # shares: the lock must know which requirement came from which group.
        return {**params, "requirements": groups.requirements + given, "groups": ()}

    return replace(invocation, params_for=params_for)
