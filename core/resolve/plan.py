"""Turn what the user asked for into a resolved, fetched install plan."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename

from roost.errors import NoMatchingDistribution, RequirementError, ResolutionError
from roost.policy_types import Exclusion
from roost.resolve.candidates import (
    Candidate,
    Policy,
    Req,
    from_requirement,
    topological,
    yanked_warning,
)
from roost.resolve.provider import CandidateFilter, Provider
from roost.store.fetch import Fetcher
from roost.target.installed import InstalledDist
from roost.types import IndexSource, Link, NormalizedName, Target, redact_url
from roost.util.output import one_line

if TYPE_CHECKING:
    from roost.index.finder import FileCandidate, Finder
    from roost.resolve.requirement_line import ParsedRequirement


@dataclass
class Resolution:
    """The resolver's answer: every distribution to end up with, dependencies first."""

    candidates: list[Candidate]
    requested: frozenset[str]
    warnings: list[str] = field(default_factory=list)


def direct_file(parsed: ParsedRequirement, target: Target) -> FileCandidate:
    """The one file a ``name @ url`` or wheel-path requirement names, checked for the target."""
    from roost.index.finder import FileCandidate

    assert parsed.url is not None
    filename = parsed.url.rstrip("/").rsplit("/", 1)[-1].split("#", 1)[0]
    if not filename.endswith(".whl"):
        raise RequirementError(
            f"{parsed.origin}: {redact_url(parsed.url)} is not a wheel, and this command takes "
            "wheels only (roost install and roost wheel build sources)."
        )
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
    except Exception as exc:
        raise RequirementError(f"{parsed.origin}: {filename}: {exc}") from None
    if parsed.requirement is not None and canonicalize_name(parsed.requirement.name) != name:
        raise RequirementError(
            f"{parsed.origin}: {filename} is {name}, not {parsed.requirement.name}"
        )
    ranks = {tag: i for i, tag in enumerate(target.tags)}
    matching = [ranks[str(t)] for t in tags if str(t) in ranks]
    if not matching:
        raise NoMatchingDistribution(
            f"{filename} is not a supported wheel for {target.executable} "
            f"(Python {target.full_version}; its best tag is {target.tags[0]})"
        )
    hashes = {algo: values[0] for algo, values in parsed.hashes.items() if len(values) == 1}
    source = IndexSource(parsed.url, "direct", parsed.origin)
    link = Link(url=parsed.url, filename=filename, source=source, hashes=hashes)
    return FileCandidate(link, NormalizedName(name), version, True, min(matching))


def user_requirements(
    parsed: Sequence[ParsedRequirement], target: Target, provider: Provider
) -> list[Req]:
    reqs: list[Req] = []
    for item in parsed:
        if item.editable:
            raise RequirementError(
                f"{item.origin}: {item.line}: editable installs need a build step, and this "
                "command takes wheels only (roost install builds them)."
            )
        if item.url is not None:
            direct = direct_file(item, target)
            req = item.requirement or Requirement(f"{direct.name}=={direct.version}")
            if req.marker is not None and not provider.marker_ok_for_user(req):
                continue
            reqs.append(from_requirement(req, direct=direct))
            continue
        if item.requirement is None:
            raise RequirementError(f"{item.origin}: cannot understand {item.line!r}")
        if not provider.marker_ok_for_user(item.requirement):
            continue
        reqs.append(from_requirement(item.requirement))
    return reqs


def constraint_map(parsed: Sequence[ParsedRequirement]) -> dict[NormalizedName, SpecifierSet]:
    found: dict[NormalizedName, SpecifierSet] = {}
    for item in parsed:
        if item.requirement is None:
            continue
        key = NormalizedName(canonicalize_name(item.requirement.name))
        found[key] = found.get(key, SpecifierSet()) & item.requirement.specifier
    return found


def resolve(
    requirements: Sequence[ParsedRequirement],
    *,
    finder: Finder,
    fetcher: Fetcher,
    target: Target,
    installed: dict[NormalizedName, InstalledDist],
    policy: Policy,
    pinned: Callable[[Candidate], None] | None = None,
    source_metadata: Callable[[FileCandidate], str] | None = None,
    exclude: CandidateFilter | None = None,
) -> Resolution:
    """Resolve *requirements*; *pinned*, when given, hears of candidates the resolver
    pins while it goes on (see :func:`pins_reporter`). With *source_metadata* (the
    core metadata of an sdist, built if need be), sdists are candidates too. *exclude*
    is the plugins' candidate filter (``roost_filter_candidates``)."""
    import resolvelib

    provider = Provider(finder, fetcher, target, installed, policy)
    provider.source_metadata = source_metadata
    provider.exclude = exclude
    reqs = user_requirements(requirements, target, provider)
    policy.requested = frozenset(r.name for r in reqs)
    hashes: dict[str, dict[str, tuple[str, ...]]] = {}
    for item in requirements:
        if item.hashes and item.requirement is not None:
            hashes[canonicalize_name(item.requirement.name)] = dict(item.hashes)
    provider.pinned_hashes = hashes
    from roost.resolve.installed_check import satisfied_by_installed

    already = satisfied_by_installed(reqs, installed, provider)
    if already is not None:
        return Resolution(already, policy.requested, provider.warnings)
    provider.prefetch(reqs)
    resolver: resolvelib.Resolver[Req, Candidate, str] = resolvelib.Resolver(
        provider, pins_reporter(pinned)
    )
    try:
        result = resolver.resolve(reqs, max_rounds=200_000)
    except resolvelib.ResolutionImpossible as exc:
        raise _impossible(exc, finder, target, policy, provider.excluded) from None
    except resolvelib.ResolutionTooDeep:
        raise ResolutionError(
            "resolution took too many rounds; pin some versions to help the resolver"
        ) from None
    finally:
        provider.close()
    ordered = topological(result.mapping, result.graph)
    yanked = [text for text in map(yanked_warning, ordered) if text is not None]
    return Resolution(ordered, policy.requested, [*provider.warnings, *yanked])


def pins_reporter(pinned: Callable[[Candidate], None] | None) -> Any:
    """A resolvelib reporter that hands *pinned* the candidates the resolver pins, so
    their wheels can be fetched and unpacked while it resolves the rest.

    Only the first version pinned of each project, and nothing once the resolver has
    had to backtrack: a resolution that backtracks may pin and drop many versions of a
    project, and each one handed over is a download that may be wasted.
    """
    import resolvelib

    class Reporter(resolvelib.BaseReporter):  # type: ignore[type-arg]
        def __init__(self) -> None:
            self.seen: set[str] = set()
            self.backtracked = False

        def resolving_conflicts(self, causes: object) -> None:
            self.backtracked = True

        def pinning(self, candidate: Candidate) -> None:
            if pinned is None or self.backtracked or candidate.name in self.seen:
                return
            self.seen.add(candidate.name)
            pinned(candidate)

    return Reporter()


def _impossible(
    exc: object,
    finder: Finder,
    target: Target,
    policy: Policy | None = None,
    excluded: Mapping[NormalizedName, Sequence[Exclusion]] | None = None,
) -> ResolutionError:
    causes = list(getattr(exc, "causes", []))
    names = {c.requirement.name for c in causes}
    if len(names) == 1 and not any(c.parent is not None for c in causes):
        # Nothing at all matched a requirement the user gave: say what exists.
        return _no_match(causes[0].requirement, finder, target, policy, excluded)
    if len(names) == 1 and len(causes) == 1:
        return _no_match(causes[0].requirement, finder, target, policy, excluded)
    from roost.resolve.candidates import explain_conflict

    return ResolutionError(
        "cannot install these requirements together.\n"
        + explain_conflict(causes)
        + "\nLoosen or remove one of them, or pin a version that satisfies all."
    )


def _no_match(
    req: Req,
    finder: Finder,
    target: Target,
    policy: Policy | None,
    excluded: Mapping[NormalizedName, Sequence[Exclusion]] | None = None,
) -> NoMatchingDistribution:
    from roost.resolve.candidates import PYTHON_KEY

    who = req.describe()
    if req.name == PYTHON_KEY:
        return NoMatchingDistribution(
            f"{who}: the target interpreter is Python {target.full_version}."
        )
    found = finder.find(req.name)
    asked = ", ".join(s.display for s in finder.sources) or "no source"
    if not found.candidates and not found.rejected:
        return NoMatchingDistribution(
            f"no distribution found for {who}: no source has a project named "
            f"{req.name!r} (asked {asked})."
        )
    versions = sorted({str(c.version) for c in found.candidates if c.is_wheel})
    lines = [f"no matching distribution for {who}."]
    if versions:
        lines.append(f"  wheels usable for this target: {', '.join(versions)}")
    sdists = sorted({one_line(c.link.filename) for c in found.candidates if not c.is_wheel})
    if sdists:
        lines.append(f"  source distributions: {', '.join(sdists)}")
    if policy is not None:
        # Say which option took candidates away: the files listed may all be there.
        if req.name in policy.no_binary or "*" in policy.no_binary:
            lines.append(f"  --no-binary excludes the wheels of {req.name}")
        if req.name in policy.only_binary or "*" in policy.only_binary:
            lines.append(f"  --only-binary excludes the source distributions of {req.name}")
    for exclusion in (excluded or {}).get(req.name, ()):
        # What a plugin took away, and which plugin: the files listed above may all be
        # there and still be out of bounds.
        what = exclusion.filename or f"{req.name} {exclusion.version}"
        reason = one_line(exclusion.reason) or "no reason given"
        lines.append(f"  {one_line(what)} excluded by policy: {reason} ({exclusion.plugin})")
    for link, why in found.rejected[:20]:
        # File names come from index pages: one line each, whatever they hold.
        lines.append(f"  skipped {one_line(link.filename)}: {why}")
    if len(found.rejected) > 20:
        lines.append(f"  ... and {len(found.rejected) - 20} more files skipped")
    lines.append(f"  (target: Python {target.full_version}, tags like {target.tags[0]})")
    return NoMatchingDistribution("\n".join(lines))
