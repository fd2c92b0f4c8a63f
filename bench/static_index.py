"""Write a static simple index (PEP 503 HTML and PEP 691 JSON) for wheels and sdists.

Layout under the index root::

    files/<wheel or sdist>        the file (hard-linked when possible)
    files/<wheel>.metadata        a wheel's METADATA, offered per PEP 658 / PEP 714
    simple/index.html|json        the project list
    simple/<project>/index.html   PEP 503 page; links relative (``../../files/...``)
    simple/<project>/index.json   PEP 691 (API 1.1) page

Every link carries the file's sha256 and every metadata file its own sha256, so the
installers verify what they download exactly as they would against a real index.
Sdists (``.tar.gz``, ``.zip``) are listed without a metadata file, as PyPI lists most
of them: an installer has to fetch one, and usually run its backend, to learn its
dependencies.
"""

from __future__ import annotations

import email.parser
import hashlib
import html
import json
import os
import re
import shutil
import tarfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import quote

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

API_VERSION = "1.1"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
#: The archive kinds an index lists besides wheels (PEP 625 allows only .tar.gz now;
#: older sdists on PyPI are .zip too).
SDIST_SUFFIXES = (".tar.gz", ".zip")
#: A PKG-INFO is a few kilobytes; anything far larger is not one worth reading.
MAX_PKG_INFO = 1 << 20


@dataclass(frozen=True)
class IndexEntry:
    """One file (a wheel or an sdist) as the index lists it."""

    filename: str
    project: str  # normalized
    display_name: str
    version: str
    sha256: str
    size: int
    requires_python: str | None
    #: The sha256 of the PEP 658 metadata file; None for an sdist, which has none.
    metadata_sha256: str | None


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel_metadata(wheel: Path) -> bytes:
    """The bytes of *wheel*'s top-level ``.dist-info/METADATA``."""
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if re.fullmatch(r"[^/]+\.dist-info/METADATA", name):
                return archive.read(name)
    raise ValueError(f"{wheel} has no .dist-info/METADATA")


def _place(source: Path, target: Path) -> None:
    if target.exists() and target.stat().st_size == source.stat().st_size:
        return
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def sdist_pkg_info(sdist: Path) -> bytes | None:
    """The bytes of *sdist*'s top-level ``PKG-INFO`` (``<name>-<version>/PKG-INFO``), or
    None when it has none (very old sdists) or it is not a regular file of sane size."""
    top_level = re.compile(r"[^/]+/PKG-INFO")
    if sdist.name.endswith(".zip"):
        with zipfile.ZipFile(sdist) as archive:
            for info in archive.infolist():
                if top_level.fullmatch(info.filename) and info.file_size <= MAX_PKG_INFO:
                    return archive.read(info)
        return None
    with tarfile.open(sdist, "r:*") as archive:
        for member in archive:
            if top_level.fullmatch(member.name) and member.isfile():
                if member.size > MAX_PKG_INFO:
                    return None
                stream = archive.extractfile(member)
                return stream.read() if stream is not None else None
    return None


def _requires_python(fields: Message) -> str | None:
    value = str(fields.get("Requires-Python") or "").strip()
    return value or None


def add_sdist(sdist: Path, files_dir: Path) -> IndexEntry:
    """Put *sdist* into *files_dir*; describe it (Requires-Python from its PKG-INFO)."""
    files_dir.mkdir(parents=True, exist_ok=True)
    target = files_dir / sdist.name
    _place(sdist, target)
    name, version = parse_sdist_filename(sdist.name)
    pkg_info = sdist_pkg_info(target)
    fields = email.parser.BytesParser().parsebytes(pkg_info or b"", headersonly=True)
    return IndexEntry(
        filename=sdist.name,
        project=canonicalize_name(name),
        display_name=str(fields.get("Name", name)),
        version=str(version),
        sha256=_sha256_file(target),
        size=target.stat().st_size,
        requires_python=_requires_python(fields),
        metadata_sha256=None,
    )


def add_file(path: Path, files_dir: Path) -> IndexEntry:
    """:func:`add_wheel` or :func:`add_sdist`, by *path*'s suffix."""
    if path.name.endswith(".whl"):
        return add_wheel(path, files_dir)
    if path.name.endswith(SDIST_SUFFIXES):
        return add_sdist(path, files_dir)
    raise ValueError(f"{path.name} is neither a wheel nor an sdist ({', '.join(SDIST_SUFFIXES)})")


def add_wheel(wheel: Path, files_dir: Path) -> IndexEntry:
    """Put *wheel* and its ``.metadata`` file into *files_dir*; describe it."""
    files_dir.mkdir(parents=True, exist_ok=True)
    target = files_dir / wheel.name
    _place(wheel, target)
    meta = wheel_metadata(target)
    (files_dir / (wheel.name + ".metadata")).write_bytes(meta)
    fields = email.parser.BytesParser().parsebytes(meta, headersonly=True)
    name, version, _, _ = parse_wheel_filename(wheel.name)
    return IndexEntry(
        filename=wheel.name,
        project=canonicalize_name(name),
        display_name=str(fields.get("Name", name)),
        version=str(version),
        sha256=_sha256_file(target),
        size=target.stat().st_size,
        requires_python=_requires_python(fields),
        metadata_sha256=hashlib.sha256(meta).hexdigest(),
    )


def _href(entry: IndexEntry) -> str:
    # Local versions put "+" in names; quoting keeps every client reading the same URL.
    return "../../files/" + quote(entry.filename)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f'<meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{body}</body>\n</html>\n"
    )


def project_html(project: str, entries: list[IndexEntry]) -> str:
    """The PEP 503 page of *project* (with PEP 658/714 metadata attributes)."""
    links = []
    for entry in entries:
        attrs = [f'href="{html.escape(_href(entry) + "#sha256=" + entry.sha256)}"']
        if entry.requires_python:
            attrs.append(f'data-requires-python="{html.escape(entry.requires_python)}"')
        if entry.metadata_sha256 is not None:
            meta = f"sha256={entry.metadata_sha256}"
            attrs.append(f'data-core-metadata="{meta}" data-dist-info-metadata="{meta}"')
        links.append(f"<a {' '.join(attrs)}>{html.escape(entry.filename)}</a><br/>\n")
    return _page(f"Links for {project}", "".join(links))


def project_json(project: str, entries: list[IndexEntry]) -> str:
    """The PEP 691 (API 1.1) page of *project*."""
    files: list[dict[str, object]] = []
    for entry in entries:
        record: dict[str, object] = {
            "filename": entry.filename,
            "url": _href(entry),
            "hashes": {"sha256": entry.sha256},
            "size": entry.size,
            "yanked": False,
        }
        # PEP 714: a file without metadata leaves the keys out (absent means none).
        if entry.metadata_sha256 is not None:
            core = {"sha256": entry.metadata_sha256}
            record["core-metadata"] = core
            record["dist-info-metadata"] = core
        if entry.requires_python:
            record["requires-python"] = entry.requires_python
        files.append(record)
    versions = sorted({e.version for e in entries}, key=Version)
    page = {"meta": {"api-version": API_VERSION}, "name": project, "files": files}
    page["versions"] = versions
    return json.dumps(page, indent=1)


def write_index(files: Iterable[Path], root: Path) -> list[IndexEntry]:
    """Write the static index of *files* (wheels and sdists) under *root* (replacing its
    pages); list them."""
    entries = sorted((add_file(f, root / "files") for f in files), key=lambda e: e.filename)
    simple = root / "simple"
    if simple.exists():
        shutil.rmtree(simple)
    simple.mkdir(parents=True)
    by_project: dict[str, list[IndexEntry]] = {}
    for entry in entries:
        by_project.setdefault(entry.project, []).append(entry)
    names = {p: found[0].display_name for p, found in sorted(by_project.items())}
    listing = "".join(
        f'<a href="{html.escape(p)}/">{html.escape(n)}</a><br/>\n' for p, n in names.items()
    )
    (simple / "index.html").write_text(_page("Simple index", listing))
    projects = [{"name": n} for n in names.values()]
    (simple / "index.json").write_text(
        json.dumps({"meta": {"api-version": API_VERSION}, "projects": projects}, indent=1)
    )
    for project, found in by_project.items():
        folder = simple / project
        folder.mkdir()
        (folder / "index.html").write_text(project_html(project, found))
        (folder / "index.json").write_text(project_json(project, found))
    return entries
