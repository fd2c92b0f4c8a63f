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
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from roost.lock.document import LockedDirectory, LockedFile, LockedPackage, LockedVcs
from roost.types import IndexSource, Link, file_url_path

if TYPE_CHECKING:
    from roost.index.finder import Finder
    from roost.resolve.candidates import Candidate
    from roost.store.fetch import Fetcher

K = TypeVar("K")

#: The hash names a lock keeps: those every Python's hashlib has.
_HASHES = frozenset(hashlib.algorithms_guaranteed)


def file_entries(
    packages: Mapping[K, tuple[Candidate, Sequence[Finder]]], fetcher: Fetcher
) -> dict[K, tuple[tuple[LockedFile, ...], LockedFile | None]]:
    """For each index package: the wheels of its version that fit any of the
    environments (one finder each) it is locked for, and its sdist if there is one."""
    chosen: dict[K, tuple[list[Link], Link | None]] = {}
    for key, (candidate, finders) in packages.items():
        by_url: dict[str, Link] = {}
        source: Link | None = None
        for finder in finders:
            for found in finder.find(candidate.name).candidates:
                if found.version != candidate.version:
                    continue
                if found.is_wheel:
                    by_url.setdefault(found.link.url, found.link)
                elif source is None:
                    source = found.link
        if candidate.file is not None and candidate.file.is_wheel:
            by_url.setdefault(candidate.file.link.url, candidate.file.link)
        chosen[key] = (list(by_url.values()), source)
    # Every file whose page did not give both a size and a sha256 is fetched, all at
    # once (the fetcher bounds how many run together).
    pending: dict[str, Future[Path]] = {}
    for wheels, sdist in chosen.values():
        for link in [*wheels, *([sdist] if sdist is not None else [])]:
            if link.size is None or not link.hashes.get("sha256"):
                pending.setdefault(link.url, fetcher.wheel(link))
    entries: dict[K, tuple[tuple[LockedFile, ...], LockedFile | None]] = {}
    for key, (wheels, sdist) in chosen.items():
        locked = tuple(_entry(link, pending, fetcher) for link in wheels)
        entries[key] = (locked, None if sdist is None else _entry(sdist, pending, fetcher))
    return entries


def _entry(link: Link, pending: Mapping[str, Future[Path]], fetcher: Fetcher) -> LockedFile:
    hashes = {name.lower(): value.lower() for name, value in link.hashes.items()}
    hashes = {name: value for name, value in hashes.items() if name in _HASHES}
    size = link.size
    future = pending.get(link.url)
    if future is not None:
        path = future.result()
        size = path.stat().st_size
        hashes["sha256"] = fetcher.digests[path]
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
