"""The files a lock names, each with its size and hashes.

PEP 751 wants a size and a hash for every wheel, sdist and archive. The index gives
them on its JSON pages (PEP 700 ``size``, the ``sha256``); what it does not give is
measured on the file itself, fetched (and verified against any hash the page did give)
by the run's fetcher, which fetches each URL once and within its own bounds.
"""

from __future__ import annotations

import hashlib
import os
import urllib.parse
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from packaging.version import InvalidVersion, Version

from roost.lock.document import LockedDirectory, LockedFile, LockedPackage, LockedVcs
from roost.policy_types import CandidateInfo
from roost.types import IndexSource, Link, file_url_path

if TYPE_CHECKING:
    from roost.index.finder import FileCandidate, Finder, FindResult
    from roost.policy_types import Exclusion
    from roost.resolve.candidates import Candidate
    from roost.resolve.provider import CandidateFilter
    from roost.store.fetch import Fetcher
    from roost.types import NormalizedName

K = TypeVar("K")

#: The hash names a lock keeps: those every Python's hashlib has.
_HASHES = frozenset(hashlib.algorithms_guaranteed)


@dataclass(frozen=True)
class FileRules:
    """Which files of a locked version the lock may name: those the resolver could have
    taken. A wheel a policy excludes, or one ``--no-binary`` forbids, must not reach an
    environment through the lock either, since an installer takes any file it lists."""

    #: The candidate filter of the run (the options' own and the plugins').
    exclude: CandidateFilter | None = None
    #: ``--no-binary`` and ``--only-binary`` (project names, ``*`` for all).
    no_binary: frozenset[str] = frozenset()
    only_binary: frozenset[str] = frozenset()
    #: In hash-checking mode, per project, the ``--hash`` values the user gave: only a
    #: file one of them vouches for is named.
    hashes: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None

    def formats(self, project: str) -> tuple[bool, bool]:
        """Whether wheels, and whether sdists, of *project* may be named (the resolver's
        reading of the two options)."""
        wheels = not (project in self.no_binary or "*" in self.no_binary)
        sdists = not (
            project in self.only_binary
            or ("*" in self.only_binary and project not in self.no_binary)
        )
        return wheels, sdists

    def excluded(self, project: NormalizedName, found: FindResult) -> set[str]:
        """The URLs of *found*'s files the candidate filter takes away (asked with every
        file, as the resolver asks it)."""
        if self.exclude is None or not found.candidates:
            return set()
        infos = [
            CandidateInfo(
                name=project,
                version=str(fc.version),
                filename=fc.link.filename,
                url=fc.link.url,
                is_wheel=fc.is_wheel,
                yanked=fc.link.yanked,
                link=fc.link,
            )
            for fc in found.candidates
        ]
        urls: set[str] = set()
        for exclusion in self.exclude(project, infos):
            urls.update(fc.link.url for fc in found.candidates if _names(exclusion, fc))
        return urls

    def vouched(self, project: str, file: LockedFile) -> bool:
        """Hash-checking mode: whether a ``--hash`` of *project* matches *file*."""
        if self.hashes is None:
            return True
        given = self.hashes.get(project, {})
        return any(
            file.hashes.get(name, "").lower() in {v.lower() for v in values}
            for name, values in given.items()
        )


def _names(exclusion: Exclusion, file: FileCandidate) -> bool:
    """Whether *exclusion* takes *file* away: its file name and its version (as PEP 440
    versions compare), where given (the rule the resolver applies)."""
    if exclusion.filename is not None and exclusion.filename != file.link.filename:
        return False
    if exclusion.version is None:
        return True
    try:
        return Version(exclusion.version) == file.version
    except InvalidVersion:
        return exclusion.version == str(file.version)


def file_entries(
    packages: Mapping[K, tuple[Candidate, Sequence[Finder]]],
    fetcher: Fetcher,
    rules: FileRules | None = None,
) -> dict[K, tuple[tuple[LockedFile, ...], LockedFile | None]]:
    """For each index package: the wheels of its version that fit any of the
    environments (one finder each) it is locked for, and its sdist if there is one;
    only files *rules* let the resolver take (the chosen file always is one)."""
    rules = rules or FileRules()
    chosen: dict[K, tuple[list[Link], Link | None]] = {}
    for key, (candidate, finders) in packages.items():
        wheels_ok, sdists_ok = rules.formats(candidate.name)
        by_url: dict[str, Link] = {}
        source: Link | None = None
        for finder in finders:
            found = finder.find(candidate.name)
            excluded = rules.excluded(candidate.name, found)
            for fc in found.candidates:
                if fc.version != candidate.version or fc.link.url in excluded:
                    continue
                if fc.is_wheel and wheels_ok:
                    by_url.setdefault(fc.link.url, fc.link)
                elif not fc.is_wheel and sdists_ok and source is None:
                    source = fc.link
        if candidate.file is not None and candidate.file.is_wheel:
            by_url.setdefault(candidate.file.link.url, candidate.file.link)
        chosen[key] = (list(by_url.values()), source)
    # Every file whose page did not give both a size and a sha256 is fetched, all at
    # once (the fetcher bounds how many run together); in hash-checking mode, also every
    # file whose page gives none of the algorithms the user's --hash values use.
    pending: dict[str, Future[Path]] = {}
    for key, (wheels, sdist) in chosen.items():
        wanted = _algorithms(rules, packages[key][0].name)
        for link in [*wheels, *([sdist] if sdist is not None else [])]:
            known = {name.lower() for name, value in link.hashes.items() if value}
            if link.size is None or "sha256" not in known or (wanted and not wanted & known):
                pending.setdefault(link.url, fetcher.wheel(link))
    entries: dict[K, tuple[tuple[LockedFile, ...], LockedFile | None]] = {}
    for key, (wheels, sdist) in chosen.items():
        project = packages[key][0].name
        wanted = _algorithms(rules, project)
        locked = [_entry(link, pending, fetcher, wanted) for link in wheels]
        locked_sdist = None if sdist is None else _entry(sdist, pending, fetcher, wanted)
        locked = [file for file in locked if rules.vouched(project, file)]
        if locked_sdist is not None and not rules.vouched(project, locked_sdist):
            locked_sdist = None
        entries[key] = (tuple(locked), locked_sdist)
    return entries


def _algorithms(rules: FileRules, project: str) -> set[str]:
    if rules.hashes is None:
        return set()
    return set(rules.hashes.get(project, {}))


def _entry(
    link: Link,
    pending: Mapping[str, Future[Path]],
    fetcher: Fetcher,
    wanted: Collection[str] = (),
) -> LockedFile:
    hashes = {name.lower(): value.lower() for name, value in link.hashes.items()}
    hashes = {name: value for name, value in hashes.items() if name in _HASHES}
    size = link.size
    future = pending.get(link.url)
    if future is not None:
        path = future.result()
        size = path.stat().st_size
        hashes["sha256"] = fetcher.digests[path]
        missing = tuple(sorted(name for name in wanted if name not in hashes))
        if missing:
            from roost.net.hashing import file_hashes

            hashes.update(file_hashes(path, missing))
    assert size is not None
    return LockedFile(
        size=size,
        hashes=hashes,
        url=public_url(link.url),
        name=link.filename,
        upload_time=link.uploaded,
    )


def source_package(
    candidate: Candidate,
    direct_urls: Mapping[str, Mapping[str, object]],
    fetcher: Fetcher,
    lock_dir: Path,
) -> LockedPackage:
    """The package of a requirement that named its source: a directory, a VCS
    commit, an archive, or a wheel by URL or path (an archive too, for PEP 751)."""
    assert candidate.file is not None
    link = candidate.file.link
    name, version = str(candidate.name), str(candidate.version)
    info = direct_urls.get(link.url)
    if info is None:
        return LockedPackage(name, version, archive=_archive(link, fetcher, lock_dir))
    url = str(info.get("url", ""))
    subdirectory = info.get("subdirectory")
    subdirectory = subdirectory if isinstance(subdirectory, str) else None
    dir_info = info.get("dir_info")
    if isinstance(dir_info, Mapping):
        path = relative_path(file_url_path(url), lock_dir)
        directory = LockedDirectory(path, bool(dir_info.get("editable")), subdirectory)
        # A source tree's version may change under the lock: PEP 751 leaves it out.
        return LockedPackage(name, None, directory=directory)
    vcs_info = info.get("vcs_info")
    if isinstance(vcs_info, Mapping):
        requested = vcs_info.get("requested_revision")
        vcs = LockedVcs(
            type=str(vcs_info.get("vcs")),
            commit_id=str(vcs_info.get("commit_id")),
            url=public_url(url),
            requested_revision=requested if isinstance(requested, str) else None,
            subdirectory=subdirectory,
        )
        return LockedPackage(name, version, vcs=vcs)
    archive_info = info.get("archive_info")
    hashes: dict[str, str] = {}
    if isinstance(archive_info, Mapping):
        given = archive_info.get("hashes")
        if isinstance(given, Mapping):
            hashes = {str(k): str(v) for k, v in given.items()}
    base = url.partition("#")[0]
    filename = urllib.parse.unquote(urllib.parse.urlsplit(base).path.rsplit("/", 1)[-1])
    archive_link = Link(base, filename, IndexSource(base, "direct"), hashes)
    return LockedPackage(
        name,
        version,
        archive=_archive(archive_link, fetcher, lock_dir),
        archive_subdirectory=subdirectory,
    )


def _archive(link: Link, fetcher: Fetcher, lock_dir: Path) -> LockedFile:
    """An archive named by URL or path, measured and hashed (it was fetched to be built
    or resolved, so the fetcher has it already)."""
    path = fetcher.wheel(link).result()
    hashes = {k: v for k, v in link.hashes.items() if k in _HASHES}
    hashes["sha256"] = fetcher.digests[path]
    size = path.stat().st_size
    if urllib.parse.urlsplit(link.url).scheme == "file":
        where = relative_path(file_url_path(link.url), lock_dir)
        return LockedFile(size=size, hashes=hashes, path=where)
    return LockedFile(size=size, hashes=hashes, url=public_url(link.url))


def relative_path(path: str, lock_dir: Path) -> str:
    """*path* relative to the lock's folder, with ``/`` (absolute on another drive)."""
    try:
        relative = os.path.relpath(path, lock_dir)
    except ValueError:
        return Path(path).as_posix()
    return Path(relative).as_posix()


def public_url(url: str) -> str:
    """*url* without credentials: a lock is shared, and installing it finds them as any
    run does (keyring, netrc, the index's configured URL)."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=host))
