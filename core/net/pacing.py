"""The progress rule: a response must bring at least :data:`PACE_BYTES` in every
``--timeout`` seconds, checked on every socket read, headers and body alike.

``--timeout`` alone bounds each read, so a server that sends one byte every half second
never trips it and a transfer lasts as long as the server likes (pip and uv behave so).
The rule here is curl's and cargo's "low speed limit" with the window tied to
``--timeout``: a transfer that brings fewer than 16 KiB in any window of ``--timeout``
seconds (from its first read) fails as stalled. Real slow links pass: the floor is about
1 KiB/s at the default 15 s, and a larger ``--timeout`` lowers it (60 s: 273 bytes/s),
while a big wheel on a fast-enough link takes as long as it needs. A read waits at most
until the end of a window that still lacks bytes, so a trickle fails within one window
of the timeout, not one read timeout per byte.

Reads are paced through an httpcore network backend that wraps every connection's
stream; the rule in force is the calling thread's (:func:`start`, :func:`stop`), which
is the one request that thread is sending, as httpx's sync client does everything in
the calling thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import httpcore

if TYPE_CHECKING:
    import ssl

#: What each window of ``--timeout`` seconds must bring; a working link takes far less.
PACE_BYTES = 16 * 1024

_local = threading.local()


class SlowTransfer(Exception):
    """A response brought fewer than :data:`PACE_BYTES` in a window of the timeout."""

    def __init__(self, received: int, seconds: float) -> None:
        super().__init__(f"{received} bytes in {seconds:.1f} s")
        self.received = received
        self.seconds = seconds


class Pace:
    """The progress of one request, window by window."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._start: float | None = None
        self._received = 0

    def allowance(self, now: float) -> float | None:
        """How long the next read may wait before the window is judged; None once the
        window has its bytes (the read timeout alone applies then).

        :raises SlowTransfer: when the window has ended without its bytes.
        """
        if self._start is None:
            # The first read waits for the answer: connecting has its own timeout.
            self._start = now
        if now - self._start >= self.window:
            if self._received < PACE_BYTES:
                raise SlowTransfer(self._received, now - self._start)
            self._start, self._received = now, 0
        if self._received >= PACE_BYTES:
            return None
        return self._start + self.window - now

    def stalled(self, now: float) -> SlowTransfer:
        """The failure of a read that waited for the whole rest of its window."""
        return SlowTransfer(self._received, now - (self._start or now))

    def received(self, count: int) -> None:
        self._received += count


def start(window: float) -> Pace | None:
    """Pace this thread's reads by *window*; returns what :func:`stop` restores."""
    previous: Pace | None = getattr(_local, "pace", None)
    _local.pace = Pace(window)
    return previous


def stop(previous: Pace | None) -> None:
    _local.pace = previous


class PacedStream(httpcore.NetworkStream):
    """A connection's stream whose reads follow the calling thread's :class:`Pace`."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        pace: Pace | None = getattr(_local, "pace", None)
        if pace is None:
            return self._inner.read(max_bytes, timeout)
        allowance = pace.allowance(time.monotonic())
        if allowance is None or (timeout is not None and timeout <= allowance):
            data = self._inner.read(max_bytes, timeout)
        else:
            try:
                # A zero timeout would make the socket non-blocking instead.
                data = self._inner.read(max_bytes, max(allowance, 0.001))
            except httpcore.ReadTimeout:
                raise pace.stalled(time.monotonic()) from None
        pace.received(len(data))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return PacedStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class PacedBackend(httpcore.NetworkBackend):
    """Connects as *inner* does, with every stream paced."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return PacedStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        return PacedStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def pace_transport(transport: object) -> None:
    """Make the connections *transport* (an ``httpx.HTTPTransport``) opens from now on
    paced. httpx builds its httpcore pool itself and offers no public way to give it a
    network backend, hence the private attributes; without them nothing is paced and
    ``--timeout`` bounds each read only, as before."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, PacedBackend) or not isinstance(backend, httpcore.NetworkBackend):
        return
    if pool is not None:
        pool._network_backend = PacedBackend(backend)
