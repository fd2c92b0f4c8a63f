"""A thin resolvelib provider: candidates from the finder, metadata from the fetcher.

Markers and Requires-Python are evaluated against the *target* interpreter. No I/O
happens in constructors; every cache lives on one ``Provider`` for one run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from resolvelib import AbstractProvider

from roost.errors import NoMatchingDistribution
from roost.policy_types import CandidateInfo, Exclusion
from roost.resolve.candidates import (
    PYTHON_KEY,
    Candidate,
    Policy,
    Req,
    from_requirement,
    valid_version,
)
from roost.resolve.requirement_line import MAX_NAME_LENGTH
from roost.target.installed import InstalledDist
from roost.types import NormalizedName, Target
from roost.util.core_metadata import first_field, header_fields, requirement

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from roost.index.finder import FileCandidate, Finder, FindResult
    from roost.store.fetch import Fetcher

#: Versions to pick first when the requirements allow them, per project: ``roost lock``
#: keeps the pins of the lock it rewrites (pip-compile's rule). Set around a resolution
#: with :func:`preferring`; no other command sets it, so their resolutions are unchanged.
PREFERRED_VERSIONS: ContextVar[Mapping[NormalizedName, frozenset[Version]] | None] = ContextVar(
    "roost_preferred_versions", default=None
)

#: What the resolver asks about each project's files: the exclusions of every
#: ``roost_filter_candidates`` implementation (made by the flow, which has the options).
CandidateFilter = Callable[[NormalizedName, Sequence[CandidateInfo]], Sequence[Exclusion]]

#: Index lookups running ahead of the resolver; bounded like the download pool.
PREFETCH_THREADS = 8
#: How much of an index's over-long requirement a message shows.
_SHOWN_LENGTH = 80


class Provider(AbstractProvider):  # type: ignore[type-arg]
    """resolvelib's provider interface, adapted to roost's finder and fetcher."""

    def __init__(
        self,
        finder: Finder,
        fetcher: Fetcher,
        target: Target,
        installed: Mapping[NormalizedName, InstalledDist],
        policy: Policy,
    ) -> None:
        self.finder = finder
        self.fetcher = fetcher
        self.target = target
        self.installed = installed
        self.policy = policy
        self.warnings: list[str] = []
        #: ``--hash`` values per project name; applied to whichever file is picked.
        self.pinned_hashes: Mapping[str, Mapping[str, tuple[str, ...]]] = {}
        self._python = Version(target.full_version)
        self._pool: ThreadPoolExecutor | None = None
        self._asked: set[str] = set()
        self._satisfied: dict[tuple[int, Version, bool | None], tuple[bool, SpecifierSet]] = {}
        #: Core metadata of a source distribution (building it if needed), or None when
        #: nothing here can build: then only wheels are candidates.
        self.source_metadata: Callable[[FileCandidate], str] | None = None
        #: The plugins' candidate filter, or None when no plugin filters.
        self.exclude: CandidateFilter | None = None
        #: Per project, the exclusions that took files away, for "no matching
        #: distribution"; and the files they took, by URL, for the lookup they were for.
        self.excluded: dict[NormalizedName, list[Exclusion]] = {}
        self._excluded_urls: dict[NormalizedName, tuple[FindResult, frozenset[str]]] = {}
        #: Versions to try first (see :data:`PREFERRED_VERSIONS`).
        self.preferred = PREFERRED_VERSIONS.get() or {}

    # -- resolvelib interface ----------------------------------------------------

    def identify(self, requirement_or_candidate: Req | Candidate) -> str:
        return requirement_or_candidate.key

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> tuple[bool, bool, bool, bool, str]:
        infos = list(information[identifier])
        direct = any(info.requirement.direct is not None for info in infos)
        pinned = any(
            spec.operator in {"==", "==="} and "*" not in spec.version
            for info in infos
            for spec in info.requirement.specifier
        )
        causes = {cause.requirement.name for cause in backtrack_causes}
        # Python first (cheap, decisive), then what backtracking is about, then the
        # most constrained requirements; the name keeps the order stable.
        return (
            identifier != PYTHON_KEY,
            identifier.split("[", maxsplit=1)[0] not in causes,
            not direct,
            not pinned,
            identifier,
        )

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> list[Candidate]:
        reqs = list(requirements[identifier])
        bad = {id(c) for c in incompatibilities[identifier]}
        bad_versions = {c.version for c in incompatibilities[identifier]}
        if identifier == PYTHON_KEY:
            # The one Python there is, unless the resolver has ruled it out: offering it
            # again after a backjump makes resolvelib try the same thing for ever.
            ok = self._python not in bad_versions and all(
                self._python in r.specifier for r in reqs
            )
            return [Candidate(NormalizedName(PYTHON_KEY), self._python)] if ok else []
        name = reqs[0].name if reqs else NormalizedName(identifier.split("[", maxsplit=1)[0])
        extras = reqs[0].extras if reqs else frozenset()
        found = [
            c
            for c in self._candidates(name, extras, reqs)
            if id(c) not in bad and c.version not in bad_versions
        ]
        if found:
            # Start fetching the metadata of the likeliest pick while the resolver
            # thinks about other projects.
            first = found[0]
            if first.file is not None and first.file.is_wheel and first.installed is None:
                self.fetcher.metadata(first.file.link)
        return found

    def is_satisfied_by(self, requirement: Req, candidate: Candidate) -> bool:
        if requirement.name == PYTHON_KEY:
            return self._contains(requirement.specifier, candidate.version, prereleases=None)
        if requirement.direct is not None:
            return (
                candidate.file is not None
                and candidate.file.link.url == requirement.direct.link.url
            )
        return self._contains(requirement.specifier, candidate.version)

    def _contains(
        self, specifier: SpecifierSet, version: Version, *, prereleases: bool | None = True
    ) -> bool:
        """``specifier.contains(version, prereleases=...)``, remembered: resolvelib asks
        again for every pinned candidate on every round, and each lookup of a project
        checks every version against every requirement. ``prereleases=None`` is ``in``.
        """
        key = (id(specifier), version, prereleases)
        known = self._satisfied.get(key)
        if known is not None:
            return known[0]
        answer = specifier.contains(version, prereleases=prereleases)
        # The specifier is kept alive with the answer, so its id is not reused.
        self._satisfied[key] = (answer, specifier)
        return answer

    def get_dependencies(self, candidate: Candidate) -> list[Req]:
        if candidate.name == PYTHON_KEY:
            return []
        if candidate._deps is None:
            candidate._deps = self._dependencies(candidate)
            self.prefetch(candidate._deps)
        return candidate._deps

    def prefetch(self, reqs: Iterable[Req]) -> None:
        """Start looking up projects the resolver will ask about soon.

        resolvelib visits one project at a time; without this, every index page is a
        round trip in series. The finder is thread-safe and caches per project, so a
        lookup the resolver later makes itself joins the one already under way.
        """
        for req in reqs:
            if req.name == PYTHON_KEY or req.direct is not None or req.name in self._asked:
                continue
            self._asked.add(req.name)
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(PREFETCH_THREADS, "roost-prefetch")
            self._pool.submit(self._prefetch_one, req.name)

    def _prefetch_one(self, name: NormalizedName) -> None:
        # A failure is kept by the finder and reported by the resolver's own lookup.
        with contextlib.suppress(Exception):
            self.finder.find(name)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    # -- helpers -----------------------------------------------------------------

    def _allows_pre(self, name: str, reqs: Sequence[Req]) -> bool:
        choice = self.policy.allows_prereleases(name)
        if choice is not None:
            return choice
        specs = [r.specifier for r in reqs]
        constraint = self.policy.constraints.get(NormalizedName(name))
        if constraint is not None:
            specs.append(constraint)
        # A specifier that names a pre-release (``>=2.0b1``) opts in, as PEP 440 says.
        return any(spec.prereleases for spec in specs)

    def _prefers_installed(self, name: str) -> bool:
        if self.policy.force_reinstall or self.policy.eager:
            return False
        return not (self.policy.upgrade and name in self.policy.requested)

    def _refuse_no_binary(self, name: str) -> None:
        if self.source_metadata is not None:
            return  # sources are built
        if name in self.policy.no_binary or "*" in self.policy.no_binary:
            raise NoMatchingDistribution(
                f"{name}: --no-binary asks for it to be built from source, and this command "
                "takes wheels only (roost install and roost wheel build sources). Drop "
                "--no-binary for it."
            )

    def _candidates(
        self, name: str, extras: frozenset[str], reqs: Sequence[Req]
    ) -> list[Candidate]:
        key = NormalizedName(name)
        self._refuse_no_binary(key)
        direct = next((r.direct for r in reqs if r.direct is not None), None)
        if direct is not None:
            if key in self.pinned_hashes:
                self.fetcher.pinned[direct.link.url] = self.pinned_hashes[key]
            return [Candidate(key, direct.version, extras, file=direct, direct=True)]
        constraint = self.policy.constraints.get(key, SpecifierSet())
        pre = self._allows_pre(name, reqs)
        pinned_exact = {
            Version(s.version)
            for r in reqs
            for s in r.specifier
            if s.operator == "==" and "*" not in s.version and valid_version(s.version)
        }

        def acceptable(version: Version) -> bool:
            if version.is_prerelease and not pre:
                return False
            if not self._contains(constraint, version, prereleases=None) and not self._contains(
                constraint, version
            ):
                return False
            return all(self._contains(r.specifier, version) for r in reqs)

        installed = self.installed.get(key)
        result: list[Candidate] = []
        installed_version = installed.parsed_version if installed is not None else None
        if installed_version is not None and acceptable(installed_version):
            result.append(Candidate(key, installed_version, extras, installed=installed))
        files = self._acceptable_files(key, extras, acceptable, pinned_exact)
        if not files and not result and self.finder.refresh(key):
            # The page came from the cache unasked; a release published since may fit.
            files = self._acceptable_files(key, extras, acceptable, pinned_exact)
        result += files
        # The finder lists best first; the installed copy goes first when it is kept,
        # and otherwise takes its version's place (an upgrade to the same version
        # reinstalls nothing).
        if result and result[0].installed is not None and not self._prefers_installed(key):
            kept = result.pop(0)
            if self.policy.force_reinstall:
                if not any(c.version == kept.version for c in result):
                    result.append(kept)
            else:
                same = [i for i, c in enumerate(result) if c.version == kept.version]
                if same:
                    result[same[0]] = kept
                else:
                    result.append(kept)
                    result.sort(key=lambda c: c.version, reverse=True)
        preferred = self.preferred.get(key)
        if preferred:
            # A kept pin goes first when the requirements still allow it; the rest keep
            # their order, so a pin they rule out falls back to the newest that fits.
            result.sort(key=lambda c: c.version not in preferred)
        return result

    def _acceptable_files(
        self,
        key: NormalizedName,
        extras: frozenset[str],
        acceptable: Callable[[Version], bool],
        pinned_exact: set[Version],
    ) -> list[Candidate]:
        """The finder's files of *key* that requirements accept, one per version: its
        best wheel, else (when sources can be built) its sdist, with pip's
        ``--no-binary``, ``--only-binary`` and ``--prefer-binary`` rules."""
        policy = self.policy
        wheels_ok = not (key in policy.no_binary or "*" in policy.no_binary)
        sources_ok = self.source_metadata is not None and not (
            key in policy.only_binary
            or ("*" in policy.only_binary and key not in policy.no_binary)
        )
        found: list[Candidate] = []
        seen: set[Version] = set()
        result = self.finder.find(key)
        excluded = self._excluded_by_plugins(key, result)
        for fc in result.candidates:
            if fc.version in seen or not (wheels_ok if fc.is_wheel else sources_ok):
                continue
            if fc.link.url in excluded:
                continue
            # PEP 592: a yanked file is used only when pinned to exactly its version.
            if fc.link.yanked is not None and fc.version not in pinned_exact:
                continue
            if not acceptable(fc.version):
                continue
            seen.add(fc.version)
            if key in self.pinned_hashes:
                self.fetcher.pinned[fc.link.url] = self.pinned_hashes[key]
            found.append(Candidate(key, fc.version, extras, file=fc))
        if policy.prefer_binary:
            # An older wheel beats a newer sdist; the sort keeps versions in order.
            found.sort(key=lambda c: c.file is not None and not c.file.is_wheel)
        return found

    def _excluded_by_plugins(self, key: NormalizedName, result: FindResult) -> frozenset[str]:
        """The URLs of the files of *key* the plugins' filter excludes.

        Asked once per lookup of a project (a page refreshed since is a new lookup),
        with every file the sources offer, before the resolver sees any of them.
        """
        if self.exclude is None or not result.candidates:
            return frozenset()
        known = self._excluded_urls.get(key)
        if known is not None and known[0] is result:
            return known[1]
        infos = [
            CandidateInfo(
                name=key,
                version=str(fc.version),
                filename=fc.link.filename,
                url=fc.link.url,
                is_wheel=fc.is_wheel,
                yanked=fc.link.yanked,
                link=fc.link,
            )
            for fc in result.candidates
        ]
        urls: set[str] = set()
        applied: list[Exclusion] = []
        for exclusion in self.exclude(key, infos):
            hits = {fc.link.url for fc in result.candidates if _excludes(exclusion, fc)}
            if hits:
                urls |= hits
                if exclusion not in applied:  # said once, even when returned twice
                    applied.append(exclusion)
        self.excluded[key] = applied
        self._excluded_urls[key] = (result, frozenset(urls))
        return self._excluded_urls[key][1]

    def _metadata_text(self, candidate: Candidate) -> str:
        if candidate.installed is not None:
            return candidate.installed.read_text("METADATA") or ""
        assert candidate.file is not None
        if not candidate.file.is_wheel and self.source_metadata is not None:
            return self.source_metadata(candidate.file)
        return self.fetcher.metadata(candidate.file.link).result()

    def _dependencies(self, candidate: Candidate) -> list[Req]:
        meta = header_fields(self._metadata_text(candidate))
        deps: list[Req] = []
        if candidate.extras:
            # An extras candidate depends on exactly its base candidate, then the extras.
            base = Candidate(
                candidate.name,
                candidate.version,
                file=candidate.file,
                installed=candidate.installed,
                direct=candidate.direct,
            )
            deps.append(
                Req(
                    candidate.name,
                    SpecifierSet(f"=={candidate.version}"),
                    parent=candidate,
                    direct=candidate.file if candidate.direct else None,
                    text=f"{candidate.name}=={candidate.version}",
                )
            )
            provided = {canonicalize_name(e) for e in meta.get("provides-extra", [])}
            for extra in sorted(candidate.extras - provided):
                self.warnings.append(f"{base} does not provide the extra '{extra}'")
        requires_python = first_field(meta, "requires-python")
        if (
            requires_python
            and candidate.installed is None
            and not self.policy.ignore_requires_python
        ):
            try:
                spec = SpecifierSet(requires_python)
            except InvalidSpecifier:
                spec = None
            if spec is not None:
                deps.append(
                    Req(
                        NormalizedName(PYTHON_KEY),
                        spec,
                        parent=candidate,
                        text=f"Python{spec}",
                    )
                )
        if self.policy.no_deps:
            return deps
        for value in meta.get("requires-dist", []):
            try:
                req = requirement(value)
            except Exception:
                shown = value if len(value) <= _SHOWN_LENGTH else value[:_SHOWN_LENGTH] + "..."
                self.warnings.append(f"{candidate} has an invalid requirement {shown!r}; ignored")
                continue
            if len(req.name) > MAX_NAME_LENGTH:
                # No index can have it, and asking for it would build a URL past every limit.
                raise NoMatchingDistribution(
                    f"{candidate} requires a project whose name is {len(req.name):,} characters "
                    f"long ({req.name[:_SHOWN_LENGTH]!r}...); a project name has at most "
                    f"{MAX_NAME_LENGTH}, so nothing can satisfy it"
                )
            if not self._marker_ok(req, candidate.extras):
                continue
            deps.append(from_requirement(req, parent=candidate))
        return deps

    def _marker_ok(self, req: Requirement, extras: frozenset[str]) -> bool:
        if req.marker is None:
            return True
        env = dict(self.target.markers)
        for extra in extras or {""}:
            env["extra"] = extra
            if req.marker.evaluate(env):
                return True
        return False

    def marker_ok_for_user(self, req: Requirement) -> bool:
        """Whether a top-level requirement's marker holds for the target."""
        return self._marker_ok(req, frozenset())


@contextlib.contextmanager
def preferring(versions: Mapping[NormalizedName, frozenset[Version]]) -> Iterator[None]:
    """Resolutions made inside pick *versions* first where the requirements allow."""
    token = PREFERRED_VERSIONS.set(versions)
    try:
        yield
    finally:
        PREFERRED_VERSIONS.reset(token)


def _excludes(exclusion: Exclusion, file: FileCandidate) -> bool:
    """Whether *exclusion* names *file*: its file name, and its version (compared as
    PEP 440 versions, so ``2.0`` names ``2.0.0`` too), where given."""
    if exclusion.filename is not None and exclusion.filename != file.link.filename:
        return False
    if exclusion.version is None:
        return True
    try:
        return Version(exclusion.version) == file.version
    except InvalidVersion:
        return exclusion.version == str(file.version)
