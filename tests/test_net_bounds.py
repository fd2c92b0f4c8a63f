"""Hostile bodies end in a clear error, within bounds of memory and time.

A gzip bomb served as an index page or a PEP 658 metadata file stops at the size limit
(in bounded memory: roost runs under an address-space limit well below the bomb); a
wheel that declares more than the download limit is refused before it is read; bodies
and headers trickled a byte every half second fail within the ``--timeout`` window
instead of running for ever, while a slow but steady download still works. A hostile
server of our own on 127.0.0.1, roost as a real process on a real venv.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import random
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.envs import ROOST_COMMAND, installed, manifest
from tests.support.index import PackageIndex
from tests.support.wheels import WheelSpec

#: What an answer may do to the connection; it returns when done or when the server stops.
Behaviour = Callable[[BaseHTTPRequestHandler, threading.Event], None]

PAGE = "/simple/delta/"
#: A bomb inflates to this: 2 GiB of zeros.
BOMB_SIZE = 2 << 30
#: roost's address space in the bomb tests: far below the bomb, far above its limits.
MEMORY = 1536 << 20
#: Runs that a bug would keep going are ended here; the server stops trickling too.
RUN_TIMEOUT = 60
#: A launcher that puts roost under an address-space limit (no preexec_fn: the test
#: process runs server threads).
LIMITED = [
    sys.executable,
    "-c",
    "import os, resource, sys; n = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_AS, (n, n)); os.execv(sys.argv[2], sys.argv[2:])",
]


def gzip_of_zeros(size: int) -> bytes:
    """A valid gzip member of *size* zero bytes (a multiple of 1 MiB), built in a second.

    After a full flush a deflate block refers to nothing before it, so one block of
    1 MiB of zeros (about 1 KiB) repeated is the whole stream; the trailer's CRC is
    computed over the same 1 MiB again and again.
    """
    piece = 1 << 20
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(bytes(piece)) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc, zeros = 0, bytes(piece)
    for _ in range(size // piece):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return header + block * (size // piece) + compressor.flush() + trailer


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """About 2 MB of gzip that inflates to 2 GiB."""
    return gzip_of_zeros(BOMB_SIZE)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: HostileServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up on a hostile answer is the point


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = RUN_TIMEOUT + 15

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.owner.answer(self)


class HostileServer:
    """The corpus's pages (HTML) and files, except the paths given a :data:`Behaviour`."""

    def __init__(self, index: PackageIndex, routes: dict[str, Behaviour]) -> None:
        self.index = index
        self.routes = routes
        self.requests: list[str] = []
        self.stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        # Credentials in the URL: every message must show them redacted.
        return f"http://tester:s3cret-pw@127.0.0.1:{self.port}/simple"

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        self.requests.append(path)
        behaviour = self.routes.get(path)
        if behaviour is not None:
            handler.close_connection = True
            with contextlib.suppress(OSError):
                behaviour(handler, self.stopping)
            return
        if path.startswith("/simple/") and path.count("/") == 3:
            body = page(self.index, path.split("/")[2])
            send(handler, body, {"Content-Type": "text/html"})
        elif path.startswith("/files/") and (self.index.dists_dir / path[7:]).is_file():
            send(handler, (self.index.dists_dir / path[7:]).read_bytes(), {})
        else:
            send(handler, b"not found\n", {}, status=404)


def page(index: PackageIndex, project: str) -> bytes:
    return index.project_html(project).encode()


def send(
    handler: BaseHTTPRequestHandler, body: bytes, headers: dict[str, str], status: int = 200
) -> None:
    handler.send_response(status)
    for name, value in {"Content-Length": str(len(body)), **headers}.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def encoded(body: bytes, encoding: str, media: str = "text/html") -> Behaviour:
    """Answer *body* as it is, saying it is *encoding*-encoded."""

    def behave(handler: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        send(handler, body, {"Content-Type": media, "Content-Encoding": encoding})

    return behave


def trickle(body: bytes, *, head_too: bool = False, step: float = 0.5) -> Behaviour:
    """Send one byte every *step* seconds: the body after prompt headers, or the whole
    answer headers included; until the client hangs up, or the server stops."""

    def behave(handler: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        if not head_too:
            handler.wfile.write(head)
        for byte in head + body if head_too else body:
            if stopping.wait(step):
                return
            handler.wfile.write(bytes([byte]))

    return behave


def steady(body: bytes, rate: int) -> Behaviour:
    """Send *body* at about *rate* bytes a second, in pieces a tenth of a second apart."""

    def behave(handler: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        handler.wfile.write(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        piece = max(1, rate // 10)
        for at in range(0, len(body), piece):
            if stopping.wait(0.1):
                return
            handler.wfile.write(body[at : at + piece])

    return behave


def declares(size: int) -> Behaviour:
    """Declare a *size*-byte body, send 64 KiB of it, and hold the connection."""

    def behave(handler: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        handler.wfile.write(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
        handler.wfile.write(bytes(64 << 10))
        stopping.wait(RUN_TIMEOUT + 10)

    return behave


def wheel_path(index: PackageIndex, project: str) -> str:
    (wheel,) = index.dists_dir.glob(f"{project}-*.whl")
    return f"/files/{wheel.name}"


Serve = Callable[..., "HostileServer"]


@pytest.fixture
def serve(corpus_index: PackageIndex) -> Iterator[Serve]:
    """Start a :class:`HostileServer` over the corpus (or *index*) for this test."""
    servers: list[HostileServer] = []

    def start(routes: dict[str, Behaviour], index: PackageIndex | None = None) -> HostileServer:
        server = HostileServer(index or corpus_index, routes).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()


def install(
    venv: Path, server: HostileServer, *extra: str, env: dict[str, str], project: str = "delta"
) -> tuple[int, str]:
    """``roost install PROJECT`` with no retries, under :data:`MEMORY` of address space;
    the exit status and the output. A run still going after RUN_TIMEOUT fails the test."""
    args = ["install", "--python", str(venv), "-i", server.url, "--retries", "0", *extra, project]
    try:
        result = subprocess.run(
            [*LIMITED, str(MEMORY), *ROOST_COMMAND, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"roost was still running after {RUN_TIMEOUT} s")
    return result.returncode, result.stdout + result.stderr


def refused(code: int, output: str, *words: str) -> None:
    """A clear failure: non-zero, no traceback, no password, and each of *words*
    (file links are relative, so only page URLs carry the login, shown redacted)."""
    assert code != 0, output
    assert "Traceback" not in output, output
    assert "s3cret-pw" not in output, output
    for word in words:
        assert word in output, output


@pytest.mark.parametrize("encoding", ["gzip", "gzip, gzip"])
def test_a_gzip_bomb_page_stops_at_the_page_limit(
    venv: Path,
    serve: Serve,
    bomb: bytes,
    encoding: str,
    tmp_home: dict[str, str],
) -> None:
    # Twice gzipped, the whole 2 GiB is in one network read: httpx would inflate it in
    # one call before anyone counted.
    body = bomb if encoding == "gzip" else gzip.compress(bomb)
    server = serve({PAGE: encoded(body, encoding)})
    before = manifest(venv.parent.parent)
    code, output = install(venv, server, env=tmp_home)
    refused(code, output, f"tester:****@127.0.0.1:{server.port}{PAGE} grew past 128 MiB")
    assert manifest(venv.parent.parent) == before


def test_a_gzip_bomb_metadata_file_stops_at_the_limit(
    venv: Path,
    serve: Serve,
    corpus_index: PackageIndex,
    bomb: bytes,
    tmp_home: dict[str, str],
) -> None:
    wheel = wheel_path(corpus_index, "delta")
    # The page itself comes gzipped too, and must read as the page it is.
    server = serve(
        {
            PAGE: encoded(gzip.compress(page(corpus_index, "delta")), "gzip"),
            wheel + ".metadata": encoded(bomb, "gzip", "application/octet-stream"),
        }
    )
    before = manifest(venv.parent.parent)
    code, output = install(venv, server, env=tmp_home)
    # PEP 658 files have a limit of their own, below the page limit.
    refused(code, output, f"{wheel}.metadata grew past 16 MiB")
    assert server.requests.count(wheel) == 0
    assert manifest(venv.parent.parent) == before


def test_a_wheel_declaring_more_than_the_limit_is_not_read(
    venv: Path,
    serve: Serve,
    corpus_index: PackageIndex,
    tmp_home: dict[str, str],
) -> None:
    # nometa offers no PEP 658 file, so its wheel is fetched whole.
    wheel = wheel_path(corpus_index, "nometa")
    server = serve({wheel: declares(32 << 30)})
    before = manifest(venv.parent.parent)
    code, output = install(venv, server, "--timeout", "30", env=tmp_home, project="nometa")
    refused(code, output, "declares a body of 32 GiB, more than the 16 GiB roost reads")
    assert manifest(venv.parent.parent) == before


@pytest.mark.parametrize("head_too", [False, True], ids=["body", "headers-and-body"])
def test_a_trickled_page_fails_within_the_timeout_window(
    venv: Path,
    serve: Serve,
    corpus_index: PackageIndex,
    head_too: bool,
    tmp_home: dict[str, str],
) -> None:
    server = serve({PAGE: trickle(page(corpus_index, "delta") * 10, head_too=head_too)})
    before = manifest(venv.parent.parent)
    code, output = install(venv, server, "--timeout", "2", env=tmp_home)
    shown = f"tester:****@127.0.0.1:{server.port}{PAGE}"
    refused(code, output, f"{shown} after 1 attempt(s): the transfer stalled", "--timeout")
    assert manifest(venv.parent.parent) == before


def test_a_trickled_wheel_fails_within_the_timeout_window(
    venv: Path,
    serve: Serve,
    corpus_index: PackageIndex,
    tmp_home: dict[str, str],
) -> None:
    wheel = wheel_path(corpus_index, "nometa")
    data = (corpus_index.dists_dir / wheel[7:]).read_bytes()
    server = serve({wheel: trickle(data)})
    before = manifest(venv.parent.parent)
    code, output = install(venv, server, "--timeout", "2", env=tmp_home, project="nometa")
    refused(code, output, f"{wheel} after 1 attempt(s): the transfer stalled", "--timeout")
    assert manifest(venv.parent.parent) == before


def test_a_slow_but_steady_wheel_still_installs(
    venv: Path, serve: Serve, tmp_path: Path, tmp_home: dict[str, str]
) -> None:
    # A guard for the rule, not a failure before it: 24 KiB/s is three times the floor
    # of --timeout 2 (16 KiB in every 2 s), and the 96 KiB wheel spans several windows.
    index = PackageIndex(tmp_path / "index")
    blob = random.Random(16).randbytes(96 << 10)  # random: the zip cannot shrink it
    index.add(WheelSpec("bulky", "1.0", files={"bulky/blob.bin": blob}), metadata=False)
    index.write()
    wheel = wheel_path(index, "bulky")
    data = (index.dists_dir / wheel[7:]).read_bytes()
    server = serve({wheel: steady(data, 24 << 10)}, index)
    code, output = install(venv, server, "--timeout", "2", env=tmp_home, project="bulky")
    assert code == 0, output
    assert installed(venv) == {"bulky": "1.0"}


def test_the_decoder_inflates_in_bounded_pieces(bomb: bytes) -> None:
    from roost.errors import NetworkError
    from roost.net.bounded import Decoder

    url = "http://127.0.0.1:1/simple/delta/"
    text = b"<html>" + bytes(range(256)) * 4000 + b"</html>"
    raw = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    cases = [
        (["gzip"], gzip.compress(text)),
        (["deflate"], zlib.compress(text)),
        (["deflate"], raw.compress(text) + raw.flush()),  # raw deflate, as some servers send
        (["x-gzip", "deflate"], zlib.compress(gzip.compress(text))),
        (["identity"], text),
    ]
    for encodings, body in cases:
        decoder = Decoder([e for e in encodings if e != "identity"], url)
        out = [p for at in range(0, len(body), 1000) for p in decoder.feed(body[at : at + 1000])]
        assert b"".join(out) == text, encodings
    # Twice gzipped, 2 GiB arrive in one read; what comes out comes a bounded piece at a
    # time, so nothing is inflated beyond what the caller takes.
    pieces = itertools.islice(Decoder(["gzip", "gzip"], url).feed(gzip.compress(bomb)), 8)
    assert [len(piece) for piece in pieces] == [256 << 10] * 8
    with pytest.raises(NetworkError, match="br-encoded, which roost did not ask for"):
        Decoder(["br"], url)
    with pytest.raises(NetworkError, match=r"gzip-encoded body of .* is damaged"):
        list(Decoder(["gzip"], url).feed(b"\x1f\x8b not gzip at all"))
