"""Serve a static simple index on 127.0.0.1 from a thread, choosing JSON or HTML by Accept.

A folder holding ``index.json`` and ``index.html`` (the pages bench/static_index.py
writes) answers with whichever the client prefers (PEP 691 negotiation); any other
path is a plain file. HTTP/1.1 keep-alive is on, as real indexes have it, so the
installers' connection pools behave as they would in the field.
"""

from __future__ import annotations

import posixpath
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

JSON_TYPES = ("application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.latest+json")
HTML_TYPES = (
    "application/vnd.pypi.simple.v1+html",
    "application/vnd.pypi.simple.latest+html",
    "text/html",
)
FILE_CACHE_CONTROL = "max-age=365000000, immutable, public"


def negotiate(accept: str | None) -> tuple[str, str]:
    """``(page file, content type)`` for an Accept header: the best-quality known type.

    No header, or only unknown types, gives HTML (what PEP 503 clients expect).
    """
    best: tuple[float, int, str, str] = (0.0, 0, "index.html", "text/html")
    for order, part in enumerate((accept or "").split(",")):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media in JSON_TYPES:
            choice = ("index.json", media)
        elif media in HTML_TYPES:
            choice = ("index.html", media)
        elif media in ("*/*", "application/*"):
            choice = ("index.html", "text/html")
        else:
            continue
        # Strictly greater: of equal qualities, the one listed first wins.
        if quality > best[0]:
            best = (quality, order, *choice)
    return best[2], best[3]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, a keep-alive client's
    # delayed ACK would stall every response ~40 ms and penalise connection reuse.
    disable_nagle_algorithm = True
    root: Path

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the benchmark's output is its table."""

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _send_empty(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _answer(self, *, body: bool) -> None:
        url_path = unquote(urlsplit(self.path).path)
        clean = posixpath.normpath(url_path).lstrip("/")
        if clean.startswith("..") or "\x00" in clean:
            self._send_empty(404)
            return
        target = self.root / clean if clean not in ("", ".") else self.root
        content_type = "application/octet-stream"
        page = False
        if target.is_dir():
            if not url_path.endswith("/"):
                self._send_empty(301, {"Location": url_path + "/"})
                return
            page_file, content_type = negotiate(self.headers.get("Accept"))
            target = target / page_file
            page = True
            if content_type == "text/html" or content_type.endswith("+html"):
                content_type += "; charset=utf-8"
        if not target.is_file():
            self._send_empty(404)
            return
        stat = target.stat()
        # Caching headers as a real index sends them, so each tool's HTTP cache is
        # exercised in the warm runs: files never change, pages are revalidated.
        headers = {
            "ETag": f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"',
            "Cache-Control": "max-age=600, public" if page else FILE_CACHE_CONTROL,
        }
        if page:
            headers["Vary"] = "Accept"
        if self.headers.get("If-None-Match") == headers["ETag"]:
            self.send_response(304)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(stat.st_size))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            with target.open("rb") as stream:
                shutil.copyfileobj(stream, self.wfile, 1 << 20)


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve *root* on a free loopback port while the block runs; yields the base URL."""
    handler = type("StaticIndexHandler", (_Handler,), {"root": root.resolve()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="bench-index", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
