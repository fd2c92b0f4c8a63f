"""Serve a :class:`PackageIndex` over HTTP(S) on 127.0.0.1, in a thread.

Routes: ``/simple/`` (project list), ``/simple/<project>/`` (PEP 691 content
negotiation between JSON and PEP 503 HTML, or ``?format=``; a non-normalized name
answers 301 to the normalized URL), ``/files/<file>`` (distributions and their PEP 658
``.metadata``, with HTTP Range support). Pages are rendered for each request, so a file
:meth:`IndexServer.add` added is served at once. Every request is recorded in
:attr:`IndexServer.requests`. :meth:`IndexServer.set_fault` makes chosen paths
misbehave (error statuses, truncated bodies, resets, delays), for testing how a client
copes with a failing index.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import fnmatch
import re
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from packaging.utils import canonicalize_name

from roost.testing.index import PackageIndex
from roost.testing.wheels import WheelSpec

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
TEXT_HTML = "text/html"
# Concrete media types in the order the server prefers them when q-values tie.
_MEDIA = ((JSON_V1, "json"), (HTML_V1, "html"), (TEXT_HTML, "html"))
_ALIASES = {
    "application/vnd.pypi.simple.latest+json": JSON_V1,
    "application/vnd.pypi.simple.latest+html": HTML_V1,
}


@dataclass(frozen=True)
class RequestRecord:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Fault:
    """How a path misbehaves, for the first ``times`` matching requests (None: always).

    ``status``: answer this status (with ``retry_after`` as Retry-After if given).
    ``truncate_after``: send the real headers but only this many body bytes, then close.
    ``reset``: like ``truncate_after`` (default 0 bytes) but abort with a TCP reset.
    ``delay``: seconds to wait before answering at all.
    """

    status: int | None = None
    times: int | None = 1
    retry_after: int | str | None = None
    truncate_after: int | None = None
    reset: bool = False
    delay: float = 0.0
    hits: int = field(default=0, compare=False)


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """``Accept`` as (media type, q) pairs.

    A missing header prefers ``text/html`` (what pre-PEP 691 clients expect) but takes
    anything, as HTTP says.
    """
    if not header:
        return [(TEXT_HTML, 1.0), ("*/*", 0.01)]
    result = []
    for part in header.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        result.append((_ALIASES.get(media.lower(), media.lower()), q))
    return result


def negotiate(accept: str | None, formats: frozenset[str]) -> str | None:
    """The media type to answer with, or None when nothing acceptable can be served.

    Each media type takes the q of the most specific Accept range matching it (RFC 9110);
    ties go to the server's preference: JSON, then the v1 HTML type, then text/html.
    """
    ranges = parse_accept(accept)
    best: tuple[float, int, str] | None = None
    for rank, (media, fmt) in enumerate(_MEDIA):
        if fmt not in formats:
            continue
        matching = [(_specificity(wanted, media), q) for wanted, q in ranges]
        matching = [(spec, q) for spec, q in matching if spec >= 0]
        if not matching:
            continue
        top = max(spec for spec, _ in matching)
        q = max(q for spec, q in matching if spec == top)
        if q > 0 and (best is None or (q, -rank) > (best[0], best[1])):
            best = (q, -rank, media)
    return best[2] if best else None


def _specificity(wanted: str, media: str) -> int:
    """2 for an exact match, 1 for ``type/*``, 0 for ``*/*``, -1 for no match."""
    if wanted == media:
        return 2
    if wanted == "*/*":
        return 0
    major, _, minor = wanted.partition("/")
    return 1 if minor == "*" and media.startswith(major + "/") else -1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: IndexServer

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        context = self.owner.ssl_context
        if context is not None:
            # Handshake in the handler thread, so a stuck client cannot block accept().
            sock = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-answer are routine in fault tests; stay quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    # Idle keep-alive connections end on their own, so stop() never waits forever.
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.server.owner._connections.add(self.connection)

    def finish(self) -> None:
        self.server.owner._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self.server.owner._handle(self, head=False)

    def do_HEAD(self) -> None:
        self.server.owner._handle(self, head=True)


class IndexServer:
    """Serve a PackageIndex over HTTP(S) on 127.0.0.1 with a random port, in a thread."""

    def __init__(
        self,
        index: PackageIndex,
        *,
        formats: frozenset[str] = frozenset({"json", "html"}),
        auth: tuple[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        absolute_links: bool = False,
    ) -> None:
        self.index = index
        self.formats = formats
        self.auth = auth
        self.ssl_context = ssl_context
        self.absolute_links = absolute_links
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._faults: list[tuple[str, Fault]] = []
        self._connections: set[socket.socket] = set()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> IndexServer:
        """Bind to a free loopback port and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open keep-alive connections and close the socket."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        for conn in list(self._connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The loopback port the server listens on."""
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` (https with an SSL context)."""
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The index URL: ``<root_url>/simple``."""
        return f"{self.root_url}/simple"

    # What is served

    def add(
        self,
        distribution: Path | WheelSpec,
        *,
        yanked: str | None = None,
        metadata: bool = True,
        upload_time: datetime.datetime | str | None = None,
    ) -> None:
        """Serve *distribution* from the next request on.

        A wheel (``.whl``, or a :class:`WheelSpec` to build) is listed with its
        Requires-Python and a PEP 658 metadata file (none with ``metadata=False``);
        an sdist (``.tar.gz``, ``.zip``) is listed as it is. ``yanked``: a reason
        (``""`` for none) marks the file yanked (PEP 592). ``upload_time``: an aware
        datetime the JSON page gives as PEP 700 ``upload-time`` (ISO 8601, UTC, ``Z``);
        without it the page says nothing of when the file was uploaded.
        """
        if isinstance(distribution, WheelSpec) or distribution.name.endswith(".whl"):
            self.index.add(distribution, yanked=yanked, metadata=metadata, upload_time=upload_time)
        elif distribution.name.endswith((".tar.gz", ".zip")):
            if not distribution.is_file():
                raise FileNotFoundError(f"no such distribution: {distribution}")
            self.index.add_file(distribution, yanked=yanked, upload_time=upload_time)
        else:
            raise ValueError(
                f"{distribution.name}: not a wheel (.whl) or an sdist (.tar.gz, .zip)"
            )

    # Test hooks

    def set_fault(self, path_glob: str, fault: Fault) -> None:
        """Make requests whose path matches *path_glob* (fnmatch) misbehave as *fault* says."""
        with self._lock:
            self._faults.append((path_glob, fault))

    def clear_faults(self) -> None:
        """Forget every fault set so far."""
        with self._lock:
            self._faults.clear()

    def clear_requests(self) -> None:
        """Forget the requests recorded so far."""
        with self._lock:
            self.requests.clear()

    def requests_for(self, glob: str) -> list[RequestRecord]:
        """The recorded requests whose path matches *glob*."""
        with self._lock:
            return [r for r in self.requests if fnmatch.fnmatchcase(r.path, glob)]

    # Request handling

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for glob, fault in self._faults:
                if fnmatch.fnmatchcase(path, glob) and (
                    fault.times is None or fault.hits < fault.times
                ):
                    fault.hits += 1
                    return fault
        return None

    def _handle(self, handler: _Handler, *, head: bool) -> None:
        with self._lock:
            self.requests.append(
                RequestRecord(handler.command, handler.path, dict(handler.headers.items()))
            )
        split = urlsplit(handler.path)
        path = unquote(split.path)
        if self.auth is not None and not self._authorized(handler.headers.get("Authorization")):
            _send(
                handler,
                401,
                b"authentication required\n",
                head=head,
                headers={"WWW-Authenticate": 'Basic realm="roost-test"'},
            )
            return
        fault = self._take_fault(path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            _send(
                handler, fault.status, f"fault {fault.status}\n".encode(), head=head, headers=extra
            )
            return
        status, body, headers = self._route(handler, path, parse_qs(split.query))
        if fault is not None and (fault.truncate_after is not None or fault.reset):
            _send_broken(handler, status, body, headers, fault)
            return
        _send(handler, status, body, head=head, headers=headers)

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.lower().startswith("basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        return (user, password) == self.auth

    def _route(
        self, handler: _Handler, path: str, query: dict[str, list[str]]
    ) -> tuple[int, bytes, dict[str, str]]:
        if path.startswith("/files/"):
            return self._file(handler, path.removeprefix("/files/"))
        match = re.fullmatch(r"/simple(?:/([^/]+))?(/?)", path)
        if match is None:
            return 404, b"not found\n", {}
        project, slash = match.groups()
        if project is None and not slash:
            return 301, b"", {"Location": "/simple/"}
        accept = query.get("format", [handler.headers.get("Accept")])[0]
        media = negotiate(accept, self.formats)
        if project is None:
            if media is None:
                return 406, b"not acceptable\n", {}
            return 200, self._listing(media, None), {"Content-Type": media, "Vary": "Accept"}
        normalized = canonicalize_name(project)
        if normalized not in self.index.projects():
            return 404, b"no such project\n", {}
        if project != normalized or not slash:
            return 301, b"", {"Location": f"/simple/{normalized}/"}
        if media is None:
            return 406, b"not acceptable\n", {}
        return 200, self._listing(media, normalized), {"Content-Type": media, "Vary": "Accept"}

    def _listing(self, media: str, project: str | None) -> bytes:
        base = f"{self.root_url}/files/" if self.absolute_links else "../../files/"
        if project is None:
            text = (
                self.index.project_list_json()
                if media == JSON_V1
                else self.index.project_list_html()
            )
        elif media == JSON_V1:
            text = self.index.project_json(project, base)
        else:
            text = self.index.project_html(project, base)
        return text.encode()

    def _file(self, handler: _Handler, name: str) -> tuple[int, bytes, dict[str, str]]:
        folder = self.index.dists_dir
        target = folder / name
        if "/" in name or not name or not target.is_file():
            return 404, b"no such file\n", {}
        data = Path(target).read_bytes()
        headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
        range_header = handler.headers.get("Range")
        if range_header is None:
            return 200, data, headers
        span = _parse_range(range_header, len(data))
        if span is None:  # unparsable or several ranges: a server may answer in full
            return 200, data, headers
        if span == (-1, -1):
            return 416, b"", {**headers, "Content-Range": f"bytes */{len(data)}"}
        start, end = span
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        return 206, data[start : end + 1], headers


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte, inclusive; (-1, -1) if unsatisfiable; None to ignore it."""
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0:
            return (-1, -1)
        return (max(size - length, 0), size - 1)
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or (last != "" and int(last) < start):
        return (-1, -1)
    return (start, end)


def _send(
    handler: _Handler, status: int, body: bytes, *, head: bool, headers: dict[str, str]
) -> None:
    handler.send_response(status)
    headers = {"Content-Type": "text/plain; charset=utf-8", **headers}
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if not head:
        handler.wfile.write(body)


def _send_broken(
    handler: _Handler, status: int, body: bytes, headers: dict[str, str], fault: Fault
) -> None:
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(body[: fault.truncate_after or 0])
    handler.wfile.flush()
    handler.close_connection = True
    if fault.reset:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
