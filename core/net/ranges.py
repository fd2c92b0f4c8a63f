"""What a ``206 Partial Content`` answer covers: ``Content-Range`` read, and the bytes kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` to ``start + len(data)`` of a file of ``total`` bytes."""

    start: int
    total: int
    data: bytes


def content_range(response: httpx.Response) -> tuple[int, int] | None:
    """(first byte, file size) from ``Content-Range: bytes A-B/SIZE``."""
    unit, _, rest = response.headers.get("Content-Range", "").partition(" ")
    span, _, total = rest.partition("/")
    first = span.partition("-")[0]
    if unit != "bytes" or not first.isdigit() or not total.isdigit():
        return None
    return int(first), int(total)


def range_start(response: httpx.Response) -> int | None:
    """The first byte of ``Content-Range: bytes A-...``, whatever the rest says."""
    value = response.headers.get("Content-Range", "")
    unit, _, rest = value.partition(" ")
    start = rest.partition("-")[0]
    return int(start) if unit == "bytes" and start.isdigit() else None
