"""Simple-repository lookup (PEP 503 HTML and PEP 691 JSON) over http(s) and file://.

Over HTTP the server chooses the format by content negotiation and roost picks
the parser by the response's Content-Type. A file:// index is a directory tree with
``<project>/index.html`` (what pip reads), or ``<project>/index.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from roost.errors import IndexAccessError
from roost.hookspecs import hookimpl
from roost.types import IndexSource, Link, NormalizedName, ProjectLinks, file_url_path, redact_url

if TYPE_CHECKING:
    from roost.types import HttpClient

ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
_JSON_TYPES = frozenset(
    {
        "application/vnd.pypi.simple.v1+json",
        "application/vnd.pypi.simple.latest+json",
        "application/json",
    }
)
_HTML_TYPES = frozenset(
    {
        "application/vnd.pypi.simple.v1+html",
        "application/vnd.pypi.simple.latest+html",
        "text/html",
    }
)


def parse_by_content_type(
    content_type: str, body: bytes, text: str, page_url: str, source: IndexSource
) -> list[Link]:
    """Pick the PEP 691 or PEP 503 parser for a response's Content-Type."""
    from roost.pages import parse_html_page, parse_json_page

    media = content_type.partition(";")[0].strip().lower()
    if media in _JSON_TYPES:
        return parse_json_page(body, page_url, source)
    if media in _HTML_TYPES:
        return parse_html_page(text, page_url, source)
    raise IndexAccessError(
        f"the index page {redact_url(page_url)} has content type {media or '(none)'!r}; "
        "roost reads PEP 691 JSON and PEP 503 HTML pages only"
    )


def _lookup_http(project: NormalizedName, source: IndexSource, client: HttpClient) -> ProjectLinks:
    url = f"{source.url.rstrip('/')}/{project}/"
    response = client.get(url, headers={"Accept": ACCEPT})
    if response.status_code == 404:
        return ProjectLinks(project, source, found=False)
    if not 200 <= response.status_code < 300:
        raise IndexAccessError(
            f"the index {source.display} answered {response.status_code} "
            f"{response.reason_phrase} for {redact_url(url)}"
        )
    page_url = str(response.url)
    links = parse_by_content_type(
        response.headers.get("content-type", ""),
        response.content,
        response.text,
        page_url,
        source,
    )
    return ProjectLinks(project, source, tuple(links))


def _lookup_file(project: NormalizedName, source: IndexSource) -> ProjectLinks:
    from roost.pages import parse_html_page, parse_json_page

    project_dir = Path(file_url_path(source.url)) / project
    page_url = project_dir.absolute().as_uri() + "/"
    html_page = project_dir / "index.html"
    json_page = project_dir / "index.json"
    try:
        if html_page.is_file():
            text = html_page.read_bytes().decode("utf-8", errors="replace")
            links = parse_html_page(text, page_url, source)
        elif json_page.is_file():
            links = parse_json_page(json_page.read_bytes(), page_url, source)
        else:
            return ProjectLinks(project, source, found=False)
    except OSError as exc:
        raise IndexAccessError(
            f"cannot read the index page for {project} in {source.display}: {exc}"
        ) from exc
    return ProjectLinks(project, source, tuple(links))


@hookimpl(trylast=True)
def roost_index_lookup(
    project: NormalizedName, source: IndexSource, client: HttpClient
) -> ProjectLinks | None:
    """What a simple index lists for *project*; None for sources of other kinds."""
    if source.kind != "index":
        return None
    scheme = urlsplit(source.url).scheme.lower()
    if scheme in ("http", "https"):
        return _lookup_http(project, source, client)
    if scheme == "file":
        return _lookup_file(project, source)
    return None
