"""Get metadata and wheel files for links.

Metadata comes from the PEP 658 ``.metadata`` file first, then from range requests
into the remote wheel (:mod:`roost.net.lazy_wheel`), then from the whole wheel. Metadata
read by ranges is not covered by any hash, so it is compared with the METADATA of the
verified wheel when that is fetched: a server that answered inconsistently is caught
before anything is installed.

Every remote file lands in the run's download directory, verified against the
hashes the index gave (and any ``--hash`` the user pinned) before anyone reads it.
With a :class:`~roost.store.wheel_cache.WheelCache`, a wheel downloaded once is taken from
the cache afterwards, hashed again on every use. Then the run's download check (the
plugins' ``roost_check_download``, handed in by the flow) sees it, wherever it came
from, before the file is handed to anyone.
"""

from __future__ import annotations

import sys
import threading
import zipfile
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from roost.errors import HashMismatchError, InstallError, NetworkError
from roost.net.client import Client
from roost.net.hashing import check_hashes, file_hashes
from roost.net.urls import origin_of
from roost.store.wheel_cache import WheelCache, check_filename
from roost.types import Link, file_url_path, redact_url
from roost.util.output import escape_controls, file_size

#: Downloads run side by side, over the one client's connection pool.
DOWNLOAD_CONCURRENCY = 8


def local_path(url: str) -> Path | None:
    """The filesystem path of a ``file://`` URL, else None."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    return Path(file_url_path(url))


def metadata_from_wheel(path: Path) -> str:
    """The METADATA text of the wheel at *path*."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [
                name
                for name in archive.namelist()
                if name.count("/") == 1 and name.endswith(".dist-info/METADATA")
            ]
            if len(names) != 1:
                raise InstallError(f"{path.name} is not a valid wheel: it has no single METADATA")
            return archive.read(names[0]).decode("utf-8")
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError) as exc:
        raise InstallError(f"{path.name} is not a valid wheel: {exc}") from None


class Fetcher:
    """Fetches files for one run; thread-safe, each URL fetched at most once."""

    def __init__(
        self,
        client: Client,
        download_dir: Path,
        cache: WheelCache | None = None,
        *,
        warn: Callable[[str], None] | None = None,
        check: Callable[[Link, Path], None] | None = None,
    ) -> None:
        self._client = client
        self._dir = download_dir
        self._cache = cache
        self._warn = warn or _stderr_warning
        #: Raises to refuse a verified file before anyone uses it (None: no check).
        self._check = check
        self._vetted: set[str] = set()
        #: The sha256 of every wheel fetched (and verified), by its path.
        self.digests: dict[Path, str] = {}
        self._pep658_text: dict[str, str] = {}
        #: METADATA read by range requests, by link URL; checked against the wheel.
        self._range_text: dict[str, str] = {}
        #: Origins that answered a range request with the whole file.
        self._no_ranges: set[str] = set()
        self._lock = threading.Lock()
        self._wheels: dict[str, Future[Path]] = {}
        self._metadata: dict[str, Future[str]] = {}
        self._pool = ThreadPoolExecutor(DOWNLOAD_CONCURRENCY, thread_name_prefix="roost-fetch")
        # Wheels have threads of their own: those the resolver pinned download while
        # it goes on, and the metadata it waits for must not queue behind them.
        self._wheel_pool = ThreadPoolExecutor(
            DOWNLOAD_CONCURRENCY, thread_name_prefix="roost-wheel"
        )
        #: Extra hashes the user pinned per link URL (``--hash``), checked with the index's.
        self.pinned: dict[str, Mapping[str, tuple[str, ...]]] = {}
        #: The size in bytes a file must have, per link URL (a lock file's ``size``).
        self.sizes: dict[str, int] = {}
        #: Where pip's file lines go (``Downloading x.whl (12 kB)``); None: nowhere.
        #: Set by the run that says pip's lines (the user's install, download, wheel),
        #: not by the installs that fill build environments.
        self.say: Callable[[str], None] | None = None
        #: How each remote file was got, by link URL: its pip verb and size.
        self._got: dict[str, tuple[str, int]] = {}
        self._announced: set[str] = set()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._wheel_pool.shutdown(wait=True, cancel_futures=True)

    def wheel(self, link: Link) -> Future[Path]:
        """Start (or join) fetching the file of *link*; the future gives its verified path."""
        with self._lock:
            future = self._wheels.get(link.url)
            if future is None:
                future = self._wheel_pool.submit(self._fetch_wheel, link)
                self._wheels[link.url] = future
            return future

    def wheel_sha256(self, link: Link) -> str:
        """The sha256 of the file of *link*, fetching it if needed: taken when the file
        was verified, never hashed again."""
        return self.digests[self.wheel(link).result()]

    def metadata(self, link: Link) -> Future[str]:
        """Start (or join) reading the core metadata of the file of *link*."""
        with self._lock:
            future = self._metadata.get(link.url)
            if future is None:
                future = self._pool.submit(self._fetch_metadata, link)
                self._metadata[link.url] = future
            return future

    def remember_metadata(self, link: Link, text: str) -> None:
        """Take *text* as the PEP 658 metadata of *link* (read and checked already, from
        a reused resolution) instead of fetching it."""
        future: Future[str] = Future()
        future.set_result(text)
        with self._lock:
            self._metadata.setdefault(link.url, future)
            self._pep658_text.setdefault(link.url, text)

    def known_sha256(self, link: Link) -> str | None:
        """The sha256 the file of *link* is bound to have, known before fetching it: the
        index's, unless a ``--hash`` pinned for it says otherwise (then None)."""
        digest = link.hashes.get("sha256", "").lower()
        if not digest:
            return None
        pinned = self.pinned.get(link.url)
        if pinned and digest not in {v.lower() for v in pinned.get("sha256", ())}:
            return None
        return digest

    def resolver_metadata(self, link: Link) -> str | None:
        """The metadata text the resolver used for *link* when it came from elsewhere than
        the wheel itself (a PEP 658 file or range requests); the wheel must agree with it."""
        with self._lock:
            return self._pep658_text.get(link.url, self._range_text.get(link.url))

    def announce(self, link: Link, *, stored: bool = False) -> None:
        """Say pip's line for the file of *link*, once, when the run says pip's lines:
        ``Downloading NAME (SIZE)`` for a file that came over the network, ``Using
        cached NAME (SIZE)`` for one from the wheel cache, or (*stored*) one the
        unpacked store holds, which is not fetched at all: the answer to "did this hit
        the network?" is the same. A local file gets no line, as with pip.
        """
        if self.say is None:
            return
        with self._lock:
            if link.url in self._announced:
                return
            got = self._got.get(link.url)
            if stored:
                got = ("Using cached", self._stored_size(link))
            if got is None:
                return
            self._announced.add(link.url)
        verb, size = got
        # pip leaves the size out when it does not know it.
        shown = f" ({file_size(size)})" if size > 0 else ""
        self.say(f"{verb} {link.filename}{shown}")

    def _stored_size(self, link: Link) -> int:
        """The size of a file taken from the store unread: the index's, else the wheel
        cache's copy, else unknown (0)."""
        if link.size is not None:
            return link.size
        if self._cache is not None:
            try:
                return self._cache.entry(link.url, link.filename).stat().st_size
            except OSError:
                pass
        return self.sizes.get(link.url, 0)

    def vet(self, link: Link, path: Path) -> None:
        """Put the file of *link* at *path* through the download check, once per URL.

        Every file this fetcher hands out has been through it; a caller that uses a
        copy it did not fetch (the unpacked store's) calls this itself.
        """
        if self._check is None:
            return
        with self._lock:
            if link.url in self._vetted:
                return
        self._check(link, path)
        with self._lock:
            self._vetted.add(link.url)

    def _fetch_wheel(self, link: Link) -> Path:
        path = self._fetch_verified(link)
        self.vet(link, path)
        return path

    def _fetch_verified(self, link: Link) -> Path:
        path = local_path(link.url)
        if path is not None:
            if not path.is_file():
                raise NetworkError(f"{link.filename}: {path} does not exist")
            names = ("sha256", *(n for n in link.hashes if n in {"sha384", "sha512"}))
            actual = file_hashes(path, names)
            check_hashes(link.filename, link.hashes, actual)
            self._check_pinned(link, path)
            return self._verified(link, path, actual["sha256"])
        # The name comes from a page or a plugin; the file must land in the folder.
        check_filename(link.url, link.filename)
        dest = self._dir / link.filename
        if self._cache is not None:
            digest = self._cache.get(link.url, link.filename, dest, link.hashes)
            if digest is not None:
                try:
                    self._check_pinned(link, dest)
                    self._remember_got(link, "Using cached", dest)
                    return self._verified(link, dest, digest)
                except HashMismatchError:
                    # The cache entry was replaced along with its stamp: trust neither.
                    self._warn(f"the cached {link.filename} does not match its --hash; evicted")
                    dest.unlink(missing_ok=True)
                    self._cache.evict(link.url, link.filename)
        digest = self._client.download(link.url, dest, link.hashes)
        self._check_pinned(link, dest)
        self._remember_got(link, "Downloading", dest)
        if self._cache is not None:
            self._cache.put(link.url, link.filename, dest, digest)
        return self._verified(link, dest, digest)

    def _remember_got(self, link: Link, verb: str, path: Path) -> None:
        size = path.stat().st_size
        with self._lock:
            self._got[link.url] = (verb, size)

    def _verified(self, link: Link, path: Path, sha256: str) -> Path:
        self._check_size(link, path)
        with self._lock:
            self.digests[path] = sha256
            ranged = self._range_text.get(link.url)
        if ranged is not None and metadata_from_wheel(path) != ranged:
            raise HashMismatchError(
                f"{link.filename}: the METADATA that {redact_url(link.url)} gave in answer to "
                "range requests differs from the METADATA in the wheel it then sent (whose "
                "hash was verified). The server answers inconsistently, so the resolution "
                "cannot be trusted; nothing was installed. Try again, or ask the index's "
                "owner."
            )
        return path

    def check_stored_size(self, link: Link, entry: Path) -> None:
        """A file held to a size (a lock's) but taken from the store of unpacked wheels
        by its sha256: the entry's own copy of the wheel (whose sha256 is the entry's
        name, checked by content before the entry is used) must have that size too, or
        the lock contradicts itself."""
        from roost.store.store_files import ARCHIVE

        self._check_size(link, entry / ARCHIVE)

    def _check_size(self, link: Link, path: Path) -> None:
        expected = self.sizes.get(link.url)
        if expected is None:
            return
        actual = path.stat().st_size
        if actual != expected:
            raise HashMismatchError(
                f"{link.filename} from {redact_url(link.url)} is {actual} bytes, not the "
                f"{expected} bytes the lock file says. Nothing was installed; someone may "
                "have tampered with the file or the lock: examine them before trusting them."
            )

    def _check_pinned(self, link: Link, path: Path) -> None:
        pinned = self.pinned.get(link.url)
        if not pinned:
            return
        actual = file_hashes(path, tuple(pinned))
        if not any(actual[name] in values for name, values in pinned.items()):
            wanted = "\n".join(
                f"    expected {n}:{v}" for n, values in pinned.items() for v in values
            )
            got = "\n".join(f"         got {n}:{h}" for n, h in actual.items())
            raise HashMismatchError(
                f"{link.filename} does not match any --hash given for it:\n{wanted}\n{got}\n"
                "Nothing was installed. If you updated the version, update the hash too; "
                "otherwise someone may have tampered with the file: examine it before "
                "trusting it."
            )

    def _fetch_metadata(self, link: Link) -> str:
        if link.metadata_hashes is not None:
            text = self._pep658(link)
            if text is not None:
                with self._lock:
                    self._pep658_text[link.url] = text
                return text
        if self._ranges_worth_trying(link):
            from roost.net.lazy_wheel import LazyWheelError, RangesUnsupported, metadata_by_ranges

            try:
                text = metadata_by_ranges(self._client, link.url)
            except RangesUnsupported:
                with self._lock:
                    self._no_ranges.add(origin_of(link.url))
            except (LazyWheelError, NetworkError):
                # Whatever went wrong, the whole wheel says it properly (or works).
                pass
            else:
                with self._lock:
                    self._range_text[link.url] = text
                return text
        return metadata_from_wheel(self._wheel_now(link))

    def _ranges_worth_trying(self, link: Link) -> bool:
        """Range requests for a remote wheel not already at hand, on a server that has
        not refused them."""
        if not link.is_wheel or urlsplit(link.url).scheme not in ("http", "https"):
            return False
        with self._lock:
            if link.url in self._wheels or origin_of(link.url) in self._no_ranges:
                return False
        return self._cache is None or not self._cache.entry(link.url, link.filename).is_file()

    def _wheel_now(self, link: Link) -> Path:
        """The wheel of *link*, fetched in this thread unless someone already is."""
        with self._lock:
            future = self._wheels.get(link.url)
            mine = future is None
            if future is None:
                future = self._wheels[link.url] = Future()
        if not mine:
            return future.result()
        try:
            path = self._fetch_wheel(link)
        except BaseException as exc:
            future.set_exception(exc)
            raise
        future.set_result(path)
        return path

    def _pep658(self, link: Link) -> str | None:
        url = link.metadata_url
        expected = link.metadata_hashes or {}
        path = local_path(url)
        if path is not None:
            try:
                data = path.read_bytes()
            except OSError:
                return None
        else:

            def verified(body: bytes) -> bool:
                # A stored copy that matches the index's hash needs no round trip.
                return bool(expected) and _matches(body, expected)

            from roost.net.lazy_wheel import MAX_METADATA

            response = self._client.get(url, fresh=verified, limit=MAX_METADATA)
            if response.status_code != 200:
                # An index that advertises a metadata file but cannot serve it: fall
                # back to the wheel rather than fail the install.
                return None
            data = response.content
        import hashlib

        actual = {name: hashlib.new(name, data).hexdigest() for name in expected}
        check_hashes(f"{redact_url(url)}", expected, actual)
        return data.decode("utf-8")


def _matches(data: bytes, expected: Mapping[str, str]) -> bool:
    import hashlib

    known = {n: v for n, v in expected.items() if n in hashlib.algorithms_guaranteed}
    return bool(known) and all(
        hashlib.new(n, data).hexdigest() == v.lower() for n, v in known.items()
    )


def _stderr_warning(message: str) -> None:
    print(f"WARNING: {escape_controls(message)}", file=sys.stderr)
