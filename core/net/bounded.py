"""Response bodies read within a size limit, counted after decoding as they arrive.

roost decodes ``Content-Encoding`` itself instead of letting httpx do it: httpx inflates
each network read in one call with no output bound, so a 64 KiB read of a gzip body
(or of ``gzip, gzip``) can become gigabytes before any caller sees a byte. Here every
inflating step yields at most :data:`_PIECE` bytes, and the running total is checked
against the limit before the next step, so memory stays bounded by the limit whatever
the compression ratio.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from roost.errors import NetworkError
from roost.types import redact_url

if TYPE_CHECKING:
    import httpx

#: An index page (PEP 503 HTML or PEP 691 JSON) or a PEP 658 metadata file, decoded.
#: The largest simple pages on PyPI (projects with tens of thousands of files) are tens
#: of MiB; past this a page is broken or hostile, and it is held in memory whole.
MAX_PAGE_BYTES = 128 * 1024 * 1024
#: One downloaded file. The largest wheels published (CUDA builds) are a few GiB; files
#: are streamed to disk, so this only keeps a hostile server from filling the disk.
MAX_DOWNLOAD_BYTES = 16 * 1024 * 1024 * 1024
#: The most one inflating step may produce: the memory a compressed body costs beyond
#: the bytes a caller keeps.
_PIECE = 256 * 1024
#: The encodings roost asks for (``Accept-Encoding``) and reads.
ACCEPTED_ENCODINGS = "gzip, deflate"
_GZIP = frozenset({"gzip", "x-gzip"})


def size_text(count: int) -> str:
    """``134217728`` -> ``128 MiB``: limits as people read them."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.4g} {unit}"
    return f"{count} bytes"


def too_large(url: str, limit: int, what: str, declared: int | None = None) -> NetworkError:
    shown, most = redact_url(url), size_text(limit)
    if declared is None:
        found = f"the body of {shown} grew past {most} (counted decompressed), the most"
        done = "it stopped reading there"
    else:
        found = f"{shown} declares a body of {size_text(declared)}, more than the {most}"
        done = "it did not read it"
    return NetworkError(
        f"{found} roost reads for {what}; {done}. The server is broken or hostile: check "
        "the index URL."
    )


def decoded_body(response: httpx.Response, url: str, limit: int, what: str) -> Iterator[bytes]:
    """The body of *response*, decoded, chunk by chunk as it arrives.

    :raises NetworkError: as soon as more than *limit* decoded bytes arrived (or an
        unencoded body declares more), naming the URL (redacted), *what* was read and
        the limit; also for an encoding roost did not ask for or a damaged one.
    """
    encodings = content_encodings(response)
    declared = response.headers.get("content-length", "").strip()
    if not encodings and declared.isdigit() and int(declared) > limit:
        raise too_large(url, limit, what, int(declared))
    decoder = Decoder(encodings, url)
    total = 0
    for raw in response.iter_raw():
        for piece in decoder.feed(raw):
            total += len(piece)
            if total > limit:
                raise too_large(url, limit, what)
            yield piece


def read_whole(response: httpx.Response, url: str, limit: int, what: str) -> httpx.Response:
    """*response* with its whole body read within *limit*, as a read ``httpx.Response``
    whose content is decoded (no ``Content-Encoding`` left to apply)."""
    import httpx

    data = bytearray()
    for piece in decoded_body(response, url, limit, what):
        data += piece
    dropped = {"content-encoding", "content-length", "transfer-encoding"}
    return httpx.Response(
        response.status_code,
        headers=[(k, v) for k, v in response.headers.multi_items() if k.lower() not in dropped],
        content=bytes(data),
        request=response.request,
        extensions={
            name: response.extensions[name]
            for name in ("http_version", "reason_phrase")
            if name in response.extensions
        },
    )


def content_encodings(response: httpx.Response) -> list[str]:
    """The codings applied to the body, first applied first; ``identity`` left out."""
    found = []
    for value in response.headers.get_list("content-encoding", split_commas=True):
        coding = value.strip().lower()
        if coding and coding != "identity":
            found.append(coding)
    return found


class Decoder:
    """Undo a list of content codings, each step's output bounded by :data:`_PIECE`."""

    def __init__(self, encodings: list[str], url: str) -> None:
        for coding in encodings:
            if coding not in _GZIP and coding != "deflate":
                raise NetworkError(
                    f"{redact_url(url)} came {coding}-encoded, which roost did not ask for "
                    f"(it asks for {ACCEPTED_ENCODINGS}) and does not read"
                )
        # The last coding applied is the first undone.
        self._stages = [_Inflater(coding, url) for coding in reversed(encodings)]

    def feed(self, data: bytes) -> Iterator[bytes]:
        return self._through(0, data)

    def _through(self, stage: int, data: bytes) -> Iterator[bytes]:
        if stage == len(self._stages):
            if data:
                yield data
            return
        for piece in self._stages[stage].feed(data):
            yield from self._through(stage + 1, piece)


class _Inflater:
    """One gzip or deflate coding, inflated a bounded piece at a time."""

    def __init__(self, coding: str, url: str) -> None:
        self._coding = coding
        self._url = url
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16 if coding in _GZIP else zlib.MAX_WBITS)
        self._fed = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        first, self._fed = not self._fed, self._fed or bool(data)
        produced = False
        try:
            for piece in self._drain(data):
                produced = True
                yield piece
        except zlib.error as exc:
            if not (first and not produced and self._coding == "deflate"):
                raise self._damaged(exc) from None
            # "deflate" is meant to be the zlib format, but servers also send raw
            # deflate; only its first bytes can tell, as browsers and httpx find.
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            try:
                yield from self._drain(data)
            except zlib.error as again:
                raise self._damaged(again) from None

    def _drain(self, data: bytes) -> Iterator[bytes]:
        z = self._z
        while not z.eof:
            out = z.decompress(data, _PIECE)
            data = z.unconsumed_tail
            if out:
                yield out
            # A full piece may leave output inside zlib even with no input left.
            if not data and len(out) < _PIECE:
                return

    def _damaged(self, exc: zlib.error) -> NetworkError:
        return NetworkError(
            f"the {self._coding}-encoded body of {redact_url(self._url)} is damaged ({exc})"
        )
