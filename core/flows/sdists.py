"""Source distributions from indexes: their metadata for the resolver, their wheels for the plan.

An sdist is a candidate when no wheel of its version fits (or ``--no-binary`` says
so). Its metadata comes, cheapest first, from a PKG-INFO the sdist vouches for
(Metadata-Version 2.2 or later, none of the fields the resolver reads marked
``Dynamic``, PEP 643), then from ``roost_prepare_metadata``, and only then from
building the wheel. A wheel is built only for sdists the resolution keeps, once.

Build environments consider sdists too, so a build can nest inside another (an
sdist-only build dependency). The chain of sdists being built is bounded in depth, and
a project needed, however indirectly, to build itself is a cycle only a wheel breaks.
"""

from __future__ import annotations

import contextlib
import email.parser
import tempfile
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from roost.errors import BuildError
from roost.types import Link

if TYPE_CHECKING:
    from collections.abc import Callable

    from roost.build.builder import Builder
    from roost.build.sources import SourceTree
    from roost.index.finder import FileCandidate
    from roost.resolve.plan import Resolution
    from roost.store.fetch import Fetcher

#: Fields the resolver reads: PKG-INFO is trusted only when none of them is Dynamic.
_RESOLVER_FIELDS = frozenset({"requires-dist", "requires-python", "provides-extra"})
#: How deep builds may nest (an sdist built to build an sdist ...). Real chains are
#: one or two long; this stops a runaway, not a project.
MAX_BUILD_DEPTH = 8
#: The sdists whose builds this thread is inside, outermost first. A nested build's
#: environment is filled through the build hooks, which a plugin answers and which
#: carry no roost state, so the chain travels with the thread: a build runs, hooks
#: and nested installs included, in the thread that asked for it.
_BUILDING: ContextVar[tuple[str, ...]] = ContextVar("roost_building", default=())


@contextlib.contextmanager
def _building(project: str, filename: str) -> Iterator[None]:
    """Mark *project* as being built by this thread; refuse a cycle or a runaway depth."""
    chain = _BUILDING.get()
    if project in chain:
        path = " -> ".join((*chain[chain.index(project) :], project))
        raise BuildError(
            f"cannot build {filename}: building {project} needs {project} itself "
            f"({path}). A cycle of build dependencies can only be broken by a wheel: "
            f"make a wheel of one of them available (an index or --find-links), and do "
            f"not exclude it with --no-binary."
        )
    if len(chain) >= MAX_BUILD_DEPTH:
        raise BuildError(
            f"cannot build {filename}: builds nest {len(chain) + 1} deep "
            f"({' -> '.join((*chain, project))}); the limit is {MAX_BUILD_DEPTH}"
        )
    token = _BUILDING.set((*chain, project))
    try:
        yield
    finally:
        _BUILDING.reset(token)


def static_metadata(tree: SourceTree) -> str | None:
    """The sdist's PKG-INFO when PEP 643 lets it stand for the built wheel's metadata."""
    path = tree.path / "PKG-INFO"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields = email.parser.Parser().parsestr(text, headersonly=True)
    try:
        if Version(fields.get("Metadata-Version", "0")) < Version("2.2"):
            return None
    except InvalidVersion:
        return None
    dynamic = {value.strip().lower() for value in fields.get_all("Dynamic") or []}
    return None if dynamic & _RESOLVER_FIELDS else text


class SourceDistributions:
    """The sdists one install considers: unpacked once, prepared once, built once."""

    def __init__(self, builder: Callable[[], Builder], fetcher: Fetcher, scratch: Path) -> None:
        # Asked for only when an sdist is considered: most installs build nothing.
        self._builder = builder
        self._fetcher = fetcher
        self._scratch = scratch
        self._lock = threading.Lock()
        self._trees: dict[str, tuple[SourceTree, Path]] = {}
        self._wheels: dict[str, Path] = {}

    def _tree(self, file: FileCandidate) -> tuple[SourceTree, Path]:
        known = self._trees.get(file.link.url)
        if known is not None:
            return known
        from roost.build.sources import unpack_archive

        archive = self._fetcher.wheel(file.link).result()
        sha256 = self._fetcher.digests[archive]
        self._scratch.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="sdist-", dir=self._scratch))
        tree = unpack_archive(archive, folder / "unpacked", file.link.url, sha256)
        self._trees[file.link.url] = (tree, folder)
        return tree, folder

    def metadata(self, file: FileCandidate) -> str:
        """The core metadata of the sdist *file* (for the resolver).

        A wheel built before from the sdist of the sha256 the index gives answers first:
        a warm install neither fetches nor unpacks the sdist, nor asks its backend.
        """
        with self._lock:
            before = self._built_before(file)
            if before is not None:
                from roost.store.fetch import metadata_from_wheel

                known = metadata_from_wheel(before)
                self._check(file, known)
                return known
            tree, folder = self._tree(file)
            text = static_metadata(tree)
            if text is None:
                with _building(str(file.name), file.link.filename):
                    text = self._builder().prepare_metadata(tree, folder)
            if text is None:
                wheel = self._build(file)
                from roost.store.fetch import metadata_from_wheel

                text = metadata_from_wheel(wheel)
        self._check(file, text)
        return text

    def _check(self, file: FileCandidate, text: str) -> None:
        fields = email.parser.Parser().parsestr(text, headersonly=True)
        name, version = fields.get("Name", ""), fields.get("Version", "")
        try:
            same = canonicalize_name(name) == str(file.name) and Version(version) == file.version
        except InvalidVersion:
            same = False
        if not same:
            raise BuildError(
                f"{file.link.filename} holds {name} {version}, not the {file.name} "
                f"{file.version} its name says; the index serves an inconsistent sdist."
            )

    def built_before(self, file: FileCandidate) -> Path | None:
        """The wheel the built-wheel cache holds for the sdist *file* (keyed by the sha256
        its link gives, so a lock's hash must match the sdist it was built from), taken
        for the plan from then on; None when it was not built before. Neither fetches
        nor builds anything."""
        with self._lock:
            return self._built_before(file)

    def _built_before(self, file: FileCandidate) -> Path | None:
        """The built-wheel cache's wheel of *file*, by the sha256 its index gave."""
        known = self._wheels.get(file.link.url)
        if known is not None:
            return known
        sha256 = file.link.hashes.get("sha256", "").lower()
        if not sha256:
            return None
        source = {"url": file.link.url, "archive_info": {"hashes": {"sha256": sha256}}}
        hit = self._builder().cached(source, "wheel", {})
        if hit is None:
            return None
        self._wheels[file.link.url] = hit.wheel
        return hit.wheel

    def _build(self, file: FileCandidate) -> Path:
        known = self._wheels.get(file.link.url)
        if known is not None:
            return known
        tree, folder = self._tree(file)
        # An sdist is an archive: its wheel is kept by the sdist's sha256.
        with _building(str(file.name), file.link.filename):
            wheel = (
                self._builder()
                .build_source(tree, folder, kind="wheel", config={}, cacheable=True)
                .wheel
            )
        name, version, _, _ = parse_wheel_filename(wheel.name)
        if str(name) != str(file.name) or version != file.version:
            raise BuildError(
                f"building {file.link.filename} gave {wheel.name}, not {file.name} {file.version}"
            )
        self._wheels[file.link.url] = wheel
        return wheel

    def built(self, resolution: Resolution) -> Resolution:
        """*resolution* with each sdist it keeps replaced by the wheel built from it."""
        if not any(c.file is not None and not c.file.is_wheel for c in resolution.candidates):
            return resolution
        candidates = []
        for candidate in resolution.candidates:
            file = candidate.file
            if file is None or file.is_wheel or candidate.installed is not None:
                candidates.append(candidate)
                continue
            with self._lock:
                wheel = self._build(file)
            link = Link(wheel.resolve().as_uri(), wheel.name, file.link.source)
            built = replace(file, link=link, is_wheel=True, tag_rank=0)
            candidates.append(replace(candidate, file=built))
        return replace(resolution, candidates=candidates)
