"""Turn what the user asked for into a resolved, fetched install plan."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

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
from roost.types import IndexSource, Link, NormalizedName, Target, redact_text, redact_url
from roost.util.output import one_line

if TYPE_CHECKING:
    from roost.index.finder import FileCandidate, Finder, FindResult
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
    from roost.resolve.candidates import PYTHON_KEY

    causes = list(getattr(exc, "causes", []))
    python = Version(target.full_version)
    unmet_python = [
        c
        for c in causes
        if c.requirement.name == PYTHON_KEY
        and not c.requirement.specifier.contains(python, prereleases=True)
    ]
    if unmet_python:
        # As pip: a Python the candidates refuse is the answer, whatever else conflicts.
        return _python_refused(unmet_python, target)
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


def _python_refused(causes: Sequence[Any], target: Target) -> NoMatchingDistribution:
    """pip's words for candidates whose Requires-Python the target does not meet."""
    version = target.full_version
    if len(causes) == 1:
        cause = causes[0]
        who = "the requirements" if cause.parent is None else cause.parent.name
        return NoMatchingDistribution(
            f"Package {who!r} requires a different Python: {version} not in "
            f"{str(cause.requirement.specifier)!r}"
        )
    lines = [f"Packages require a different Python. {version} not in:"]
    for cause in causes:
        parent = cause.parent
        who = "the requirements" if parent is None else f"{parent.name} {parent.version}"
        lines.append(f"{str(cause.requirement.specifier)!r} (required by {who})")
    return NoMatchingDistribution("\n".join(lines))


def _shown(req: Req) -> str:
    """*req* as pip names it in its errors: as written, without its marker, and for a
    dependency with the project that asked for it."""
    text = req.text or req.name
    try:
        parsed = Requirement(text)
    except Exception:
        parsed = None
    if parsed is not None and parsed.marker is not None:
        parsed.marker = None
        text = str(parsed)
    return text if req.parent is None else f"{text} (from {req.parent.key})"


def _no_match(
    req: Req,
    finder: Finder,
    target: Target,
    policy: Policy | None,
    excluded: Mapping[NormalizedName, Sequence[Exclusion]] | None = None,
) -> NoMatchingDistribution:
    """pip's lines (scripts grep them), then what roost knows of why nothing matched.

    The message is printed after ``ERROR: ``; pip prints each of its lines as an error
    of its own, so the lines after the first carry that prefix themselves.
    """
    from roost.resolve.candidates import PYTHON_KEY

    if req.name == PYTHON_KEY:
        return NoMatchingDistribution(
            f"{req.describe()}: the target interpreter is Python {target.full_version}."
        )
    shown = redact_text(_shown(req))
    found = finder.find(req.name)
    pip_lines = _pip_not_found(found, target)
    pip_lines.append(
        f"Could not find a version that satisfies the requirement {shown} "
        f"(from versions: {', '.join(_offered(req, found, policy)) or 'none'})"
    )
    pip_lines.append(f"No matching distribution found for {shown}")
    lines = [pip_lines[0], *(f"ERROR: {line}" for line in pip_lines[1:])]
    if _looks_like_a_file(req):
        lines.insert(
            -1,
            f"HINT: {req.text} is the name of a file, not of a project; to "
            f"install what a requirements file lists, give it with -r {req.text}",
        )
    if not found.candidates and not found.rejected:
        asked = ", ".join(s.display for s in finder.sources) or "no source"
        lines.append(f"  no source has a project named {req.name!r} (asked {asked})")
        return NoMatchingDistribution("\n".join(lines))
    yanked: dict[Version, bool] = {}  # per version: are all its wheels yanked?
    for c in found.candidates:
        if c.is_wheel:
            yanked[c.version] = yanked.get(c.version, True) and c.link.yanked is not None
    versions = [f"{v}{' (yanked)' if yanked[v] else ''}" for v in sorted(yanked)]
    if versions:
        lines.append(f"  wheels usable for this target: {', '.join(versions)}")
    sdists = sorted({one_line(c.link.filename) for c in found.candidates if not c.is_wheel})
    if sdists:
        lines.append(f"  source distributions: {', '.join(sdists)}")
    if policy is not None:
        # Say which option took candidates away: the files listed may all be there.
        if _binary_excluded(req.name, policy.no_binary):
            lines.append(f"  --no-binary excludes the wheels of {req.name}")
        if _binary_excluded(req.name, policy.only_binary):
            lines.append(f"  --only-binary excludes the source distributions of {req.name}")
    exclusions = list((excluded or {}).get(req.name, ()))
    for exclusion in exclusions[:20]:
        # What a plugin took away, and which plugin: the files listed above may all be
        # there and still be out of bounds.
        what = exclusion.filename or f"{req.name} {exclusion.version}"
        reason = one_line(exclusion.reason) or "no reason given"
        lines.append(f"  {one_line(what)} excluded by policy: {reason} ({exclusion.plugin})")
    if len(exclusions) > 20:
        # A project of hundreds of releases, all out of bounds, fills no screen.
        lines.append(f"  ... and {len(exclusions) - 20} more excluded by policy")
    for link, why in found.rejected[:20]:
        # File names come from index pages: one line each, whatever they hold.
        lines.append(f"  skipped {one_line(link.filename)}: {why}")
    if len(found.rejected) > 20:
        lines.append(f"  ... and {len(found.rejected) - 20} more files skipped")
    lines.append(f"  (target: Python {target.full_version}, tags like {target.tags[0]})")
    return NoMatchingDistribution("\n".join(lines))


def _binary_excluded(name: str, names: frozenset[str]) -> bool:
    return name in names or "*" in names


def _offered(req: Req, found: FindResult, policy: Policy | None) -> list[str]:
    """pip's "from versions": every version the sources offer in a form the options
    allow, yanked ones left out (pip lists them apart)."""
    versions: set[Version] = set()
    for candidate in found.candidates:
        if candidate.link.yanked is not None:
            continue
        if policy is not None:
            banned = policy.no_binary if candidate.is_wheel else policy.only_binary
            if _binary_excluded(req.name, banned):
                continue
        versions.add(candidate.version)
    return [str(v) for v in sorted(versions)]


def _pip_not_found(found: FindResult, target: Target) -> list[str]:
    """pip's lines before "Could not find": the yanked versions and the versions whose
    Requires-Python the target does not meet."""
    lines = []
    yanked = sorted({c.version for c in found.candidates if c.link.yanked is not None})
    if yanked:
        lines.append(f"Ignored the following yanked versions: {', '.join(map(str, yanked))}")
    python = Version(target.full_version)
    refused: set[str] = set()
    for link, _why in found.rejected:
        version = _file_version(link.filename)
        if version is None or not link.requires_python:
            continue
        try:
            specifier = SpecifierSet(link.requires_python)
        except Exception:
            continue
        if not specifier.contains(python, prereleases=True):
            # pip's spelling: the clauses sorted by their numbers.
            clauses = sorted((str(s) for s in specifier), key=_numbers)
            refused.add(f"{version} Requires-Python {','.join(clauses)}")
    if refused:
        lines.append(
            "Ignored the following versions that require a different python version: "
            + "; ".join(sorted(refused))
        )
    return lines


def _numbers(clause: str) -> tuple[int, ...]:
    return tuple(int(part) for part in clause.split(".") if part.isdigit())


def _file_version(filename: str) -> str | None:
    from packaging.utils import parse_sdist_filename

    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except Exception:
        return None


def _looks_like_a_file(req: Req) -> bool:
    """A requirement that is the name of a requirements file, given without ``-r``."""
    return req.parent is None and req.text.lower().endswith(".txt")
