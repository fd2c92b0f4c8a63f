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


def origin_of(url: str) -> str:
    """``scheme://host:port`` of *url* (credentials never part of it)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or ''}"
