"""A revalidating cache of small HTTP responses (index pages, PEP 658 metadata files).

Entries live in ``<cache root>/http/<sha256[:2]>/<sha256[2:]>``; the name hashes the
method, the URL (credentials included, so two logins never share an entry and none
can be read back), the request headers the caller chose (``Accept``: PEP 691
negotiation makes one URL answer JSON or HTML) and the credentials sent. A file is
one JSON line (final URL, status, the headers worth keeping, the body's sha256) and
the body; a file that does not parse or whose body does not match its hash is a
miss, and the next answer replaces it. Writes go through a temporary file and
``os.replace`` so concurrent runs never read half an entry.

An entry is used without asking the server while it is fresh by the server's own
``Cache-Control: max-age`` (or ``Expires``), minus any ``Age`` it already had, as uv
does and as HTTP caches do; after that, or always with ``--refresh`` (and for the
pages of the projects ``--refresh-package`` names), it is revalidated
with a conditional request (``If-None-Match`` / ``If-Modified-Since``) that a 304
answers in one small round trip. ``no-cache`` answers are always revalidated;
``no-store`` (or ``Vary: *``) answers are not kept. A body whose hash the caller
already knows (a PEP 658 file) is used without asking whatever its age.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from roost.util.cache import write_atomic

if TYPE_CHECKING:
    import httpx

#: Headers an entry keeps: what parsers and revalidation read. Content-Encoding and
#: Content-Length are left out because the body is stored decoded.
KEPT_HEADERS = (
    "content-type",
    "etag",
    "last-modified",
    "cache-control",
    "date",
    "expires",
    "age",
    "vary",
)
#: Bodies larger than this are not worth a cache entry.
MAX_BODY = 64 * 1024 * 1024
_FORMAT = 1


def cache_directives(value: str) -> dict[str, str]:
    """``Cache-Control`` as lower-cased directive names and their (unquoted) values."""
    found: dict[str, str] = {}
    for part in value.split(","):
        name, _, arg = part.strip().partition("=")
        if name:
            found[name.strip().lower()] = arg.strip().strip('"')
    return found


@dataclass(frozen=True)
class Entry:
    """One stored answer."""

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    stored: float
    #: Asked again whatever its age: a page of a project ``--refresh-package`` names.
    revalidate: bool = False

    @functools.cached_property
    def sha256(self) -> str:
        """The body's sha256 (hex): checked on load, recorded by the resolution cache."""
        return hashlib.sha256(self.body).hexdigest()

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def fresh(self, now: float) -> bool:
        """Whether the server's caching headers let this entry be used unasked at *now*."""
        if self.revalidate:
            return False
        directives = cache_directives(self.header("cache-control") or "")
        if "no-cache" in directives or "no-store" in directives:
            return False
        lifetime = _lifetime(directives, self.header("expires"), self.header("date"))
        elapsed = now - self.stored
        if lifetime is None or elapsed < 0:  # no lifetime given, or the clock went back
            return False
        try:
            age = max(0, int(self.header("age") or 0))
        except ValueError:
            age = 0
        return age + elapsed < lifetime

    def validators(self) -> dict[str, str]:
        """The conditional headers that ask the server whether this entry still holds."""
        found = {}
        etag = self.header("etag")
        if etag:
            found["If-None-Match"] = etag
        modified = self.header("last-modified")
        if modified:
            found["If-Modified-Since"] = modified
        return found

    def response(self) -> httpx.Response:
        """The entry as a read ``httpx.Response`` whose URL is the stored (final) one."""
        import httpx

        return httpx.Response(
            self.status,
            headers=list(self.headers),
            content=self.body,
            request=httpx.Request("GET", self.url),
        )


def _lifetime(
    directives: Mapping[str, str], expires: str | None, date: str | None
) -> float | None:
    """Seconds an answer stays fresh: ``max-age``, else ``Expires`` minus ``Date``."""
    if "max-age" in directives:
        try:
            return max(0, int(directives["max-age"]))
        except ValueError:
            return None  # a malformed max-age makes the answer stale (RFC 9111)
    if expires and date:
        from email.utils import parsedate_to_datetime

        try:
            return (parsedate_to_datetime(expires) - parsedate_to_datetime(date)).total_seconds()
        except (TypeError, ValueError):
            return None
    return None


def storable(response: httpx.Response) -> bool:
    """Whether *response* may be kept: a 200 without ``no-store`` or ``Vary: *``."""
    if response.status_code != 200 or len(response.content) > MAX_BODY:
        return False
    directives = cache_directives(response.headers.get("cache-control", ""))
    vary = {v.strip() for v in response.headers.get("vary", "").split(",")}
    # A per-user cache may keep ``private`` answers; ``no-store`` forbids any keeping.
    return "no-store" not in directives and "*" not in vary


def page_project(url: str) -> str | None:
    """The canonical project name an index page's URL ends in (``.../simple/Foo/``, or
    a static host's ``.../simple/Foo/index.html``, gives ``foo``), or None for a URL
    that cannot be one (one with a query)."""
    from urllib.parse import urlsplit

    from packaging.utils import canonicalize_name

    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.query:
        return None
    folder, _, segment = parts.path.rstrip("/").rpartition("/")
    if segment in {"index.html", "index.json"}:
        segment = folder.rpartition("/")[2]
    return canonicalize_name(segment) if segment else None


class HttpCache:
    """Responses under *root*/http, keyed by request."""

    def __init__(self, root: Path) -> None:
        self.root = root / "http"
        self._read_only = False
        #: Canonical project names whose index pages are never fresh (pip's
        #: ``--refresh-package``): a page is one whose URL's last path segment is
        #: the project's name, as the simple API (PEP 503) lays pages out.
        self.revalidate_projects: frozenset[str] = frozenset()

    def key(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        credentials: tuple[str, str] | None = None,
    ) -> str:
        """The entry name of a request: a sha256, so nothing in it can be read back."""
        material = {
            "method": method.upper(),
            "url": url,
            "headers": sorted((k.lower(), v) for k, v in headers.items()),
            "credentials": list(credentials) if credentials else None,
        }
        return hashlib.sha256(json.dumps(material).encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key[2:]

    def load(self, key: str) -> Entry | None:
        """The entry stored under *key*, or None when missing or damaged."""
        try:
            raw = self.path(key).read_bytes()
        except OSError:
            return None
        head, newline, body = raw.partition(b"\n")
        try:
            meta = json.loads(head)
            if not newline or meta.get("format") != _FORMAT:
                return None
            entry = Entry(
                url=str(meta["url"]),
                status=int(meta["status"]),
                headers=tuple((str(k), str(v)) for k, v in meta["headers"]),
                body=body,
                stored=float(meta["stored"]),
            )
            if entry.sha256 != meta["sha256"]:
                return None
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if self.revalidate_projects and page_project(entry.url) in self.revalidate_projects:
            return replace(entry, revalidate=True)
        return entry

    def store(self, key: str, response: httpx.Response) -> Entry | None:
        """Keep *response* (already read) under *key* if it may be kept."""
        if not storable(response):
            return None
        entry = Entry(
            url=str(response.url),
            status=response.status_code,
            headers=tuple(
                (name, response.headers[name]) for name in KEPT_HEADERS if name in response.headers
            ),
            body=response.content,
            stored=time.time(),
        )
        self.write(key, entry)
        return entry

    def touch(self, key: str, entry: Entry, response: httpx.Response) -> Entry:
        """Record a 304 for *entry*: new validators and ``Cache-Control`` win, body stays."""
        headers = dict(entry.headers)
        for name in ("etag", "last-modified", "cache-control", "date", "expires"):
            if name in response.headers:
                headers[name] = response.headers[name]
        renewed = Entry(entry.url, entry.status, tuple(headers.items()), entry.body, time.time())
        self.write(key, renewed)
        return renewed

    def write(self, key: str, entry: Entry) -> None:
        """Write *entry* atomically; a cache that cannot be written is left alone."""
        if self._read_only:
            return
        meta = {
            "format": _FORMAT,
            "url": entry.url,
            "status": entry.status,
            "headers": [list(pair) for pair in entry.headers],
            "stored": entry.stored,
            "sha256": entry.sha256,
        }
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, json.dumps(meta).encode() + b"\n" + entry.body)
        except OSError:
            # Caching is an optimisation: a read-only or full disk must not fail a run.
            self._read_only = True


@dataclass(frozen=True)
class Page:
    """One HTTP cache entry a resolution read."""

    key: str
    sha256: str
    #: True for a body checked by a hash the page gave (a PEP 658 file): valid while
    #: the body matches, whatever its age.
    hashed: bool
    #: What was asked for (without credentials: those are part of *key*).
    url: str
