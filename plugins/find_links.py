"""``--find-links``: a local folder of distributions, or an HTML page of links to them.

Unlike an index, a find-links location is not per project: every file is listed
together and the ones whose name matches the project are kept. A page is fetched
once per HTTP client, not once per project.
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from roost.errors import IndexAccessError
from roost.hookspecs import hookimpl
from roost.types import IndexSource, Link, NormalizedName, ProjectLinks, file_url_path, redact_url

if TYPE_CHECKING:
    from roost.types import HttpClient

_pages: weakref.WeakKeyDictionary[HttpClient, dict[str, tuple[Link, ...] | None]] = (
    weakref.WeakKeyDictionary()
)
_pages_lock = threading.Lock()


def distribution_name(filename: str) -> NormalizedName | None:
    """The normalised project name of a wheel or sdist filename, None for anything else."""
    try:
        if filename.endswith(".whl"):
            return NormalizedName(parse_wheel_filename(filename)[0])
        if filename.endswith((".tar.gz", ".zip")):
            return NormalizedName(canonicalize_name(parse_sdist_filename(filename)[0]))
    except ValueError:  # invalid filename or version
        return None
    return None


def _directory_links(directory: Path, source: IndexSource) -> tuple[Link, ...]:
    links = []
    for entry in sorted(directory.iterdir()):
        if entry.is_file():
            links.append(Link(url=entry.absolute().as_uri(), filename=entry.name, source=source))
    return tuple(links)


def _read_page(source: IndexSource, client: HttpClient) -> tuple[Link, ...] | None:
    """Every link of an HTML find-links page; None when the page does not exist."""
    from roost.pages import parse_html_page

    scheme = urlsplit(source.url).scheme.lower()
    if scheme == "file":
        path = Path(file_url_path(source.url))
        try:
            text = path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise IndexAccessError(f"cannot read the find-links page {path}: {exc}") from exc
        return tuple(parse_html_page(text, path.absolute().as_uri(), source))
    response = client.get(source.url, headers={"Accept": "text/html"})
    if response.status_code == 404:
        return None
    if not 200 <= response.status_code < 300:
        raise IndexAccessError(
            f"the find-links page {redact_url(source.url)} answered "
            f"{response.status_code} {response.reason_phrase}"
        )
    return tuple(parse_html_page(response.text, str(response.url), source))


def _cached_page(source: IndexSource, client: HttpClient) -> tuple[Link, ...] | None:
    try:
        with _pages_lock:
            pages = _pages.setdefault(client, {})
    except TypeError:  # a client that cannot be weakly referenced is not cached
        return _read_page(source, client)
    if source.url not in pages:
        # Two threads may both read a page the first time; the result is the same.
        pages[source.url] = _read_page(source, client)
    return pages[source.url]


def all_links(source: IndexSource, client: HttpClient) -> tuple[Link, ...] | None:
    """Every file a find-links location offers, None when the location does not exist."""
    scheme = urlsplit(source.url).scheme.lower()
    if scheme == "file":
        path = Path(file_url_path(source.url))
        if path.is_dir():
            try:
                return _directory_links(path, source)
            except OSError as exc:
                raise IndexAccessError(f"cannot list the find-links folder {path}: {exc}") from exc
        if not path.exists():
            return None
    elif scheme not in ("http", "https"):
        return None
    return _cached_page(source, client)


@hookimpl(trylast=True)
def roost_index_lookup(
    project: NormalizedName, source: IndexSource, client: HttpClient
) -> ProjectLinks | None:
    """The files of *project* in a find-links folder or page; None for other kinds."""
    if source.kind != "find-links":
        return None
    scheme = urlsplit(source.url).scheme.lower()
    if scheme not in ("file", "http", "https"):
        return None
    links = all_links(source, client)
    wanted = NormalizedName(canonicalize_name(project))
    matching = tuple(link for link in links or () if distribution_name(link.filename) == wanted)
    return ProjectLinks(project, source, matching, found=bool(matching))
