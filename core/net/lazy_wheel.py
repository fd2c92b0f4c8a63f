"""Read a remote wheel's METADATA with HTTP range requests instead of the whole wheel.

A zip ends with its central directory, and a wheel's ``.dist-info`` is usually written
last, so the tail of the file (one request) mostly holds everything needed: the
end-of-central-directory record (ZIP64 too), the directory, and METADATA itself. When
it does not, one more request fetches the directory and one more the member.

What comes back this way is not covered by the wheel's hash: the fetcher keeps it and
compares it with the METADATA of the wheel it later downloads and verifies, so a server
that lies in a range answer is caught before anything is installed.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from roost.net.client import ByteRange

if TYPE_CHECKING:
    from roost.net.client import Client

#: The first read: the last 64 KiB hold the directory of nearly every wheel.
TAIL_BYTES = 64 * 1024
#: Bounds against hostile archives: a directory or a METADATA larger is not read.
MAX_DIRECTORY = 32 * 1024 * 1024
MAX_METADATA = 16 * 1024 * 1024
#: Extra bytes asked for after a member, so a local header's extra field is covered
#: without another round trip.
_SLACK = 1024

_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_LOCAL = struct.Struct("<4s5H3L2H")

#: Reads ``bytes=<span>`` (``-N`` for the last N bytes, ``A-B`` inclusive).
Reader = Callable[[str], ByteRange]


class LazyWheelError(Exception):
    """METADATA could not be read by ranges; fetch the whole wheel instead."""


class RangesUnsupported(LazyWheelError):
    """The server answered a range request with the whole file (or not at all)."""


class Unreadable(LazyWheelError):
    """The archive's structure is not one this reader follows."""


class _Window:
    """The bytes fetched so far, fetching more on demand."""

    def __init__(self, read: Reader, first: ByteRange) -> None:
        self._read = read
        self.total = first.total
        self._spans = [first]

    def get(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0 or offset + length > self.total:
            raise Unreadable(f"bytes {offset}+{length} lie outside a {self.total}-byte file")
        for span in self._spans:
            if span.start <= offset and offset + length <= span.start + len(span.data):
                return span.data[offset - span.start : offset - span.start + length]
        got = self._read(f"{offset}-{offset + length - 1}")
        if got.start != offset or len(got.data) < length or got.total != self.total:
            raise Unreadable("the server answered a different range than asked")
        self._spans.append(got)
        return got.data[:length]

    def prefetch(self, offset: int, end: int) -> None:
        """Make bytes *offset* to *end* (exclusive) available with at most one request."""
        end = min(end, self.total)
        if end > offset:
            self.get(offset, end - offset)


def read_metadata(read: Reader, tail: int = TAIL_BYTES) -> bytes:
    """The bytes of ``*.dist-info/METADATA`` in the zip that *read* gives ranges of.

    :raises LazyWheelError: when ranges are not served or the zip cannot be followed.
    """
    last = read(f"-{tail}")
    if last.start + len(last.data) != last.total:
        raise Unreadable("the tail read did not end at the end of the file")
    window = _Window(read, last)
    count, directory_size, directory_at = _directory_location(window, last)
    if directory_size > MAX_DIRECTORY:
        raise Unreadable(f"a {directory_size}-byte central directory is too large")
    if directory_at < last.start:
        # The directory did not fit in the tail: fetch it with the bytes just before it,
        # where a wheel's .dist-info files (METADATA among them) usually are.
        window.prefetch(max(0, directory_at - TAIL_BYTES), directory_at + directory_size)
    directory = window.get(directory_at, directory_size)
    found = [m for m in _members(directory, count) if _is_metadata(m[0])]
    if len(found) != 1:
        raise Unreadable(f"{len(found)} METADATA files in the central directory")
    name, method, crc, packed, size, offset, extra = found[0]
    if size > MAX_METADATA:
        raise Unreadable(f"a {size}-byte METADATA is too large")
    # The local header's name and extra field usually match the directory's.
    guess = _LOCAL.size + len(name.encode()) + extra + packed + _SLACK
    window.prefetch(offset, min(directory_at, offset + guess))
    header = _LOCAL.unpack(window.get(offset, _LOCAL.size))
    if header[0] != b"PK\x03\x04":
        raise Unreadable("no local header where the directory points")
    start = offset + _LOCAL.size + header[9] + header[10]
    data = window.get(start, packed)
    return _inflate(data, method, crc, size)


def _directory_location(window: _Window, last: ByteRange) -> tuple[int, int, int]:
    """(entries, size, offset) of the central directory, from the (ZIP64) EOCD."""
    data = last.data
    at = len(data)
    while True:
        at = data.rfind(b"PK\x05\x06", 0, at)
        if at < 0:
            raise Unreadable("no end-of-central-directory record in the tail")
        if at + _EOCD.size <= len(data):
            record = _EOCD.unpack_from(data, at)
            # A signature inside the comment is not the record: the comment must end
            # exactly at the end of the file.
            if at + _EOCD.size + record[7] == len(data):
                break
    _, disk, directory_disk, _, count, size, offset, _ = record
    if disk or directory_disk:
        raise Unreadable("multi-disk archives are not wheels")
    if count != 0xFFFF and size != 0xFFFFFFFF and offset != 0xFFFFFFFF:
        return count, size, offset
    locator_at = last.start + at - _ZIP64_LOCATOR.size
    locator = _ZIP64_LOCATOR.unpack(window.get(locator_at, _ZIP64_LOCATOR.size))
    if locator[0] != b"PK\x06\x07":
        raise Unreadable("a ZIP64 archive without its locator")
    record64 = _ZIP64_EOCD.unpack(window.get(locator[2], _ZIP64_EOCD.size))
    if record64[0] != b"PK\x06\x06":
        raise Unreadable("no ZIP64 end-of-central-directory record where the locator points")
    return record64[7], record64[8], record64[9]


def _members(directory: bytes, count: int) -> list[tuple[str, int, int, int, int, int, int]]:
    """(name, method, crc, compressed, size, local offset, extra length) per entry."""
    found = []
    at = 0
    for _ in range(count):
        if at + _CENTRAL.size > len(directory):
            raise Unreadable("the central directory is cut short")
        fields = _CENTRAL.unpack_from(directory, at)
        if fields[0] != b"PK\x01\x02":
            raise Unreadable("a central directory entry has a bad signature")
        flags, method, crc, packed, size = fields[3], fields[4], fields[7], fields[8], fields[9]
        name_len, extra_len, comment_len, offset = fields[10], fields[11], fields[12], fields[16]
        raw_name = directory[at + _CENTRAL.size : at + _CENTRAL.size + name_len]
        extra = directory[
            at + _CENTRAL.size + name_len : at + _CENTRAL.size + name_len + extra_len
        ]
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        if flags & 0x1:
            raise Unreadable(f"{name} is encrypted")
        size, packed, offset = _zip64_sizes(extra, size, packed, offset)
        found.append((name, method, crc, packed, size, offset, extra_len))
        at += _CENTRAL.size + name_len + extra_len + comment_len
    return found


def _zip64_sizes(extra: bytes, size: int, packed: int, offset: int) -> tuple[int, int, int]:
    """Sizes and offset, taking those saturated at 0xFFFFFFFF from the ZIP64 extra field."""
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4 : at + 4 + length]
        if kind == 0x0001:
            values = [v[0] for v in struct.iter_unpack("<Q", body[: len(body) // 8 * 8])]
            if size == 0xFFFFFFFF and values:
                size = values.pop(0)
            if packed == 0xFFFFFFFF and values:
                packed = values.pop(0)
            if offset == 0xFFFFFFFF and values:
                offset = values.pop(0)
        at += 4 + length
    return size, packed, offset


def _is_metadata(name: str) -> bool:
    top, slash, rest = name.partition("/")
    return bool(slash) and top.endswith(".dist-info") and rest == "METADATA"


def _inflate(data: bytes, method: int, crc: int, size: int) -> bytes:
    if method == 0:
        text = data
    elif method == 8:
        try:
            text = zlib.decompressobj(-15).decompress(data, MAX_METADATA + 1)
        except zlib.error as exc:
            raise Unreadable(f"METADATA does not inflate: {exc}") from None
    else:
        raise Unreadable(f"METADATA uses compression method {method}")
    if len(text) != size or zlib.crc32(text) != crc:
        raise Unreadable("METADATA does not match its size and CRC")
    return text


def http_reader(client: Client, url: str) -> Reader:
    """A :data:`Reader` over *url* through *client*'s connection pool."""

    def read(span: str) -> ByteRange:
        first, _, last = span.partition("-")
        limit = int(last) if not first else int(last) - int(first) + 1
        status, got = client.get_range(url, span, limit)
        if got is None:
            if status in (200, 416):
                raise RangesUnsupported(f"the server answered {status} to a range request")
            raise Unreadable(f"the server answered {status} to a range request")
        return got

    return read


def metadata_by_ranges(client: Client, url: str) -> str:
    """The METADATA text of the wheel at *url*, read with range requests.

    :raises LazyWheelError: when the whole wheel has to be fetched instead.
    """
    try:
        return read_metadata(http_reader(client, url)).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"METADATA is not UTF-8: {exc}") from None
