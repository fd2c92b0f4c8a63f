"""The fetch stage of an install: every wheel of a resolution fetched (or found in the
store) and turned into the install layer's plan items, in order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from roost.types import InstallEvent, NormalizedName, Scheme, Settings

if TYPE_CHECKING:
    from roost.install.prepare import PlanItem
    from roost.resolve.candidates import Candidate
    from roost.store.fetch import Fetcher
    from roost.store.unpacked import UnpackedStore, UnpackedWheel
    from roost.target.installed import InstalledDist
    from roost.types import Link


def unpacked_store(settings: Settings) -> UnpackedStore | None:
    """The store of unpacked wheels in the cache; None without a cache."""
    from roost.store.unpacked import UnpackedStore
    from roost.util.cache import cache_root

    root = cache_root(settings)
    return None if root is None else UnpackedStore(root / "unpacked")


def fetch_plan(
    todo: list[Candidate],
    installed: Mapping[NormalizedName, InstalledDist],
    scheme: Scheme,
    *,
    requested: frozenset[str],
    fetcher: Fetcher,
    event: Callable[[InstallEvent], None],
    store: UnpackedStore | None = None,
    ready: Callable[[PlanItem], None] | None = None,
    verify: Callable[[UnpackedWheel], None] | None = None,
    made: Mapping[str, UnpackedWheel] | None = None,
    direct_urls: Mapping[str, Mapping[str, object]] | None = None,
) -> list[PlanItem]:
    """Wait for every wheel (all downloads run at once, the pool bounds them), in order,
    handing each item to *ready* as soon as its wheel is here.

    A wheel whose sha256 the index gave and whose unpacked copy the store holds is not
    fetched: the store's copy was made from those very bytes. *verify*, when given,
    takes over checking those copies' files (see :meth:`UnpackedStore.find`); the
    copies this run *made* (by sha256) are taken as they are. *direct_urls* gives the
    ``direct_url.json`` of wheels built from a source, by the wheel's URL.
    """
    from roost.install.prepare import PlanItem

    unpacked = _stored(todo, fetcher, store, verify, made or {})
    futures = {
        candidate.name: fetcher.wheel(link_of(candidate))
        for candidate in todo
        if candidate.name not in unpacked
    }
    plan = []
    scheme_dirs = {Path(scheme.purelib), Path(scheme.platlib)}
    for number, candidate in enumerate(todo, 1):
        link = link_of(candidate)
        entry = unpacked.get(candidate.name)
        wheel, sha256 = None, None
        if entry is not None:
            sha256 = entry.root.name  # entries are named by the wheel's sha256
        else:
            wheel = futures[candidate.name].result()
            sha256 = fetcher.digests.get(wheel)
        # pip's "Downloading"/"Using cached" line first, then the bar moves, as in pip.
        # An entry this run made came from a file it fetched: that file's line is said.
        fetcher.announce(link, stored=entry is not None and sha256 not in (made or {}))
        event(InstallEvent("download", candidate.name, str(candidate.version), number, len(todo)))
        old = installed.get(candidate.name)
        # Only a copy in the scheme being written is replaced; a system copy seen from a
        # --user install stays where it is, as pip leaves it.
        replaces = old if old is not None and old.location in scheme_dirs else None
        plan.append(
            PlanItem(
                name=_dist_name(fetcher, candidate),
                version=candidate.version,
                filename=link.filename,
                wheel=wheel,
                sha256=sha256,
                entry=entry,
                replaces=replaces,
                requested=candidate.name in requested,
                direct_url=_direct_url(candidate, sha256, direct_urls or {})
                if candidate.direct
                else None,
                index_metadata=fetcher.resolver_metadata(link),
            )
        )
        if ready is not None:
            ready(plan[-1])
    return plan


def _stored(
    todo: list[Candidate],
    fetcher: Fetcher,
    store: UnpackedStore | None,
    verify: Callable[[UnpackedWheel], None] | None,
    made: Mapping[str, UnpackedWheel],
) -> dict[str, UnpackedWheel]:
    """The store entries of the wheels whose sha256 is known before fetching, by name.

    Wheels named directly (a path or URL) are always fetched: their direct_url.json
    records what the file was.
    """
    if store is None:
        return {}
    known = {
        candidate.name: digest
        for candidate in todo
        if not candidate.direct and (digest := fetcher.known_sha256(link_of(candidate)))
    }
    if not known:
        return {}
    # One thread: checking an entry is one lstat per file, and threads only fought over
    # the GIL (0.10 s for jupyter's 97 entries in one thread, 0.15 s in two).
    found = {
        name: made.get(digest) or store.find(digest, verify) for name, digest in known.items()
    }
    links = {candidate.name: link_of(candidate) for candidate in todo}
    for name, entry in found.items():
        if entry is not None:
            fetcher.check_stored_size(links[name], entry.root)
    return {name: entry for name, entry in found.items() if entry is not None}


def link_of(candidate: Candidate) -> Link:
    assert candidate.file is not None
    return candidate.file.link


def _dist_name(fetcher: Fetcher, candidate: Candidate) -> str:
    """The project name as its metadata spells it (headers go in a directory so named)."""
    from roost.util.core_metadata import header_fields

    names = header_fields(fetcher.metadata(link_of(candidate)).result()).get("name", [])
    return next((name for name in names if name), candidate.name)


def _direct_url(
    candidate: Candidate, digest: str | None, built: Mapping[str, Mapping[str, object]]
) -> dict[str, object]:
    source = built.get(link_of(candidate).url)
    if source is not None:
        return dict(source)
    from roost.net.urls import split_credentials

    assert digest is not None, "a fetched wheel's sha256 is always known"
    url, _ = split_credentials(link_of(candidate).url)
    return {"url": url, "archive_info": {"hash": f"sha256={digest}", "hashes": {"sha256": digest}}}
