"""The one HTTP client of a roost run.

TLS comes from ``roost_ssl_context``, credentials from URLs and ``roost_http_auth``,
proxies from the settings and the environment. Transient failures are retried with
backoff; errors a person sees never carry a password.
"""

from __future__ import annotations

import hashlib
import os
import ssl
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from roost.errors import HashMismatchError, IndexAccessError, NetworkError
from roost.types import Settings, redact_url

if TYPE_CHECKING:
    from types import TracebackType

    import httpx

    from roost.manager import Manager

DEFAULT_TIMEOUT = 15.0
DEFAULT_RETRIES = 5
#: Statuses worth asking again: the server said it is busy or broke for a moment.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """Return *url* without userinfo, and the (user, password) it carried."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    from urllib.parse import unquote

    return urlunsplit(parts._replace(netloc=host)), (unquote(user), unquote(password))


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or ''}"


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class Client:
    """Shared HTTP client: ``get`` for pages, ``download`` for files.

    The underlying ``httpx.Client`` is built on first use so commands that never
    touch the network never import httpx.
    """

    def __init__(self, manager: Manager, settings: Settings) -> None:
        self._manager = manager
        self._settings = settings
        self._http: httpx.Client | None = None
        # Credentials seen in any configured URL apply to every request to that origin,
        # so file links on the same host as an authenticated index work.
        self._credentials: dict[str, tuple[str, str]] = {}
        self.timeout = float(
            settings.get("timeout") or settings.get("default-timeout") or DEFAULT_TIMEOUT
        )
        self.retries = int(settings.get("retries") or DEFAULT_RETRIES)

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
        if self._http is not None:
            self._http.close()
            self._http = None

    def remember_credentials(self, url: str) -> None:
        _, creds = split_credentials(url)
        if creds is not None:
            self._credentials[origin_of(url)] = creds

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = self._build()
        return self._http

    def _build(self) -> httpx.Client:
        import httpx

        context = self._manager.ssl_context(self._settings)
        mounts: dict[str, httpx.BaseTransport | None] = {}
        for host in self._settings.get_list("trusted-host"):
            # pip's --trusted-host: plain http and unverified TLS for that host only.
            mounts[f"all://{host}"] = httpx.HTTPTransport(verify=False, retries=0)
        proxy = self._settings.get("proxy")
        return httpx.Client(
            verify=context,
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=True,
            trust_env=True,
            proxy=proxy or None,
            mounts=mounts or None,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            headers={"User-Agent": f"roost/{_version()}"},
        )

    def _auth_for(self, url: str) -> tuple[str, tuple[str, str] | None]:
        bare, creds = split_credentials(url)
        if creds is None:
            creds = self._credentials.get(origin_of(bare))
        if creds is None:
            found = self._manager.http_auth(bare, self._settings)
            if found is not None:
                creds = (found.username, found.password)
        return bare, creds

    @contextmanager
    def _request(
        self, url: str, headers: Mapping[str, str] | None = None
    ) -> Iterator[httpx.Response]:
        import httpx

        bare, creds = self._auth_for(url)
        shown = redact_url(url)
        attempt = 0
        while True:
            try:
                request = self.http.build_request("GET", bare, headers=dict(headers or {}))
                if creds is not None:
                    request.headers["Authorization"] = httpx.BasicAuth(*creds)._auth_header
                response = self.http.send(request, stream=True)
            except httpx.TransportError as exc:
                failure = _tls_failure(exc)
                if failure is not None:
                    raise NetworkError(_tls_message(shown, failure)) from None
                if attempt >= self.retries:
                    raise NetworkError(
                        f"could not reach {shown} after {attempt + 1} attempt(s): "
                        f"{type(exc).__name__}: {redact_url(str(exc)) or 'no details'}"
                    ) from None
                attempt += 1
                time.sleep(_backoff(attempt))
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.retries:
                delay = _retry_after(response) or _backoff(attempt + 1)
                response.close()
                attempt += 1
                time.sleep(delay)
                continue
            try:
                if response.status_code in (401, 403):
                    reason = "credentials were refused" if creds else "credentials are needed"
                    raise IndexAccessError(
                        f"{shown} answered {response.status_code} "
                        f"{response.reason_phrase}: {reason}. Put them in the URL "
                        "(https://USER:PASSWORD@host/...), in ~/.netrc, or in a "
                        "credentials plugin."
                    )
                yield response
            finally:
                response.close()
            return

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """GET *url* and read the whole body; statuses other than 401/403 are returned."""
        import httpx

        attempt = 0
        while True:
            try:
                with self._request(url, headers) as response:
                    response.read()
                    return response
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout) as exc:
                attempt += 1
                if attempt > self.retries:
                    raise NetworkError(
                        f"reading {redact_url(url)} failed: {type(exc).__name__}"
                    ) from None
                time.sleep(_backoff(attempt))

    def download(self, url: str, dest: Path, hashes: Mapping[str, str] | None = None) -> str:
        """Stream *url* into *dest* and return its sha256; check *hashes* when given.

        A body cut short is fetched again from the start, within the retry bound.
        """
        import httpx

        attempt = 0
        while True:
            partial = dest.with_name(dest.name + ".part")
            try:
                digest = hashlib.sha256()
                others = {
                    name: hashlib.new(name)
                    for name in (hashes or {})
                    if name != "sha256" and name in hashlib.algorithms_guaranteed
                }
                with self._request(url) as response:
                    if response.status_code != 200:
                        raise NetworkError(
                            f"downloading {redact_url(url)} failed: "
                            f"{response.status_code} {response.reason_phrase}"
                        )
                    with open(partial, "wb") as out:
                        for chunk in response.iter_bytes(1 << 16):
                            out.write(chunk)
                            digest.update(chunk)
                            for other in others.values():
                                other.update(chunk)
                os.replace(partial, dest)
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout) as exc:
                partial.unlink(missing_ok=True)
                attempt += 1
                if attempt > self.retries:
                    raise NetworkError(
                        f"downloading {redact_url(url)} failed: {type(exc).__name__}"
                    ) from None
                time.sleep(_backoff(attempt))
                continue
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            actual = {"sha256": digest.hexdigest()}
            actual.update({name: h.hexdigest() for name, h in others.items()})
            check_hashes(redact_url(url), hashes or {}, actual, dest)
            return actual["sha256"]


def check_hashes(
    what: str, expected: Mapping[str, str], actual: Mapping[str, str], path: Path | None = None
) -> None:
    """Raise HashMismatchError when any hash both sides know differs."""
    for name, want in expected.items():
        got = actual.get(name)
        if got is not None and got.lower() != want.lower():
            if path is not None:
                path.unlink(missing_ok=True)
            raise HashMismatchError(
                f"hash mismatch for {what}:\n  expected {name}:{want}\n       got {name}:{got}\n"
                "The file was not installed. If the index changed the file, ask its owner; "
                "otherwise something between you and the index altered it."
            )


def file_hashes(path: Path, names: tuple[str, ...] = ("sha256",)) -> dict[str, str]:
    hashers = {name: hashlib.new(name) for name in names}
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            for hasher in hashers.values():
                hasher.update(chunk)
    return {name: h.hexdigest() for name, h in hashers.items()}


def apply_tls_settings(context: ssl.SSLContext, settings: Settings) -> ssl.SSLContext:
    """Add ``cert`` (a CA bundle) and ``client-cert`` (PEM with key) to *context*."""
    from roost.errors import ConfigError

    for key, load in (
        ("cert", lambda path: context.load_verify_locations(cafile=path)),
        ("client-cert", context.load_cert_chain),
    ):
        path = settings.get(key)
        if not path:
            continue
        try:
            load(path)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"{key} {path!r} (from {settings.origin(key)}) could not be loaded: {exc}"
            ) from None
    return context


def _tls_message(shown: str, failure: ssl.SSLError) -> str:
    host = urlsplit(shown).hostname or shown
    if isinstance(failure, ssl.SSLCertVerificationError):
        detail = failure.verify_message or str(failure)
        return (
            f"TLS verification failed for {host}: its certificate was not trusted "
            f"({detail}). Remedies: add the issuing CA to the system trust store, point "
            "SSL_CERT_FILE at a bundle that contains it, or pass --cert PATH (also "
            "'cert' in roost's or pip's config); --trusted-host only if you accept an "
            "unverified connection."
        )
    return f"TLS connection to {host} failed: {failure}"


def _backoff(attempt: int) -> float:
    return float(min(0.25 * (2 ** (attempt - 1)), 8.0))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return None
        return min(max(when - time.time(), 0.0), MAX_RETRY_AFTER)


def _version() -> str:
    from roost import __version__

    return __version__
