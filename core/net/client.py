"""The one HTTP client of a roost run.

TLS comes from ``roost_ssl_context``, credentials from URLs and ``roost_http_auth``,
proxies from ``--proxy`` or the environment (``HTTP(S)_PROXY``, ``ALL_PROXY``,
``NO_PROXY``). Transient failures are retried with backoff within one bound per
request; bodies are bounded in size (:mod:`roost.net.bounded`) and in pace
(:mod:`roost.net.pacing`); errors a person sees never carry a password.

Transports are chosen per request by :class:`Router`, not by httpx's environment
handling, so that proxy connections use the same SSL context as direct ones and
``--trusted-host`` relaxes TLS for its host only. Redirects are followed here, so the
``Authorization`` header of each hop is computed for that hop's own origin and never
travels to another one.

Pages fetched with :meth:`Client.get` are kept in the HTTP cache
(:mod:`roost.net.http_cache`) and revalidated on each use; :meth:`Client.get_range` reads
parts of a file (for :mod:`roost.net.lazy_wheel`) over the same connection pool.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar
from urllib.parse import urljoin, urlsplit

from roost.errors import IndexAccessError, NetworkError
from roost.net import bounded
from roost.net.failures import backoff, refused_message, retry_after, tls_failure, tls_message
from roost.net.hashing import check_hashes, file_hashes
from roost.net.ranges import ByteRange, content_range, range_start
from roost.net.route import Router, host_matches, is_loopback, no_proxy_matches, proxy_for
from roost.net.urls import origin_of, split_credentials
from roost.types import Credentials, Settings, redact_url

if TYPE_CHECKING:
    import ssl
    from types import TracebackType

    import httpx

    from roost.net.http_cache import Entry as HttpCacheEntry
    from roost.net.http_cache import HttpCache, Page

T = TypeVar("T")

# Importing httpx also imports its command-line client (and with it rich and click's
# parsers) unless that import fails: 50 to 100 ms of every run that uses the network,
# for a client roost never calls. None in sys.modules makes that import fail, which
# httpx expects (it is how it runs without its "cli" extra).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
DEFAULT_TIMEOUT = 15.0
DEFAULT_RETRIES = 5
#: Statuses worth asking again: the server said it is busy or broke for a moment.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10


def _basic(creds: tuple[str, str]) -> str:
    token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode("ascii")
    return f"Basic {token}"


class TransportHooks(Protocol):
    """What the client needs from plugins (roost's plugin manager is one).

    The client knows nothing of the plugin manager: TLS and credentials reach it
    through these two calls.
    """

    def ssl_context(self, settings: Settings) -> ssl.SSLContext:
        """The TLS context for every connection (``roost_ssl_context``)."""
        ...

    def http_auth(
        self, url: str, settings: Settings, *, challenged: bool = False
    ) -> Credentials | None:
        """Credentials for *url* (``roost_http_auth``); *challenged* after a 401."""
        ...


class Client:
    """Shared HTTP client: ``get`` for pages, ``download`` for files.

    The underlying ``httpx.Client`` is built on first use so commands that never
    touch the network never import httpx.
    """

    def __init__(self, hooks: TransportHooks, settings: Settings) -> None:
        self._hooks = hooks
        self._settings = settings
        self._http: httpx.Client | None = None
        self._router: Router | None = None
        self._build_lock = threading.Lock()
        # Credentials seen in any configured URL apply to every request to that origin,
        # so file links on the same host as an authenticated index work.
        self._credentials: dict[str, tuple[str, str]] = {}
        # What the roost_http_auth hook said per origin: asked once, not per file.
        self._hook_credentials: dict[str, tuple[str, str] | None] = {}
        # Origins whose 401 the hook was asked about (challenged=True): once each.
        self._challenged: set[str] = set()
        self._challenge_locks: dict[str, threading.Lock] = {}
        self._http_cache: HttpCache | Literal[False] | None = False
        self.timeout = float(
            settings.get("timeout") or settings.get("default-timeout") or DEFAULT_TIMEOUT
        )
        self.retries = int(settings.get("retries") or DEFAULT_RETRIES)
        #: Revalidate every cached answer, fresh or not (``--refresh``); the finder also
        #: turns it on when a page used unasked lacks what a requirement needs.
        self.refresh = settings.get_bool("refresh")
        #: Whether any answer came from the cache without asking the server.
        self.served_unasked = False
        #: Every HTTP cache entry an answer came from or went to, in order; and whether
        #: anything was read that the cache did not keep (a resolution reused later
        #: must have read nothing else: :mod:`roost.resolve.resolution_cache`).
        self.pages: list[Page] = []
        self.unrecorded = False

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection."""
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._router is not None:
            self._router.close()
            self._router = None

    def remember_credentials(self, url: str) -> None:
        """Use the credentials in *url* (if any) for every request to its origin."""
        _, creds = split_credentials(url)
        if creds is not None:
            self._credentials[origin_of(url)] = creds

    @property
    def http(self) -> httpx.Client:
        """The underlying ``httpx.Client`` (built on first use)."""
        with self._build_lock:
            if self._http is None:
                self._http = self._build()
            return self._http

    def _build(self) -> httpx.Client:
        import httpx

        from roost.net.pacing import pace_transport

        router = self._router = Router(self._hooks.ssl_context(self._settings), self._settings)

        class Routing(httpx.BaseTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                transport = router.transport(str(request.url))
                pace_transport(transport)
                return transport.handle_request(request)

        return httpx.Client(
            transport=Routing(),
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            trust_env=False,
            # Only codings roost inflates itself, within a bound (roost.net.bounded).
            headers={
                "User-Agent": f"roost/{_version()}",
                "Accept-Encoding": bounded.ACCEPTED_ENCODINGS,
            },
        )

    def _auth_for(self, url: str) -> tuple[str, tuple[str, str] | None]:
        bare, creds = split_credentials(url)
        origin = origin_of(bare)
        if creds is None:
            creds = self._credentials.get(origin)
        if creds is None:
            if origin not in self._hook_credentials:
                found = self._hooks.http_auth(bare, self._settings)
                self._hook_credentials[origin] = (
                    None if found is None else (found.username, found.password)
                )
            creds = self._hook_credentials[origin]
        return bare, creds

    def _challenge(self, url: str) -> bool:
        """Ask the auth hook again, as challenged, after *url*'s origin answered 401 to a
        request without credentials; True when it gave some to send."""
        bare, _ = split_credentials(url)
        origin = origin_of(bare)
        with self._build_lock:
            lock = self._challenge_locks.setdefault(origin, threading.Lock())
        # Parallel lookups meet the same 401: one asks, the others wait for its answer.
        with lock:
            if origin not in self._challenged:
                self._challenged.add(origin)
                found = self._hooks.http_auth(bare, self._settings, challenged=True)
                if found is not None:
                    self._hook_credentials[origin] = (found.username, found.password)
            return self._hook_credentials.get(origin) is not None

    def _open(self, url: str, headers: Mapping[str, str]) -> tuple[httpx.Response, bool]:
        """Send GET for *url*, following redirects; return the last response and
        whether it was sent with credentials."""
        # Inline credentials also serve same-origin redirects (/simple/Name -> /simple/name/).
        self.remember_credentials(url)
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            bare, creds = self._auth_for(current)
            parts = urlsplit(bare)
            http = self.http
            assert self._router is not None
            if (
                parts.scheme == "http"
                and not is_loopback(parts.hostname or "")
                and not self._router.trusted(bare)
            ):
                raise NetworkError(
                    f"refusing plain http to {parts.hostname}: {redact_url(url)} is not a "
                    f"secure origin. Use https, or pass --trusted-host {parts.hostname} "
                    "(also 'trusted-host' in roost's or pip's config) if you accept that."
                )
            request = http.build_request("GET", bare, headers=dict(headers))
            if creds is not None:
                request.headers["Authorization"] = _basic(creds)
            response = http.send(request, stream=True)
            location = response.headers.get("Location")
            if response.status_code not in REDIRECT_STATUSES or not location:
                return response, creds is not None
            response.close()
            current = urljoin(bare, location)
        raise NetworkError(f"{redact_url(url)} redirected more than {MAX_REDIRECTS} times")

    def _fetch(
        self,
        url: str,
        headers: Callable[[], Mapping[str, str]],
        consume: Callable[[httpx.Response], T],
    ) -> T:
        """Open *url* and hand the response to *consume*, within one retry bound.

        Connection errors, timeouts, stalled transfers (:mod:`roost.net.pacing`), bodies
        cut short and 429/5xx answers are retried with backoff (``Retry-After`` honoured,
        capped); TLS verification failures, 401/403 and other statuses are not.
        """
        import httpx

        from roost.net import pacing

        transient = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
        shown = redact_url(url)
        attempt = 0
        while True:
            response: httpx.Response | None = None
            previous = pacing.start(self.timeout)
            try:
                response, with_creds = self._open(url, headers())
                status = response.status_code
                if status in RETRY_STATUSES and attempt < self.retries:
                    attempt += 1
                    time.sleep(retry_after(response) or backoff(attempt))
                    continue
                if status == 401 and not with_creds and self._challenge(url):
                    continue  # sent again with what the challenge found
                if status in (401, 403):
                    raise IndexAccessError(refused_message(shown, response, with_creds))
                if status == 407:
                    raise NetworkError(self._proxy_message(url, "407 Proxy Authentication"))
                return consume(response)
            except httpx.ProxyError as exc:
                raise NetworkError(self._proxy_message(url, str(exc))) from None
            except (*transient, pacing.SlowTransfer) as exc:
                failure = tls_failure(exc)
                if failure is not None:
                    raise NetworkError(tls_message(shown, failure)) from None
                if attempt >= self.retries:
                    from roost.net.failures import gave_up

                    message = gave_up(shown, exc, attempt + 1, self.timeout, self._via(url))
                    raise NetworkError(message) from None
                attempt += 1
                time.sleep(backoff(attempt))
            except (httpx.TransportError, httpx.InvalidURL) as exc:
                raise NetworkError(
                    f"could not get {shown}: {type(exc).__name__}: {redact_url(str(exc))}"
                ) from None
            finally:
                pacing.stop(previous)
                if response is not None:
                    response.close()

    def _via(self, url: str) -> str:
        proxy = self._router.proxy(url) if self._router is not None else None
        return f" (through the proxy {redact_url(proxy)})" if proxy else ""

    def _proxy_message(self, url: str, detail: str) -> str:
        proxy = self._router.proxy(url) if self._router is not None else None
        return (
            f"the proxy {redact_url(proxy or '?')} refused to fetch {redact_url(url)}: "
            f"{redact_url(detail)}. Check --proxy or HTTPS_PROXY/HTTP_PROXY (with "
            "USER:PASSWORD@ if it needs a login), and NO_PROXY for hosts to reach directly."
        )

    @property
    def http_cache(self) -> HttpCache | None:
        """The cache of pages under the cache root (None with ``--no-cache-dir``)."""
        with self._build_lock:
            if self._http_cache is False:
                from roost.net.http_cache import HttpCache
                from roost.util.cache import cache_root

                root = cache_root(self._settings)
                self._http_cache = None if root is None else HttpCache(root)
            return self._http_cache

    def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        fresh: Callable[[bytes], bool] | None = None,
        limit: int = bounded.MAX_PAGE_BYTES,
    ) -> httpx.Response:
        """GET *url* and read the whole body; statuses other than 401/403 are returned.

        A body of more than *limit* bytes (decoded) is refused as a NetworkError as soon
        as that many arrived (:mod:`roost.net.bounded`).

        Answers are kept in the HTTP cache: used unasked while the server's max-age
        says they are fresh (unless :attr:`refresh`), revalidated after that (a 304
        gives the stored body back as a 200). *fresh*, when given, says whether a
        stored body may be used without asking the server whatever its age (one whose
        hash is known).
        """
        asked = dict(headers or {})

        def read(response: httpx.Response) -> httpx.Response:
            return bounded.read_whole(response, url, limit, "an index page or metadata file")

        cache = self.http_cache
        if cache is None or any(name.lower() in _UNCACHED_HEADERS for name in asked):
            self.unrecorded = True
            return self._fetch(url, lambda: asked, read)
        _, creds = self._auth_for(url)
        key = cache.key("GET", url, asked, creds)
        entry = cache.load(key)
        hashed = fresh is not None
        if entry is not None and fresh is not None and fresh(entry.body):
            return self._read_from(url, key, entry, hashed).response()
        if entry is not None and not self.refresh and entry.fresh(time.time()):
            self.served_unasked = True
            return self._read_from(url, key, entry, hashed).response()
        sent = {**asked, **(entry.validators() if entry is not None else {})}
        response = self._fetch(url, lambda: sent, read)
        if response.status_code == 304 and entry is not None:
            return self._read_from(url, key, cache.touch(key, entry, response), hashed).response()
        _, used = self._auth_for(url)
        if used != creds:
            # A 401 brought credentials: the answer is theirs, filed under them.
            key = cache.key("GET", url, asked, used)
        stored = cache.store(key, response)
        if stored is None:
            self.unrecorded = True
        else:
            self._read_from(url, key, stored, hashed)
        return response

    def _read_from(
        self, url: str, key: str, entry: HttpCacheEntry, hashed: bool
    ) -> HttpCacheEntry:
        """Note that *entry* (the answer for *url*, kept under *key*) was read."""
        from roost.net.http_cache import Page

        self.pages.append(Page(key, entry.sha256, hashed, url))
        return entry

    def get_range(self, url: str, span: str, limit: int) -> tuple[int, ByteRange | None]:
        """GET ``Range: bytes=<span>`` of *url*: the status and, for a 206, the bytes.

        Any other answer (a 200 means the server ignores ranges) gives no bytes and its
        body is not read. A 206 of more than *limit* bytes is refused as a NetworkError.
        """

        def take(response: httpx.Response) -> tuple[int, ByteRange | None]:
            status = response.status_code
            found = content_range(response)
            if status != 206 or found is None:
                return status, None
            data = bytearray()
            for chunk in bounded.decoded_body(
                response, url, limit, "the range of a file it asked"
            ):
                data += chunk
            start, total = found
            return status, ByteRange(start, total, bytes(data))

        self.unrecorded = True
        # Identity encoding: the offsets must be those of the file itself.
        return self._fetch(
            url, lambda: {"Accept-Encoding": "identity", "Range": f"bytes={span}"}, take
        )

    def download(self, url: str, dest: Path, hashes: Mapping[str, str] | None = None) -> str:
        """Stream *url* into *dest* and return its sha256; check *hashes* when given.

        A body cut short is resumed with a Range request when the server allows it
        (else fetched again from the start), within the retry bound; the hashes are
        checked on the whole file either way.
        """
        partial = dest.with_name(dest.name + ".part")
        partial.unlink(missing_ok=True)
        resumed = False

        def have() -> int:
            return partial.stat().st_size if partial.exists() else 0

        def ranged() -> Mapping[str, str]:
            # Identity encoding: byte offsets for Range must be those of the file itself.
            size = have()
            headers = {"Accept-Encoding": "identity"}
            return {**headers, "Range": f"bytes={size}-"} if size else headers

        def save(response: httpx.Response) -> None:
            nonlocal resumed
            size = have()
            if response.status_code == 206 and size and range_start(response) == size:
                mode, resumed = "ab", True
            elif response.status_code == 200:
                mode = "wb"
            elif response.status_code in (206, 416):
                # Not the range asked for: start again from the first byte.
                partial.unlink(missing_ok=True)
                import httpx

                raise httpx.RemoteProtocolError("the server would not resume the download")
            else:
                raise NetworkError(
                    f"downloading {redact_url(url)} failed: "
                    f"{response.status_code} {response.reason_phrase}"
                )
            # A resumed body may bring only what the limit leaves after the part kept.
            limit = bounded.MAX_DOWNLOAD_BYTES - (size if mode == "ab" else 0)
            with open(partial, mode) as out:
                for chunk in bounded.decoded_body(response, url, limit, "one downloaded file"):
                    out.write(chunk)

        try:
            self._fetch(url, ranged, save)
            names = tuple(n for n in (hashes or {}) if n in hashlib.algorithms_guaranteed)
            actual = file_hashes(partial, tuple(dict.fromkeys(("sha256", *names))))
            if resumed and any(
                actual.get(n, v).lower() != v.lower() for n, v in (hashes or {}).items()
            ):
                # A resumed file that does not match: trust nothing, fetch it whole.
                partial.unlink()
                self._fetch(url, lambda: {"Accept-Encoding": "identity"}, save)
                actual = file_hashes(partial, tuple(dict.fromkeys(("sha256", *names))))
            check_hashes(redact_url(url), hashes or {}, actual, partial)
            os.replace(partial, dest)
        finally:
            partial.unlink(missing_ok=True)
        return actual["sha256"]


#: Requests with these headers are never answered from, nor kept in, the cache.
_UNCACHED_HEADERS = frozenset({"range", "authorization", "if-none-match", "if-modified-since"})


def _version() -> str:
    from roost.version import __version__

    return __version__


__all__ = [
    "ByteRange",
    "Client",
    "check_hashes",
    "file_hashes",
    "host_matches",
    "is_loopback",
    "no_proxy_matches",
    "origin_of",
    "proxy_for",
    "split_credentials",
]
