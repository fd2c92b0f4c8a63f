"""Write a static simple index (PEP 503 HTML and PEP 691 JSON) for a folder of wheels.

Layout under the index root::

    files/<wheel>                 the wheel (hard-linked when possible)
    files/<wheel>.metadata        its METADATA, offered per PEP 658 / PEP 714
    simple/index.html|json        the project list
    simple/<project>/index.html   PEP 503 page; links relative (``../../files/...``)
    simple/<project>/index.json   PEP 691 (API 1.1) page

Every link carries the file's sha256 and every metadata file its own sha256, so the
installers verify what they download exactly as they would against a real index.
"""

from __future__ import annotations

import email.parser
import hashlib
import html
import json
import os
import re
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

API_VERSION = "1.1"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class IndexEntry:
    """One wheel as the index lists it."""

    filename: str
    project: str  # normalized
    display_name: str
    version: str
    sha256: str
    size: int
    requires_python: str | None
    metadata_sha256: str


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


def add_wheel(wheel: Path, files_dir: Path) -> IndexEntry:
    """Put *wheel* and its ``.metadata`` file into *files_dir*; describe it."""
    files_dir.mkdir(parents=True, exist_ok=True)
    target = files_dir / wheel.name
    _place(wheel, target)
    meta = wheel_metadata(target)
    (files_dir / (wheel.name + ".metadata")).write_bytes(meta)
    fields = email.parser.BytesParser().parsebytes(meta, headersonly=True)
    name, version, _, _ = parse_wheel_filename(wheel.name)
    requires_python = fields.get("Requires-Python")
    return IndexEntry(
        filename=wheel.name,
        project=canonicalize_name(name),
        display_name=str(fields.get("Name", name)),
        version=str(version),
        sha256=_sha256_file(target),
        size=target.stat().st_size,
        requires_python=str(requires_python).strip() if requires_python else None,
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
        meta = f"sha256={entry.metadata_sha256}"
        attrs.append(f'data-core-metadata="{meta}" data-dist-info-metadata="{meta}"')
        links.append(f"<a {' '.join(attrs)}>{html.escape(entry.filename)}</a><br/>\n")
    return _page(f"Links for {project}", "".join(links))


def project_json(project: str, entries: list[IndexEntry]) -> str:
    """The PEP 691 (API 1.1) page of *project*."""
    files: list[dict[str, object]] = []
    for entry in entries:
        core = {"sha256": entry.metadata_sha256}
        record: dict[str, object] = {
            "filename": entry.filename,
            "url": _href(entry),
            "hashes": {"sha256": entry.sha256},
            "size": entry.size,
            "core-metadata": core,
            "dist-info-metadata": core,
            "yanked": False,
        }
        if entry.requires_python:
            record["requires-python"] = entry.requires_python
        files.append(record)
    versions = sorted({e.version for e in entries}, key=Version)
    page = {"meta": {"api-version": API_VERSION}, "name": project, "files": files}
    page["versions"] = versions
    return json.dumps(page, indent=1)


def write_index(wheels: Iterable[Path], root: Path) -> list[IndexEntry]:
    """Write the static index of *wheels* under *root* (replacing its pages); list them."""
    entries = sorted((add_wheel(w, root / "files") for w in wheels), key=lambda e: e.filename)
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
