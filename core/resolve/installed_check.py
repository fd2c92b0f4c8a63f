"""Whether what is installed satisfies the requirements already (a no-op install asks no index)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from roost.resolve.candidates import PYTHON_KEY, Candidate, Req, from_requirement
from roost.resolve.provider import Provider
from roost.target.installed import InstalledDist
from roost.types import NormalizedName


def satisfied_by_installed(
    reqs: Sequence[Req],
    installed: Mapping[NormalizedName, InstalledDist],
    provider: Provider,
) -> list[Candidate] | None:
    """The installed distributions, if they already satisfy *reqs* and everything they
    require (markers evaluated for the target); else None.

    A no-op install then needs no index at all, as with uv. Upgrades, reinstalls and
    direct URLs always go through the resolver.
    """
    policy = provider.policy
    if policy.upgrade or policy.force_reinstall:
        return None
    chosen: dict[NormalizedName, Candidate] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    stack = list(reqs)
    while stack:
        req = stack.pop()
        if req.name == PYTHON_KEY:
            continue
        dist = installed.get(req.name)
        version = dist.parsed_version if dist is not None else None
        if req.direct is not None or dist is None or version is None:
            return None
        if not req.specifier.contains(version, prereleases=True):
            return None
        constraint = policy.constraints.get(req.name)
        if constraint is not None and not constraint.contains(version, prereleases=True):
            return None
        if (req.name, req.extras) in seen:
            continue
        seen.add((req.name, req.extras))
        chosen.setdefault(req.name, Candidate(req.name, version, installed=dist))
        if policy.no_deps:
            continue
        for dep in dist.requires:
            if provider._marker_ok(dep, req.extras):
                stack.append(from_requirement(dep, parent=chosen[req.name]))
    return list(chosen.values())
