"""What ``roost install`` prints, in pip's words and order.

Scripts and CI logs grep pip's lines, so an install says them as pip 26 does:
``Collecting`` (or ``Processing``/``Obtaining`` for local sources) and ``Requirement
already satisfied: ... (from ...)`` for every requirement the resolution took, the
``Installing collected packages`` line in pip's install order, pip's lines for each
version an install replaces, and ``Successfully installed`` with the names as the
requirements spell them, sorted as pip sorts them. ``tests/test_pip_output.py``
compares these lines with pip's own on the same index.

pip prints ``Collecting`` while it resolves; roost prints the same lines once the
resolution is known, walking it from the user's requirements breadth first, so each
project is introduced by the first requirement that reaches it, as in pip.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from roost.types import InstallEvent, NormalizedName, file_url_path, redact_text
from roost.util.core_metadata import first_field, header_fields, requirement
from roost.util.output import Output

if TYPE_CHECKING:
    from roost.resolve.candidates import Candidate
    from roost.resolve.plan import Resolution
    from roost.resolve.requirement_line import ParsedRequirement
    from roost.store.fetch import Fetcher
    from roost.types import InstalledDistribution, Target

#: The graph node every project with a Requires-Python depends on (pip's graph has one).
_PYTHON = "<python>"
#: How often the install-order walk may pass through one node: pip's bound, which keeps
#: a densely cyclic graph from taking exponential time.
_VISITS = 5


def display_path(path: str | Path) -> str:
    """*path* as pip shows it: ``./rest`` when it is under the working folder."""
    try:
        relative = Path(path).relative_to(Path.cwd())
    except (ValueError, OSError):  # elsewhere, or the working folder is gone
        return str(path)
    return os.path.join(".", relative)


def without_marker(req: Requirement) -> str:
    """*req* as pip shows it in these lines: its marker left out."""
    if req.marker is None:
        return str(req)
    bare = Requirement(str(req))
    bare.marker = None
    return str(bare)


@dataclass(frozen=True)
class Head:
    """How pip introduces one requirement: what it calls it, and where it came from."""

    #: The requirement as pip shows it (``alpha<2,>=1.0``, ``gamma[fast]``).
    shown: str
    #: The project name as the requirement spells it; None when nothing names it (a
    #: directory, an archive URL): the distribution's metadata then gives it.
    name: str | None
    #: pip's ``(from ...)`` text: ``-r FILE (line N)``, or the chain of dependents.
    comes_from: str | None = None
    #: The line for a local source (``Processing ./x.whl``, ``Obtaining file:///...``)
    #: instead of ``Collecting``.
    local: str | None = None

    def path(self) -> str:
        """What this requirement's own dependencies say they come from (pip's
        ``a->b->-r file (line 1)``)."""
        return self.shown if self.comes_from is None else f"{self.shown}->{self.comes_from}"

    def suffix(self) -> str:
        return "" if self.comes_from is None else f" (from {self.comes_from})"


def user_head(parsed: ParsedRequirement) -> Head:
    """The :class:`Head` of a requirement the user gave, read before it is built."""
    comes_from = _file_origin(parsed)
    req = parsed.requirement
    name = None if req is None else req.name
    url = parsed.url
    if url is not None and (url.lower().startswith("file:") or "://" not in url):
        path = file_url_path(url) if url.lower().startswith("file:") else url
        if parsed.editable:
            local = f"Obtaining {redact_text(Path(path).resolve().as_uri())}"
        else:
            local = f"Processing {display_path(os.path.abspath(path))}"
        shown = without_marker(req) if req is not None else display_path(path)
        return Head(redact_text(shown), name, comes_from, local)
    shown = without_marker(req) if req is not None else (url or parsed.line)
    return Head(redact_text(shown), name, comes_from)


def _file_origin(parsed: ParsedRequirement) -> str | None:
    """pip's ``-r FILE (line N)`` for a requirement read from a file; None for the
    command line."""
    where, colon, number = parsed.origin.rpartition(":")
    if not colon or not number.isdigit() or not where:
        return None
    return f"{'-c' if parsed.constraint else '-r'} {where} (line {number})"


@dataclass
class _Walk:
    """The resolution seen from the user's requirements: who introduced each project,
    and the dependency graph pip orders an install by."""

    heads: dict[NormalizedName, Head] = field(default_factory=dict)
    #: Node (a project, ``project[extras]`` or :data:`_PYTHON`; None is the user) ->
    #: the nodes it depends on.
    graph: dict[str | None, set[str]] = field(default_factory=dict)


class InstallLines:
    """pip's lines for one install, made from the requirements as the user gave them
    (before any source is built, while they still say what the user wrote)."""

    def __init__(self, requirements: Sequence[ParsedRequirement], out: Output) -> None:
        self.out = out
        self._heads = [user_head(parsed) for parsed in requirements]
        self._walk = _Walk()
        #: Display names of the projects this install takes, by key.
        self._names: dict[NormalizedName, str] = {}
        #: The pip lines of a removal still to be finished ("Successfully uninstalled").
        self._removing: str | None = None

    # -- after resolving -------------------------------------------------------------

    def resolved(
        self,
        resolution: Resolution,
        requirements: Sequence[ParsedRequirement],
        *,
        target: Target,
        fetcher: Fetcher,
        no_deps: bool,
        reinstall: bool,
    ) -> None:
        """Say how each requirement was met: ``Collecting`` what will be installed,
        ``Requirement already satisfied`` what is installed already. From here on the
        fetcher says pip's line for each file it hands over (``Downloading``, ``Using
        cached``), where these lines go: only the user's install says them, not the
        installs that fill build environments."""
        fetcher.say = self.out.info
        heads = self._heads if len(self._heads) == len(requirements) else []
        if not heads:
            heads = [user_head(parsed) for parsed in requirements]
        for parsed, head in zip(requirements, heads, strict=True):
            marker = parsed.marker if parsed.requirement is None else parsed.requirement.marker
            if marker is not None and not marker.evaluate({**target.markers, "extra": ""}):
                self.out.info(
                    f"Ignoring {head.name or head.shown}: markers '{marker}' don't match "
                    "your environment"
                )
        by_key = {candidate.name: candidate for candidate in resolution.candidates}
        walk = _walk(
            list(zip(requirements, heads, strict=True)),
            by_key,
            lambda c: _dependencies(c, fetcher, target, no_deps=no_deps),
        )
        self._walk = walk
        for key, head in walk.heads.items():
            candidate = by_key[key]
            self._names[key] = head.name or metadata_name(candidate, fetcher)
            dist = candidate.installed
            if dist is not None and not reinstall:
                self.out.info(
                    f"Requirement already satisfied: {head.shown} in "
                    f"{display_path(dist.location)}{head.suffix()} ({dist.version})"
                )
            else:
                self.out.info(f"{head.local or 'Collecting ' + head.shown}{head.suffix()}")
        for candidate in resolution.candidates:
            # Reached by no requirement (it should not happen): still said.
            if candidate.name not in walk.heads:
                self._names[candidate.name] = metadata_name(candidate, fetcher)
                self.out.info(f"Collecting {self._names[candidate.name]}")

    def install_order(self, todo: Sequence[Candidate]) -> list[Candidate]:
        """*todo* in pip's install order: what depends on least first."""
        weights = topological_weights(self._walk.graph, {c.name for c in todo})
        return sorted(todo, key=lambda c: (weights.get(c.name, -1), c.name), reverse=True)

    def name(self, candidate: Candidate) -> str:
        return self._names.get(candidate.name, candidate.name)

    # -- while installing ------------------------------------------------------------

    def installing(self, todo: Iterable[Candidate]) -> None:
        names = [self.name(candidate) for candidate in todo]
        if names:
            self.out.info(f"Installing collected packages: {', '.join(names)}")

    def event(self, step: InstallEvent) -> None:
        """pip's lines for a version the install replaces, as the install goes."""
        if self._removing is not None and step.kind != "remove":
            self.out.info(f"      Successfully uninstalled {self._removing}")
            self._removing = None
        if step.kind == "remove":
            replacing = self._names.get(NormalizedName(canonicalize_name(step.name)), step.name)
            old = f"{step.name}-{step.version}"
            self.out.info(f"  Attempting uninstall: {replacing}")
            self.out.info(f"    Found existing installation: {step.name} {step.version}")
            self.out.info(f"    Uninstalling {old}:")
            self._removing = old

    def installed(self, done: Sequence[InstalledDistribution]) -> None:
        if self._removing is not None:
            self.out.info(f"      Successfully uninstalled {self._removing}")
            self._removing = None
        if done:
            self.out.info(successfully_installed(done, self._names))


def successfully_installed(
    done: Sequence[InstalledDistribution], names: Mapping[NormalizedName, str] = {}
) -> str:
    """pip's summary: each name as its requirement spelled it, sorted as pip sorts them
    (by that spelling, capitals first)."""
    shown = sorted(
        (names.get(NormalizedName(canonicalize_name(d.name)), d.name), d.version) for d in done
    )
    return "Successfully installed " + " ".join(f"{name}-{version}" for name, version in shown)


def would_install(todo: Sequence[Candidate], fetcher: Fetcher) -> str:
    """pip's ``--dry-run`` line: metadata names and versions, sorted."""
    items = sorted((metadata_name(c, fetcher), str(c.version)) for c in todo)
    return "Would install " + " ".join(f"{name}-{version}" for name, version in items)


def metadata_name(candidate: Candidate, fetcher: Fetcher) -> str:
    """The project's name as its metadata spells it (its key when that is unknown)."""
    if candidate.installed is not None:
        return candidate.installed.name
    text = _metadata_text(candidate, fetcher)
    return first_field(header_fields(text), "name") or candidate.name


def _metadata_text(candidate: Candidate, fetcher: Fetcher) -> str:
    if candidate.installed is not None:
        return candidate.installed.read_text("METADATA") or ""
    if candidate.file is None:
        return ""
    try:
        # Read while resolving, so this is the resolver's copy; printing must never
        # fail an install, whatever went wrong with it.
        return fetcher.metadata(candidate.file.link).result()
    except Exception:
        return ""


@dataclass(frozen=True)
class _Deps:
    requires: list[Requirement]
    requires_python: bool


def _dependencies(
    candidate: Candidate, fetcher: Fetcher, target: Target, *, no_deps: bool
) -> Callable[[frozenset[str]], _Deps]:
    """The requirements of *candidate* with a set of extras, markers evaluated for
    *target* as the resolver evaluates them."""
    fields = header_fields(_metadata_text(candidate, fetcher))
    python = candidate.installed is None and bool(first_field(fields, "requires-python"))
    parsed: list[Requirement] = []
    if not no_deps:
        for value in fields.get("requires-dist", []):
            try:
                parsed.append(requirement(value))
            except Exception:
                continue  # the resolver warned about it already
    markers = dict(target.markers)

    def holds(req: Requirement, extras: frozenset[str]) -> bool:
        if req.marker is None:
            return True
        return any(req.marker.evaluate({**markers, "extra": e}) for e in extras or {""})

    def deps(extras: frozenset[str]) -> _Deps:
        return _Deps([r for r in parsed if holds(r, extras)], python)

    return deps


@dataclass(frozen=True)
class _Item:
    key: NormalizedName
    extras: frozenset[str]
    head: Head
    parent: str | None


def _node(key: str, extras: frozenset[str]) -> str:
    return f"{key}[{','.join(sorted(extras))}]" if extras else key


def _walk(
    user: Sequence[tuple[ParsedRequirement, Head]],
    by_key: Mapping[NormalizedName, Candidate],
    dependencies: Callable[[Candidate], Callable[[frozenset[str]], _Deps]],
) -> _Walk:
    """Breadth first from the user's requirements through the resolution: the first
    requirement to reach a project introduces it."""
    walk = _Walk(graph={None: set()})
    queue: deque[_Item] = deque()
    for parsed, head in user:
        req = parsed.requirement
        if req is None:
            continue
        extras = frozenset(canonicalize_name(e) for e in (req.extras or parsed.extras))
        key = NormalizedName(canonicalize_name(req.name))
        queue.append(_Item(key, extras, head, None))
    known: dict[NormalizedName, Callable[[frozenset[str]], _Deps]] = {}
    expanded: set[str] = set()
    while queue:
        item = queue.popleft()
        candidate = by_key.get(item.key)
        if candidate is None:
            continue  # a marker left it out, or a constraint names it only
        node = _node(item.key, item.extras)
        walk.graph.setdefault(item.parent, set()).add(node)
        walk.heads.setdefault(item.key, item.head)
        if node in expanded:
            continue
        expanded.add(node)
        children = walk.graph.setdefault(node, set())
        if item.key not in known:
            known[item.key] = dependencies(candidate)
        deps = known[item.key](item.extras)
        if item.extras:
            # As in the resolver, a project with extras depends on the project itself,
            # which says where its own dependencies come from.
            base = walk.heads[item.key]
            queue.append(_Item(item.key, frozenset(), base, node))
            via = item.head.path()
        else:
            via = walk.heads[item.key].path()
            if deps.requires_python:
                children.add(_PYTHON)
        for dep in deps.requires:
            key = NormalizedName(canonicalize_name(dep.name))
            extras = frozenset(canonicalize_name(e) for e in dep.extras)
            queue.append(_Item(key, extras, Head(without_marker(dep), dep.name, via), node))
    return walk


def topological_weights(graph: Mapping[str | None, set[str]], keys: set[str]) -> dict[str, int]:
    """pip's install-order weights of *keys* in *graph* (None is the root): leaves are
    pruned again and again, each round weighing less than the one before; what a
    cycle keeps is weighed by its longest path from the root. Higher installs first.
    """
    remaining = {node: set(children) for node, children in graph.items()}
    for children in graph.values():
        for child in children:
            remaining.setdefault(child, set())
    remaining.setdefault(None, set())
    weights: dict[str, list[int]] = {}
    while True:
        leaves = {
            node for node, children in remaining.items() if node is not None and not children
        }
        if not leaves:
            break
        weight = len(remaining) - 1
        for leaf in leaves:
            if leaf is not None and leaf in keys:
                weights[leaf] = [weight]
            del remaining[leaf]
        for children in remaining.values():
            children -= leaves
    # What is left has cycles: the longest path from the root, each node passed
    # through a bounded number of times (iteratively: cycles can be long).
    path: set[str | None] = set()
    visits: dict[str | None, int] = {}

    def enter(node: str | None) -> bool:
        if node in path or visits.get(node, 0) >= _VISITS:
            return False
        visits[node] = visits.get(node, 0) + 1
        path.add(node)
        return True

    stack: list[tuple[str | None, Iterator[str]]] = []
    if enter(None):
        stack.append((None, iter(sorted(remaining.get(None, ())))))
    while stack:
        node, pending = stack[-1]
        step = next(pending, None)
        if step is None:
            stack.pop()
            path.discard(node)
            if node is not None and node in keys:
                weights.setdefault(node, []).append(len(path))
            continue
        if enter(step):
            stack.append((step, iter(sorted(remaining.get(step, ())))))
    return {node: max(values) for node, values in weights.items()}
