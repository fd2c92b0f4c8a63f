"""Messages and retry timing for failed HTTP requests: TLS failures, refusals, Retry-After."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from roost.types import redact_url

if TYPE_CHECKING:
    import ssl

    import httpx


#: The longest Retry-After roost waits for before trying again.
MAX_RETRY_AFTER = 30.0


def tls_failure(exc: BaseException) -> ssl.SSLError | None:
    import ssl  # loaded by httpx already; not at the top, which every start-up pays

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def refused_message(shown: str, response: httpx.Response, with_creds: bool) -> str:
    parts = urlsplit(shown)
    reason = "the credentials sent were refused" if with_creds else "it needs credentials"
    return (
        f"the index at {parts.scheme}://{parts.netloc} answered {response.status_code} "
        f"{response.reason_phrase} for {shown}: {reason}. roost does not fall back to "
        "another index. Give credentials in the URL (https://USER:PASSWORD@host/...), in "
        "~/.netrc (or the file NETRC names), or through a keyring or credentials plugin."
    )


def tls_message(shown: str, failure: ssl.SSLError) -> str:
    import ssl

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
    reason = getattr(failure, "reason", None) or ""
    hint = ""
    if "CERTIFICATE_REQUIRED" in str(reason).upper() or "certificate required" in str(failure):
        hint = " The server wants a client certificate: pass --client-cert PATH (PEM with key)."
    return f"TLS connection to {host} failed: {failure}.{hint}"


def backoff(attempt: int) -> float:
    return float(min(0.25 * (2 ** (attempt - 1)), 8.0))


def retry_after(response: httpx.Response) -> float | None:
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


def gave_up(shown: str, exc: Exception, attempts: int, timeout: float, via: str) -> str:
    """Why a request failed for good after *attempts* transient failures, the last *exc*;
    *via* names the proxy used, if any."""
    from roost.net.pacing import PACE_BYTES, SlowTransfer

    if isinstance(exc, SlowTransfer):
        return (
            f"could not get {shown}{via} after {attempts} attempt(s): the transfer stalled, "
            f"{exc.received} bytes arrived in {exc.seconds:.1f} s and roost needs "
            f"{PACE_BYTES // 1024} KiB in every --timeout window ({timeout:g} s). The server "
            "is trickling or the link is very slow. On a slow link raise --timeout (also "
            "'timeout' in roost's or pip's config): a longer window asks for a slower pace."
        )
    detail = redact_url(str(exc)) or "no details"
    return (
        f"could not get {shown} after {attempts} attempt(s): {type(exc).__name__}: {detail}{via}"
    )
