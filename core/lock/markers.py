"""The markers a lock writes: one per locked environment, and each package's.

A lock covers only the environments it was resolved for, so ``environments`` names
each of them, and a package needed in some of them only (or by a dependency group
only) carries the OR of where it is needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.version import Version

#: The marker variables that tell locked environments apart (besides the Python).
_ENVIRONMENT_KEYS = ("sys_platform", "platform_machine", "implementation_name")


def environment_marker(markers: Mapping[str, str], *, full_version: bool = False) -> str:
    """The marker that holds in the environment of *markers* (a target's marker
    environment): its Python (``python_full_version`` when the user named a full
    version, else ``python_version``), platform, machine and implementation."""
    if full_version:
        clauses = [f'python_full_version == "{markers["python_full_version"]}"']
    else:
        clauses = [f'python_version == "{markers["python_version"]}"']
    clauses += [f'{key} == "{markers[key]}"' for key in _ENVIRONMENT_KEYS if markers.get(key)]
    return str(Marker(" and ".join(clauses)))


def group_marker(groups: Sequence[str]) -> str:
    """True when any of *groups* is installed."""
    return " or ".join(f'"{group}" in dependency_groups' for group in sorted(groups))


def package_marker(
    where: Mapping[str, frozenset[str] | None], environments: Sequence[str]
) -> str | None:
    """The marker of a package needed in the environments that are keys of *where*
    (each an :func:`environment_marker`): a value of None means the base requirements
    need it there, else the dependency groups that do. None when it is needed in every
    environment by the base requirements (then it is installed wherever the lock is).
    """
    everywhere = set(where) == set(environments)
    if everywhere and all(groups is None for groups in where.values()):
        return None
    if everywhere:
        groups = {g for value in where.values() if value is not None for g in value}
        mixed = any(value is None for value in where.values())
        if not mixed and all(value == frozenset(groups) for value in where.values()):
            return str(Marker(group_marker(sorted(groups))))
    clauses = []
    for environment in environments:
        if environment not in where:
            continue
        value = where[environment]
        if value is None:
            clauses.append(f"({environment})")
        else:
            clauses.append(f"({environment} and ({group_marker(sorted(value))}))")
    return str(Marker(" or ".join(clauses)))


def environments_marker(where: Sequence[str], environments: Sequence[str]) -> str | None:
    """The OR of the environments of *where*; None when that is all of them."""
    if set(where) >= set(environments):
        return None
    return str(Marker(" or ".join(f"({e})" for e in environments if e in where)))


def requires_python(versions: Sequence[tuple[int, int]]) -> str:
    """A specifier met by every Python locked for (``major.minor`` pairs), and by
    nothing newer than the newest of them."""
    low = min(versions)
    high = max(versions)
    spec = SpecifierSet(f">={low[0]}.{low[1]},<{high[0]}.{high[1] + 1}")
    assert all(Version(f"{v[0]}.{v[1]}") in spec for v in versions)
    return str(spec)
