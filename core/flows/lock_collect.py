"""From one resolution per environment to the packages of one lock.

Each environment is resolved on its own (:func:`resolve_environment`). Which
packages only dependency groups need is found by walking the dependency graph of that
resolution from the base requirements and from each group's. :func:`collect` then
merges the environments: a project at the same version from the same source is one
package, with the wheels of that version that fit any environment it is needed in, and
the marker of where it is needed; at different versions, several packages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from roost.flows.lock_files import FileRules, file_entries, public_url, source_package
from roost.lock.document import Lock, LockedPackage
from roost.util.core_metadata import first_field, header_fields, requirement

if TYPE_CHECKING:
    from packaging.version import Version

    from roost.flows.gather import Session
    from roost.flows.lock_groups import GroupRequirements
    from roost.flows.request import InstallRequest
    from roost.flows.sdists import SourceDistributions
    from roost.index.finder import Finder
    from roost.manager import Manager
    from roost.resolve.candidates import Candidate
    from roost.store.fetch import Fetcher
    from roost.types import IndexSource, NormalizedName, Target
    from roost.util.output import Output


@dataclass(frozen=True)
class Environment:
    """One environment a lock is resolved for."""

    target: Target
    #: Its marker in the lock's ``environments``.
    marker: str


@dataclass
class Resolved:
    """One environment's resolution, with what the lock needs to know of it."""

    environment: Environment
    candidates: list[Candidate]
    finder: Finder
    #: Per project: None when the base requirements need it, else the groups that do.
    needed_by: dict[str, frozenset[str] | None] = field(default_factory=dict)
    #: Requires-Python of each candidate's metadata, by project.
    requires_python: dict[str, str | None] = field(default_factory=dict)


def resolve_environment(
    environment: Environment,
    request: InstallRequest,
    net: Session,
    *,
    manager: Manager,
    sources: Sequence[IndexSource],
    strategy: str,
    sdists: SourceDistributions,
    preferred: Mapping[NormalizedName, frozenset[Version]],
    groups: GroupRequirements,
    out: Output,
) -> Resolved:
    """Resolve *request* for *environment* (its own finder, the shared fetcher); its
    first requirements are the dependency groups' (*groups*)."""
    from roost.flows.policy import candidate_filter
    from roost.index.finder import Finder
    from roost.resolve.candidates import without_requested
    from roost.resolve.plan import resolve
    from roost.resolve.provider import preferring

    target = environment.target
    finder = Finder(
        manager,
        net.client,
        sources,
        target,
        strategy=strategy,
        ignore_requires_python=request.policy.ignore_requires_python,
    )
    with preferring(preferred):
        resolution = resolve(
            request.requirements,
            finder=finder,
            fetcher=net.fetcher,
            target=target,
            installed={},
            policy=request.policy,
            source_metadata=sdists.metadata,
            exclude=candidate_filter(manager, request.options),
        )
    for warning in resolution.warnings:
        out.warning(warning)
    resolved = Resolved(environment, resolution.candidates, finder)

    def metadata(candidate: Candidate) -> str:
        file = candidate.file
        assert file is not None
        if not file.is_wheel:
            return sdists.metadata(file)
        return net.fetcher.metadata(file.link).result()

    texts: dict[str, str] = {str(c.name): metadata(c) for c in resolution.candidates}
    for name, text in texts.items():
        value = first_field(header_fields(text), "requires-python")
        resolved.requires_python[name] = value.strip() if value and value.strip() else None
    roots = [
        (number, parsed.requirement)
        for number, parsed in enumerate(request.requirements)
        if parsed.requirement is not None and not parsed.constraint
    ]
    group_count = len(groups.requirements)
    walk = _Walk(texts, target, no_deps=request.policy.no_deps)
    base = walk.reach([req for number, req in roots if number >= group_count])
    by_group: dict[str, set[str]] = {}
    for number, req in roots:
        if number < group_count:
            by_group.setdefault(groups.group_of[number], set()).update(walk.reach([req]))
    for name in texts:
        if name in base:
            resolved.needed_by[name] = None
        else:
            needing = frozenset(g for g, names in by_group.items() if name in names)
            # Reached by no root (cannot happen in a consistent resolution): kept as base.
            resolved.needed_by[name] = needing or None
    # --only-deps: the named projects were resolved (their dependencies are what is
    # locked) and are left out now, as install leaves them out.
    resolved.candidates = without_requested(resolved.candidates, request.policy)
    return resolved


class _Walk:
    """Reachability in one resolution's dependency graph, extras followed."""

    def __init__(self, texts: Mapping[str, str], target: Target, *, no_deps: bool) -> None:
        self.texts = texts
        self.markers = dict(target.markers)
        self.no_deps = no_deps

    def reach(self, roots: Sequence[Requirement]) -> set[str]:
        seen: set[tuple[str, frozenset[str]]] = set()
        todo: list[tuple[str, frozenset[str]]] = []
        for req in roots:
            if req.marker is None or req.marker.evaluate({**self.markers, "extra": ""}):
                todo.append(_node(req))
        while todo:
            node = todo.pop()
            if node in seen or node[0] not in self.texts:
                continue
            seen.add(node)
            if self.no_deps:
                continue
            todo.extend(self._children(*node))
        return {name for name, _extras in seen}

    def _children(self, name: str, extras: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
        found = []
        for value in header_fields(self.texts[name]).get("requires-dist", []):
            try:
                req = requirement(value)
            except Exception:
                continue  # the resolver warned about it already
            if req.marker is None or any(
                req.marker.evaluate({**self.markers, "extra": extra}) for extra in extras | {""}
            ):
                found.append(_node(req))
        return found


def _node(req: Requirement) -> tuple[str, frozenset[str]]:
    name = canonicalize_name(req.name)
    return name, frozenset(canonicalize_name(e) for e in req.extras)


def collect(
    resolved: Sequence[Resolved],
    *,
    environments: Sequence[str],
    groups: GroupRequirements,
    direct_urls: Mapping[str, Mapping[str, object]],
    fetcher: Fetcher,
    lock_dir: Path,
    rules: FileRules | None = None,
) -> Lock:
    """The lock of every environment's resolution, naming only files *rules* allow."""
    from roost.lock.markers import environments_marker, package_marker, requires_python

    # A package is one project at one version from one place; where it is needed.
    where: dict[tuple[str, str, str], dict[str, frozenset[str] | None]] = {}
    first: dict[tuple[str, str, str], tuple[Candidate, Resolved]] = {}
    finders: dict[tuple[str, str, str], list[Finder]] = {}
    for one in resolved:
        for candidate in one.candidates:
            key = _identity(candidate, direct_urls)
            where.setdefault(key, {})[one.environment.marker] = one.needed_by[candidate.name]
            first.setdefault(key, (candidate, one))
            finders.setdefault(key, []).append(one.finder)
    files = file_entries(
        {key: (first[key][0], finders[key]) for key in first if not first[key][0].direct},
        fetcher,
        rules,
    )
    packages = []
    for key, (candidate, one) in first.items():
        marker = package_marker(where[key], environments)
        if candidate.direct:
            package = source_package(candidate, direct_urls, fetcher, lock_dir)
        else:
            wheels, sdist = files[key]
            assert candidate.file is not None
            source = candidate.file.link.source
            package = LockedPackage(
                name=str(candidate.name),
                version=str(candidate.version),
                index=public_url(source.url) if source.kind == "index" else None,
                wheels=wheels,
                sdist=sdist,
            )
        package = _with(
            package,
            marker=marker,
            requires_python=one.requires_python.get(candidate.name),
            environment_marker=environments_marker(list(where[key]), environments),
        )
        packages.append(package)
    versions = [e.environment.target.version[:2] for e in resolved]
    return Lock(
        environments=tuple(environments),
        requires_python=requires_python([(v[0], v[1]) for v in versions]) if versions else None,
        packages=tuple(packages),
        groups=groups.names,
    )


def _with(package: LockedPackage, **changes: object) -> LockedPackage:
    from dataclasses import replace

    if package.version is None:
        changes["requires_python"] = None  # a source tree's may change with it
    return replace(package, **changes)  # type: ignore[arg-type]


def _identity(
    candidate: Candidate, direct_urls: Mapping[str, Mapping[str, object]]
) -> tuple[str, str, str]:
    where = ""
    if candidate.direct and candidate.file is not None:
        url = candidate.file.link.url
        info = direct_urls.get(url)
        where = str(info.get("url", url)) if info is not None else url
        where += "#" + hashlib.sha256(repr(sorted((info or {}).items())).encode()).hexdigest()
    return (str(candidate.name), str(candidate.version), where)
