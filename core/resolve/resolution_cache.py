"""Reusing a resolution: the same inputs over the same index pages give the same answer.

A warm install of 97 distributions spent a quarter of its time resolving again what it
resolved last time from the very same cached pages. An entry,
``<cache>/resolutions/<key>.json``, keeps the answer with the HTTP cache entries the
resolution read (their keys and body hashes). It is used only when every page read is
still in the HTTP cache with the same body and still fresh by the index's own
``max-age``, that is, when resolving again would read exactly those bytes without
asking the index; PEP 658 files count when their body still matches (their hash is
on the page). The key covers everything else the answer depends on: the requirements
and constraints, the resolver's options, the target's version, markers and tags, what
is installed, the sources and the index strategy, and roost's version.

Nothing is kept or reused with ``--refresh`` or ``-U`` (they ask the index), in
hash-checking mode, for direct references, for sources other than plain
``http(s)`` indexes without credentials in their URLs, when a plugin other than the
built-in one answers index look-ups, when a plugin filters candidates
(``roost_filter_candidates``), or when the resolution read anything the HTTP cache did
not keep (a 404, a range request, a whole wheel for its metadata).

A filter's answer depends on what no key can cover (a policy file, a vulnerability
feed, today's date): putting the plugins' names in the key would reuse an answer the
policy no longer gives, and an answer made under a filter must not be reused once the
filter is gone. So with a filter, resolutions are neither reused nor kept.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from packaging.version import Version

from roost.net.http_cache import Page
from roost.types import IndexSource, Link, NormalizedName
from roost.util.cache import write_atomic
from roost.version import __version__

if TYPE_CHECKING:
    from roost.index.finder import FileCandidate, Finder
    from roost.net.client import Client
    from roost.net.http_cache import Entry as HttpCacheEntry
    from roost.net.http_cache import HttpCache
    from roost.resolve.candidates import Candidate, Policy
    from roost.resolve.plan import Resolution
    from roost.resolve.provider import CandidateFilter
    from roost.resolve.requirement_line import ParsedRequirement
    from roost.store.fetch import Fetcher
    from roost.target.installed import InstalledDist
    from roost.types import Target
    from roost.util.output import Output

_FORMAT = 1
#: The built-in look-up plugins: for an index, only ``simple_index`` answers, through
#: the HTTP cache, where what it read can be checked (``find_links`` answers only for
#: find-links sources, which are not reused).
_LOOKUP_PLUGINS = frozenset({"simple_index", "find_links"})


def resolution_key(
    requirements: Sequence[ParsedRequirement],
    *,
    target: Target,
    installed: Mapping[NormalizedName, InstalledDist],
    policy: Policy,
    sources: Sequence[IndexSource],
    strategy: str,
    lookup_plugins: Sequence[str],
) -> str | None:
    """The key of a resolution of these inputs, or None when it may not be reused."""
    if policy.upgrade or set(lookup_plugins) - _LOOKUP_PLUGINS or not sources:
        return None
    from roost.resolve.provider import PREFERRED_VERSIONS

    if PREFERRED_VERSIONS.get():
        return None  # a lock's kept pins change the answer, and no key covers them
    for source in sources:
        parts = urlsplit(source.url)
        if source.kind != "index" or parts.scheme not in ("http", "https") or "@" in parts.netloc:
            return None
    reqs = []
    for parsed in requirements:
        if parsed.url is not None or parsed.editable or parsed.hashes:
            return None
        reqs.append(
            [
                None if parsed.requirement is None else str(parsed.requirement),
                None if parsed.marker is None else str(parsed.marker),
                parsed.constraint,
            ]
        )
    material = {
        "format": _FORMAT,
        "roost": __version__,
        "python": [target.full_version, target.implementation],
        "markers": sorted(target.markers.items()),
        "tags": hashlib.sha256("\n".join(target.tags).encode()).hexdigest(),
        "requirements": reqs,
        "installed": sorted(
            [str(name), dist.version, str(dist.location)] for name, dist in installed.items()
        ),
        "policy": [
            policy.eager,
            policy.force_reinstall,
            policy.pre,
            policy.no_deps,
            policy.ignore_requires_python,
            sorted(policy.no_binary),
            sorted((str(k), str(v)) for k, v in policy.constraints.items()),
        ],
        "sources": [[s.kind, s.url] for s in sources],
        "strategy": strategy,
    }
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()


def entry_path(cache_root: Path, key: str) -> Path:
    return cache_root / "resolutions" / f"{key}.json"


@dataclass(frozen=True)
class Reused:
    """A stored resolution found valid, with the PEP 658 metadata its candidates had."""

    resolution: Resolution
    #: Metadata text by the URL of its ``.metadata`` file, each checked against the
    #: hash the page gives for it.
    metadata: dict[str, str]


def load(
    cache_root: Path,
    key: str,
    http_cache: HttpCache,
    installed: Mapping[NormalizedName, InstalledDist],
) -> Reused | None:
    """The resolution stored under *key*, if every page it read would be read again as
    it was; None otherwise (or when the entry is missing or damaged)."""
    try:
        data = json.loads(entry_path(cache_root, key).read_text(encoding="utf-8"))
        if data.get("format") != _FORMAT:
            return None
        now = time.time()
        hashed_entries: dict[str, HttpCacheEntry] = {}
        for page_key, sha256, hashed, url in data["pages"]:
            cached = http_cache.load(page_key)
            if cached is None or cached.sha256 != sha256:
                return None
            if not hashed and not cached.fresh(now):
                return None
            if hashed:
                hashed_entries[url] = cached
        resolution = _resolution(data, installed)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    metadata = {}
    for candidate in resolution.candidates:
        if candidate.file is None:
            continue
        link = candidate.file.link
        url = link.metadata_url
        entry = hashed_entries.get(url)
        expected = (link.metadata_hashes or {}).get("sha256")
        # The entry's hash, computed once when it was loaded above.
        if entry is None or expected is None or entry.sha256 != expected:
            return None
        metadata[url] = entry.body.decode("utf-8")
    return Reused(resolution, metadata)


def save(cache_root: Path, key: str, resolution: Resolution, pages: Sequence[Page]) -> None:
    """Keep *resolution* under *key*; a cache that cannot be written is left alone.

    Not kept when a candidate's file has no sha256 or no PEP 658 file on its page (what
    its metadata was could not be checked next time), nor when a URL it would record
    carries credentials (a page may list files with a login in their URLs): the cache
    never holds a readable login.
    """
    for candidate in resolution.candidates:
        if candidate.installed is not None:
            continue
        link = None if candidate.file is None else candidate.file.link
        if link is None or "sha256" not in link.hashes or not link.metadata_hashes:
            return
    urls = [p.url for p in pages] + [c.file.link.url for c in resolution.candidates if c.file]
    if any("@" in urlsplit(url).netloc for url in urls):
        return
    data = {
        "format": _FORMAT,
        "pages": sorted({(p.key, p.sha256, p.hashed, p.url) for p in pages}),
        "requested": sorted(resolution.requested),
        "warnings": list(resolution.warnings),
        "candidates": [_candidate_data(c) for c in resolution.candidates],
    }
    target = entry_path(cache_root, key)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, json.dumps(data).encode())
    except OSError:
        pass  # only saves time next run


def _candidate_data(candidate: Candidate) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": candidate.name,
        "version": str(candidate.version),
        "extras": sorted(candidate.extras),
        "installed": candidate.installed is not None,
    }
    if candidate.file is not None:
        link = candidate.file.link
        found["file"] = {
            "url": link.url,
            "filename": link.filename,
            "source": [link.source.url, link.source.kind, link.source.origin],
            "hashes": dict(link.hashes),
            "requires_python": link.requires_python,
            "yanked": link.yanked,
            "metadata_hashes": None
            if link.metadata_hashes is None
            else dict(link.metadata_hashes),
            "is_wheel": candidate.file.is_wheel,
            "tag_rank": candidate.file.tag_rank,
        }
    return found


def _resolution(
    data: Mapping[str, Any], installed: Mapping[NormalizedName, InstalledDist]
) -> Resolution:
    from roost.index.finder import FileCandidate
    from roost.resolve.candidates import Candidate
    from roost.resolve.plan import Resolution

    candidates = []
    for item in data["candidates"]:
        name = NormalizedName(item["name"])
        version = Version(item["version"])
        file = None
        if "file" in item:
            f = item["file"]
            url, kind, origin = f["source"]
            link = Link(
                url=f["url"],
                filename=f["filename"],
                source=IndexSource(url, kind, origin),
                hashes=dict(f["hashes"]),
                requires_python=f["requires_python"],
                yanked=f["yanked"],
                metadata_hashes=None
                if f["metadata_hashes"] is None
                else dict(f["metadata_hashes"]),
            )
            file = FileCandidate(link, name, version, bool(f["is_wheel"]), int(f["tag_rank"]))
        dist = installed.get(name) if item["installed"] else None
        if item["installed"] and dist is None:
            raise KeyError(name)  # the key covers what is installed: a damaged entry
        candidates.append(
            Candidate(name, version, frozenset(item["extras"]), file=file, installed=dist)
        )
    return Resolution(candidates, frozenset(data["requested"]), list(data["warnings"]))


def resolve_or_reuse(
    requirements: list[ParsedRequirement],
    *,
    client: Client,
    finder: Finder,
    fetcher: Fetcher,
    target: Target,
    installed: dict[NormalizedName, InstalledDist],
    policy: Policy,
    reuse: bool,
    lookup_plugins: list[str],
    root: Path | None,
    out: Output,
    pinned: Callable[[Candidate], None] | None = None,
    source_metadata: Callable[[FileCandidate], str] | None = None,
    exclude: CandidateFilter | None = None,
) -> Resolution:
    """Resolve, or reuse the previous resolution of the same inputs over the same fresh
    index pages (this module), and keep this one for next time. With a candidate
    filter (*exclude*), always resolve, and keep nothing (see the module's docstring)."""
    from roost.resolve.plan import resolve

    http_cache = client.http_cache
    key = None
    reuse = reuse and exclude is None
    if reuse and root is not None and http_cache is not None and not client.refresh:
        key = resolution_key(
            requirements,
            target=target,
            installed=installed,
            policy=policy,
            sources=finder.sources,
            strategy=finder.strategy,
            lookup_plugins=lookup_plugins,
        )
        reused = None if key is None else load(root, key, http_cache, installed)
        if reused is not None:
            out.detail("resolution: the previous one, reused (same inputs, same fresh pages)")
            for candidate in reused.resolution.candidates:
                if candidate.file is not None:
                    link = candidate.file.link
                    fetcher.remember_metadata(link, reused.metadata[link.metadata_url])
            return reused.resolution
    resolution = resolve(
        requirements,
        finder=finder,
        fetcher=fetcher,
        target=target,
        installed=installed,
        policy=policy,
        pinned=pinned,
        source_metadata=source_metadata,
        exclude=exclude,
    )
    # A resolution that read anything the HTTP cache did not keep, or that had to ask
    # the index again, cannot be checked next time; nor one whose metadata came from
    # building an sdist (no HTTP cache entry vouches for it).
    built = any(c.file is not None and not c.file.is_wheel for c in resolution.candidates)
    fresh = not client.unrecorded and not client.refresh
    if key is not None and root is not None and fresh and not built:
        save(root, key, resolution, list(client.pages))
    return resolution
