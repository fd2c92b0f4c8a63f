"""Find the files of a project: ask sources through ``roost_index_lookup``, keep the usable ones.

Strategies (the names uv uses for ``--index-strategy``):

* ``first-index`` (default): index sources are asked in order (each extra index as
  given, then the main one: ``index-url`` or pip's default) and the first one that
  knows the project is the only index used for it, so the general index cannot shadow
  a project of an index the user added (dependency confusion), and the index added for
  a few projects (PyTorch's) answers for them. find-links locations are always merged
  in, as pip and uv merge them.
* ``unsafe-best-match``: every source is asked and everything is merged.

Each file is checked against the target: wheel tags, ``Requires-Python``, a
parseable name and version. Rejections are kept with a reason, so "no matching
distribution" can say why.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from roost.errors import ConfigError, NoIndexConfigured, RoostError
from roost.types import (
    IndexSource,
    Link,
    NormalizedName,
    ProjectLinks,
    Target,
    filename_problem,
    redact_text,
)
from roost.util.settings import roost_config_path

if TYPE_CHECKING:
    from roost.manager import Manager
    from roost.net.client import Client

logger = logging.getLogger(__name__)

STRATEGIES = ("first-index", "unsafe-best-match")
#: Schemes of remote pages, and the only ones their links may have: a page from a
#: server must not point roost at the user's own files (file:), and javascript: or
#: data: links are no files at all.
REMOTE_SCHEMES = ("http", "https")
#: How much of a skipped link a ``-v`` note shows (a data: URL can be megabytes).
_NOTE_URL_LENGTH = 120
#: tag_rank of an sdist: after every wheel of the same version.
SDIST_RANK = 1 << 30
SDIST_SUFFIXES = (".tar.gz", ".zip")


def no_index_configured_message(no_pip: str | None = None) -> str:
    """The error shown when there is no index and no find-links location at all.

    *no_pip* says where a pip was looked for to take its default index from.
    """
    if no_pip is None:
        why = (
            "no package index is configured, and roost names none of its own (it uses "
            "the default of the pip in its own environment or the target's, when one "
            "is there)."
        )
    else:
        why = (
            "no package index is configured, and no pip was found to take pip's default "
            f"index from ({no_pip}); roost names no index of its own."
        )
    return (
        f"{why} Give one on the "
        "command line with --index-url URL (or -i URL), set ROOST_INDEX_URL=URL, or put "
        f"index-url = \"URL\" in roost's config file ({roost_config_path()}); pip's "
        "settings are read too, so PIP_INDEX_URL=URL or `pip config set global.index-url "
        "URL` also work. To install from a folder of wheels instead, use --find-links DIR."
    )


@dataclass(frozen=True)
class FileCandidate:
    """A file usable for the target."""

    link: Link
    name: NormalizedName
    version: Version
    is_wheel: bool
    #: Index in ``target.tags`` of the best matching tag (lower is better); large for sdists.
    tag_rank: int


@dataclass(frozen=True)
class FindResult:
    """Everything the sources offer for one project, sorted and explained."""

    project: NormalizedName
    #: Best first: version descending, wheels before sdists, then by tag rank.
    #: Yanked files are kept (``link.yanked`` set): the resolver decides.
    candidates: tuple[FileCandidate, ...]
    #: Every file skipped, with the reason.
    rejected: tuple[tuple[Link, str], ...]
    #: The sources that knew the project.
    sources: tuple[IndexSource, ...]


def _tag_text(filename: str) -> str:
    """The compressed tag triple of a wheel filename (``py2.py3-none-any``)."""
    return "-".join(filename[: -len(".whl")].split("-")[-3:])


class _Evaluator:
    """Checks links against one target; built once per finder."""

    def __init__(self, target: Target, *, ignore_requires_python: bool = False) -> None:
        self.target = target
        #: ``--ignore-requires-python``: files are taken whatever Python they ask for.
        self.ignore_requires_python = ignore_requires_python
        self.ranks: dict[str, int] = {}
        for rank, tag in enumerate(target.tags):
            self.ranks.setdefault(tag, rank)
        self.best_tag = target.tags[0] if target.tags else "the target"

    def evaluate(self, link: Link, project: NormalizedName) -> FileCandidate | str:
        """A candidate, or the reason *link* cannot be used."""
        filename = link.filename
        if filename.endswith(".whl"):
            try:
                wheel_name, version, _build, tags = parse_wheel_filename(filename)
            except ValueError as exc:
                return f"invalid wheel filename: {exc}"
            ranks = [self.ranks[str(tag)] for tag in tags if str(tag) in self.ranks]
            if not ranks:
                return f"no tag matches {self.best_tag}: has {_tag_text(filename)}"
            name, rank, is_wheel = NormalizedName(wheel_name), min(ranks), True
        elif filename.endswith(SDIST_SUFFIXES):
            try:
                raw_name, version = parse_sdist_filename(filename)
            except ValueError as exc:
                return f"invalid sdist filename: {exc}"
            name = NormalizedName(canonicalize_name(raw_name))
            rank, is_wheel = SDIST_RANK, False
        else:
            return "not a wheel or sdist"
        if name != project:
            return f"name does not match: the file is for {name!r}, not {project!r}"
        reason = (
            None if self.ignore_requires_python else self._python_mismatch(link.requires_python)
        )
        if reason:
            return reason
        return FileCandidate(link, project, version, is_wheel, rank)

    def _python_mismatch(self, requires_python: str | None) -> str | None:
        if not requires_python:
            return None
        try:
            specifier = SpecifierSet(requires_python)
        except InvalidSpecifier:
            return f"invalid Requires-Python {requires_python!r}"
        python = self.target.full_version
        if specifier.contains(python, prereleases=True):
            return None
        return f"requires Python {requires_python} but the target is {python}"


def link_refusal(link: Link) -> str | None:
    """Why *link* is not even considered, whatever the target: a scheme its page may
    not link, or a file name that cannot be written inside a folder; None if neither."""
    try:
        scheme = urlsplit(link.url).scheme.lower()
        page_scheme = urlsplit(link.source.url).scheme.lower()
    except ValueError:
        return "not a valid URL"
    # A local page (a file:// index or find-links page, a plugin's own source) may also
    # link local files, and a plugin's source links of its own scheme.
    allowed = set(REMOTE_SCHEMES)
    if page_scheme not in REMOTE_SCHEMES:
        allowed |= {"file", page_scheme} - {""}
    if scheme not in allowed:
        shown = ", ".join(f"{name}:" for name in sorted(allowed))
        return f"{scheme}: link on a {page_scheme}: page (roost follows only {shown} links there)"
    problem = filename_problem(link.filename)
    return None if problem is None else f"its file name {problem}"


def _note_skipped(link: Link, reason: str) -> None:
    url = redact_text(link.url)
    if len(url) > _NOTE_URL_LENGTH:
        url = url[:_NOTE_URL_LENGTH] + "..."
    logger.info("skipped the link %r on %s: %s", url, link.source.display, reason)


def _sort_key(candidate: FileCandidate) -> tuple[Version, bool, int]:
    return (candidate.version, candidate.is_wheel, -candidate.tag_rank)


class Finder:
    """Looks projects up in *sources* through the manager's ``roost_index_lookup``.

    Results are cached per project for the life of the finder; ``find`` is safe to
    call from several threads (the resolver prefetches).
    """

    def __init__(
        self,
        manager: Manager,
        client: Client,
        sources: Sequence[IndexSource],
        target: Target,
        *,
        strategy: str = "first-index",
        ignore_requires_python: bool = False,
    ) -> None:
        if strategy not in STRATEGIES:
            raise ConfigError(
                f"unknown index strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}"
            )
        self.manager = manager
        self.client = client
        self.sources = tuple(sources)
        self.target = target
        self.strategy = strategy
        self._evaluator = _Evaluator(target, ignore_requires_python=ignore_requires_python)
        self._results: dict[NormalizedName, FindResult] = {}
        self._failures: dict[NormalizedName, RoostError] = {}
        self._locks: dict[NormalizedName, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def find(self, project: str) -> FindResult:
        """Every file of *project* the sources offer, usable ones first and sorted."""
        name = NormalizedName(canonicalize_name(project))
        with self._locks_guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            failure = self._failures.get(name)
            if failure is not None:
                # One lookup per project per run, failed or not: a look-ahead that hit
                # an error must not make the resolver ask the index a second time.
                raise failure
            result = self._results.get(name)
            if result is None:
                try:
                    result = self._find(name)
                except RoostError as exc:
                    self._failures[name] = exc
                    raise
                self._results[name] = result
            return result

    def refresh(self, project: str) -> bool:
        """Forget *project*'s files and ask the index again, revalidating every page from
        now on, when some page was taken from the cache unasked (its max-age had not run
        out). True when that happened: a requirement the cached page could not meet may
        be met by a release published since. False when there is nothing to refresh.
        """
        if self.client.refresh or not self.client.served_unasked:
            return False
        self.client.refresh = True
        name = NormalizedName(canonicalize_name(project))
        with self._locks_guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            self._results.pop(name, None)
            self._failures.pop(name, None)
        return True

    def _lookup(self, name: NormalizedName, source: IndexSource) -> ProjectLinks:
        answer = self.manager.index_lookup(name, source, self.client)
        if answer is None:
            raise ConfigError(
                f"no plugin can read the {source.kind} source {source.display}"
                + (f" (from {source.origin})" if source.origin else "")
                + ": check the URL's scheme (http, https or file) or install the plugin "
                "that handles it"
            )
        return answer

    def _answers(self, name: NormalizedName) -> list[ProjectLinks]:
        if not self.sources:
            raise NoIndexConfigured(no_index_configured_message())
        indexes = [source for source in self.sources if source.kind == "index"]
        others = [source for source in self.sources if source.kind != "index"]
        answers: list[ProjectLinks] = []
        for source in indexes:
            answer = self._lookup(name, source)
            if answer.found:
                answers.append(answer)
                if self.strategy == "first-index":
                    break
        answers.extend(a for a in (self._lookup(name, s) for s in others) if a.found)
        return answers

    def _find(self, name: NormalizedName) -> FindResult:
        answers = self._answers(name)
        candidates: list[FileCandidate] = []
        rejected: list[tuple[Link, str]] = []
        seen: set[str] = set()
        for answer in answers:
            for link in answer.links:
                if link.url in seen:
                    continue
                seen.add(link.url)
                refusal = link_refusal(link)
                if refusal is not None:
                    _note_skipped(link, refusal)
                    rejected.append((link, refusal))
                    continue
                outcome = self._evaluator.evaluate(link, name)
                if isinstance(outcome, str):
                    rejected.append((link, outcome))
                else:
                    candidates.append(outcome)
        # Stable sort: equal files keep the order of the sources that listed them.
        candidates.sort(key=_sort_key, reverse=True)
        return FindResult(
            project=name,
            candidates=tuple(candidates),
            rejected=tuple(rejected),
            sources=tuple(answer.source for answer in answers),
        )


def refresh_names(values: Sequence[str]) -> frozenset[str]:
    """pip's ``--refresh-package`` values, read in order: names with commas,
    ``:all:`` (every project) and ``:none:`` (forget the names so far)."""
    names: set[str] = set()
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if item == ":all:":
                names = {":all:"}
            elif item == ":none:":
                names = set()
            elif item and ":all:" not in names:
                names.add(canonicalize_name(item))
    return frozenset(names)


def revalidate_pages(client: Client, values: Sequence[str]) -> None:
    """Make *client* ask the index again about the cached pages of the projects
    ``--refresh-package`` names (all of them for ``:all:``, as ``--refresh``)."""
    names = refresh_names(values)
    if ":all:" in names:
        client.refresh = True
        return
    cache = client.http_cache if names else None
    if cache is not None:
        cache.revalidate_projects = cache.revalidate_projects | names
