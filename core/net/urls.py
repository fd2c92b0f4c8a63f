"""Credentials in URLs and the origin a URL belongs to."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

if TYPE_CHECKING:
    pass


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """Return *url* without userinfo, and the (user, password) it carried."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), (unquote(user), unquote(password))


#: The longest URL the HTTP client takes (httpx refuses longer ones).
MAX_URL_LENGTH = 65_536


def url_problem(url: str) -> str | None:
    """Why *url* cannot be asked (a port like ``80x``, no host, far too long, control
    characters), or None when it can. Checked without the HTTP client, whose import
    a run that reuses its resolution never pays."""
    if len(url) > MAX_URL_LENGTH:
        return f"it is {len(url)} characters long; the most is {MAX_URL_LENGTH}"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        return "it holds control characters"
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        return str(exc)
    if parts.scheme.lower() in ("http", "https") and not parts.hostname:
        return "it names no host"
    return None


def origin_of(url: str) -> str:
    """``scheme://host:port`` of *url* (credentials never part of it)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        # A link an index page gave with a port like ``80x``: the request itself fails
        # with a clear message; the origin only keys credentials.
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    return f"{parts.scheme}://{parts.hostname}:{port or ''}"
