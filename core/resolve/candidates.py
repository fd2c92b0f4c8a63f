"""The resolver's vocabulary: requirements, candidates, policy, and ordering and conflict texts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from roost.resolve.release_policy import ReleaseChoices
from roost.target.installed import InstalledDist
from roost.types import NormalizedName, redact_url
from roost.util.output import one_line

if TYPE_CHECKING:
    import datetime

    from roost.index.finder import FileCandidate


PYTHON_KEY = "<python>"


@dataclass(frozen=True)
class Req:
    """A requirement with who asked for it."""

    name: NormalizedName
    specifier: SpecifierSet
    extras: frozenset[str] = frozenset()
    #: ``None`` when the user asked; else the candidate whose metadata asked.
    parent: Candidate | None = None
    #: A direct wheel (``name @ url`` or a path): the only acceptable file.
    direct: FileCandidate | None = None
    text: str = ""

    @property
    def key(self) -> str:
        return _key(self.name, self.extras)

    def describe(self) -> str:
        who = "the user" if self.parent is None else f"{self.parent.name} {self.parent.version}"
        return f"{self.text or self.name} (asked for by {who})"


@dataclass(eq=False)
class Candidate:
    """One version of a project (with a set of extras) that could be installed."""

    name: NormalizedName
    version: Version
    extras: frozenset[str] = frozenset()
    file: FileCandidate | None = None
    installed: InstalledDist | None = None
    direct: bool = False
    _deps: list[Req] | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        return _key(self.name, self.extras)

    def __str__(self) -> str:
        return f"{self.name}-{self.version}"


def _key(name: str, extras: frozenset[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


@dataclass
class Policy:
    """What the user asked of resolution."""

    upgrade: bool = False
    eager: bool = False
    force_reinstall: bool = False
    pre: bool = False
    no_deps: bool = False
    #: Names the user asked for (``-U`` upgrades these; eager upgrades all).
    requested: frozenset[str] = frozenset()
    constraints: Mapping[NormalizedName, SpecifierSet] = field(default_factory=dict)
    #: Projects (``*`` for all) the user said must not come as wheels (``--no-binary``).
    no_binary: frozenset[str] = frozenset()
    #: Projects (``*`` for all) that must come as wheels (``--only-binary``).
    only_binary: frozenset[str] = frozenset()
    #: ``--prefer-binary``: any wheel ranks above a newer sdist.
    prefer_binary: bool = False
    #: ``--all-releases``/``--only-final``: pre-releases allowed or refused per project.
    releases: ReleaseChoices = field(default_factory=ReleaseChoices)
    #: ``--uploaded-prior-to``/``--exclude-newer``: files uploaded at or after this
    #: moment are excluded (by the candidate filter, which says so).
    uploaded_before: datetime.datetime | None = None
    #: ``--only-deps``: the requested projects' dependencies, not the projects.
    only_deps: bool = False
    #: ``--ignore-requires-python``: no candidate is refused for its Requires-Python
    #: (neither the index's ``data-requires-python`` nor the metadata's).
    ignore_requires_python: bool = False

    def allows_prereleases(self, name: str) -> bool | None:
        """True or False when ``--pre``, ``--all-releases`` or ``--only-final`` decide
        for *name*; None when its requirements' specifiers do."""
        return True if self.pre else self.releases.allows_prereleases(name)


def without_requested(candidates: Sequence[Candidate], policy: Policy) -> list[Candidate]:
    """*candidates* less the projects the user named, with ``--only-deps`` (pip drops
    them after resolving, even where one named project depends on another)."""
    if not policy.only_deps:
        return list(candidates)
    return [c for c in candidates if c.name not in policy.requested]


def valid_version(text: str) -> bool:
    try:
        Version(text)
    except Exception:
        return False
    return True


def from_requirement(
    req: Requirement, *, parent: Candidate | None = None, direct: FileCandidate | None = None
) -> Req:
    return Req(
        NormalizedName(canonicalize_name(req.name)),
        req.specifier,
        frozenset(canonicalize_name(e) for e in req.extras),
        parent=parent,
        direct=direct,
        text=str(req),
    )


def yanked_warning(candidate: Candidate) -> str | None:
    """pip's warning for a yanked file picked to install (allowed by an exact pin, as
    PEP 592 says), with the index's reason; None for any other candidate."""
    if candidate.file is None or candidate.installed is not None:
        return None
    link = candidate.file.link
    if link.yanked is None:
        return None
    # The reason is the index's text: kept on its line, so it cannot fake one of ours.
    reason = one_line(link.yanked) if link.yanked else "<none given>"
    return (
        "The candidate selected for download or install is a yanked version: "
        f"{candidate.name!r} candidate (version {candidate.version} at "
        f"{redact_url(link.url)} (from {link.source.display}))\n"
        f"Reason for being yanked: {reason}"
    )


def topological(mapping: Mapping[str, Candidate], graph: Any) -> list[Candidate]:
    """Dependencies before dependents (so a half-done install leaves importable code)."""
    order: list[Candidate] = []
    seen: set[str] = set()

    def visit(key: str, trail: set[str]) -> None:
        if key in seen or key in trail or key is None:
            return
        trail.add(key)
        for child in graph.iter_children(key):
            visit(child, trail)
        trail.discard(key)
        seen.add(key)
        candidate = mapping.get(key)
        if candidate is not None and not candidate.extras and candidate.name != PYTHON_KEY:
            order.append(candidate)

    for key in sorted(k for k in mapping if k is not None):
        visit(key, set())
    return order


def explain_conflict(causes: Iterable[Any]) -> str:
    """One paragraph naming each conflicting requirement and who asked for it."""
    by_name: dict[str, list[Req]] = {}
    for cause in causes:
        req: Req = cause.requirement
        by_name.setdefault(req.name, []).append(req)
    lines = []
    for name, reqs in by_name.items():
        label = "Python" if name == PYTHON_KEY else name
        lines.append(f"conflicting requirements for {label}:")
        lines.extend(f"  {r.describe()}" for r in reqs)
    return "\n".join(lines)


def binary_policy(values: Sequence[str]) -> frozenset[str]:
    """pip's ``--no-binary`` values (comma lists, ``:all:``, ``:none:``) as a name set."""
    names: set[str] = set()
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if item == ":all:":
                names = {"*"}
            elif item == ":none:":
                names = set()
            elif item:
                names.add(canonicalize_name(item))
    return frozenset(names)
