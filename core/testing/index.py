"""A package index laid out on disk, as a static mirror is.

Layout under the index root::

    files/<distribution>             every wheel and sdist, and <wheel>.metadata (PEP 658)
    find-links/<distribution>        the distributions alone (a ``--find-links`` folder)
    simple/index.html                the project list (PEP 503)
    simple/<project>/index.html      PEP 503 page, links relative (``../../files/...``)
    simple/<project>/index.json      PEP 691 v1.1 page (PEP 700 ``upload-time`` when given)

The pages under ``simple/`` exist once :meth:`PackageIndex.write` wrote them (a
``file://`` index); :class:`roost.testing.server.IndexServer` renders them for every
request instead, so what was added is served at once.
"""

from __future__ import annotations

import datetime
import email.parser
import hashlib
import html
import json
import os
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from packaging.utils import (
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from roost.testing.wheels import WheelSpec, build_wheel

API_VERSION = "1.1"
FROM_WHEEL = "from-wheel"


@dataclass
class IndexFile:
    """One distribution file as the index lists it."""

    filename: str
    project: str  # normalized
    display_name: str
    version: str | None
    sha256: str
    size: int
    requires_python: str | None
    yanked: str | None
    metadata_sha256: str | None
    #: PEP 700 ``upload-time`` as the JSON page writes it, or None for no such key.
    upload_time: str | None = None


def format_upload_time(moment: datetime.datetime | str | None) -> str | None:
    """*moment* as PEP 700 writes ``upload-time``: ISO 8601 in UTC with a ``Z``
    (``2024-05-01T12:00:00.000000Z``). A string is kept as given, so a test can serve
    a value clients must cope with; a naive datetime is refused, its zone unknown."""
    if moment is None or isinstance(moment, str):
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"upload_time {moment.isoformat()} has no time zone: "
            "give an aware datetime (datetime.timezone.utc, say)"
        )
    utc = moment.astimezone(datetime.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_wheel_metadata(wheel: Path) -> bytes:
    """The METADATA file of *wheel* (the one in its top-level ``.dist-info``)."""
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if re.fullmatch(r"[^/]+\.dist-info/METADATA", name):
                return archive.read(name)
    raise ValueError(f"{wheel} has no .dist-info/METADATA")


def _link(base: str, filename: str) -> str:
    # Local versions put "+" in names; quoting keeps every client reading the same URL.
    return base + quote(filename)


class PackageIndex:
    """A package index laid out on disk: <root>/files/*.whl and <root>/simple/<project>/..."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.entries: list[IndexFile] = []
        (root / "files").mkdir(parents=True, exist_ok=True)
        self.files_dir.mkdir(parents=True, exist_ok=True)

    @property
    def dists_dir(self) -> Path:
        """Where the index serves files from (distributions and ``.metadata`` files)."""
        return self.root / "files"

    @property
    def files_dir(self) -> Path:
        """A find-links folder: holds just the distribution files."""
        return self.root / "find-links"

    @property
    def simple_dir(self) -> Path:
        """Where :meth:`write` puts the static pages."""
        return self.root / "simple"

    @property
    def file_url(self) -> str:
        """``file:///abs/root/simple``, the index URL of the static pages."""
        return self.simple_dir.resolve().as_uri()

    def _place(self, source: Path) -> Path:
        target = self.dists_dir / source.name
        if source.resolve() != target.resolve():
            shutil.copyfile(source, target)
        link = self.files_dir / source.name
        link.unlink(missing_ok=True)
        try:
            os.link(target, link)
        except OSError:
            shutil.copyfile(target, link)
        return target

    def add(
        self,
        spec_or_wheel: WheelSpec | Path,
        *,
        yanked: str | None = None,
        metadata: bool = True,
        requires_python: str | None = FROM_WHEEL,
        upload_time: datetime.datetime | str | None = None,
    ) -> Path:
        """Build or copy a wheel into the index; return its path under ``files/``.

        ``yanked``: a reason (``""`` for none) marks it yanked. ``metadata=False``: no
        PEP 658 file is offered. ``requires_python``: what the index advertises; by
        default the wheel's own Requires-Python, ``None`` for nothing.
        ``upload_time``: an aware datetime the JSON page gives as the file's PEP 700
        ``upload-time`` (a string is written as it is); None leaves the key out.
        """
        uploaded = format_upload_time(upload_time)
        if isinstance(spec_or_wheel, WheelSpec):
            wheel = build_wheel(spec_or_wheel, self.dists_dir)
        else:
            wheel = spec_or_wheel
        target = self._place(wheel)
        meta = read_wheel_metadata(target)
        fields = email.parser.BytesParser().parsebytes(meta, headersonly=True)
        if requires_python == FROM_WHEEL:
            requires_python = fields.get("Requires-Python")
        name, version, _, _ = parse_wheel_filename(target.name)
        metadata_path = target.with_name(target.name + ".metadata")
        metadata_path.unlink(missing_ok=True)
        if metadata:
            metadata_path.write_bytes(meta)
        self._remember(
            target,
            display_name=str(fields.get("Name", name)),
            version=str(version),
            requires_python=requires_python,
            yanked=yanked,
            metadata_sha256=_sha256(meta) if metadata else None,
            upload_time=uploaded,
        )
        return target

    def add_file(
        self,
        path: Path,
        *,
        yanked: str | None = None,
        upload_time: datetime.datetime | str | None = None,
    ) -> Path:
        """List any other file (an sdist, say) as-is; the project comes from its name.

        ``yanked`` and ``upload_time`` as for :meth:`add`.
        """
        uploaded = format_upload_time(upload_time)
        target = self._place(path)
        try:
            name, version = parse_sdist_filename(target.name)
            display, shown_version = str(name), str(version)
        except ValueError:
            display, _, rest = target.name.partition("-")
            shown_version = rest.split("-")[0].removesuffix(".tar.gz").removesuffix(".zip")
        self._remember(
            target,
            display_name=display,
            version=shown_version,
            requires_python=None,
            yanked=yanked,
            metadata_sha256=None,
            upload_time=uploaded,
        )
        return target

    def _remember(
        self,
        target: Path,
        *,
        display_name: str,
        version: str | None,
        requires_python: str | None,
        yanked: str | None,
        metadata_sha256: str | None,
        upload_time: str | None,
    ) -> None:
        data = target.read_bytes()
        entry = IndexFile(
            filename=target.name,
            project=canonicalize_name(display_name),
            display_name=display_name,
            version=version,
            sha256=_sha256(data),
            size=len(data),
            requires_python=requires_python,
            yanked=yanked,
            metadata_sha256=metadata_sha256,
            upload_time=upload_time,
        )
        # One assignment: a server thread rendering a page meanwhile sees the old list
        # or the new one, never a list without the file.
        self.entries = [*(e for e in self.entries if e.filename != target.name), entry]

    def projects(self) -> list[str]:
        """The normalized names of every project, sorted."""
        return sorted({e.project for e in self.entries})

    def display_names(self) -> dict[str, str]:
        """Normalized name -> the name as first written."""
        names: dict[str, str] = {}
        for entry in self.entries:
            names.setdefault(entry.project, entry.display_name)
        return dict(sorted(names.items()))

    def files_of(self, project: str) -> list[IndexFile]:
        """The files of *project* (any spelling), sorted by file name."""
        wanted = canonicalize_name(project)
        return sorted((e for e in self.entries if e.project == wanted), key=lambda e: e.filename)

    # Rendering: the server calls these too, with absolute link bases.

    def project_list_html(self) -> str:
        """The PEP 503 project list."""
        links = "".join(
            f'<a href="{html.escape(norm)}/">{html.escape(name)}</a><br/>\n'
            for norm, name in self.display_names().items()
        )
        return _page("Simple index", links)

    def project_list_json(self) -> str:
        """The PEP 691 (v1.1) project list."""
        projects = [{"name": name} for name in self.display_names().values()]
        return json.dumps({"meta": {"api-version": API_VERSION}, "projects": projects}, indent=1)

    def project_html(self, project: str, link_base: str = "../../files/") -> str:
        """The PEP 503 page of *project*; links are ``link_base + filename``."""
        links = []
        for entry in self.files_of(project):
            url = html.escape(f"{_link(link_base, entry.filename)}#sha256={entry.sha256}")
            attrs = [f'href="{url}"']
            if entry.requires_python is not None:
                attrs.append(f'data-requires-python="{html.escape(entry.requires_python)}"')
            if entry.yanked is not None:
                attrs.append(f'data-yanked="{html.escape(entry.yanked)}"')
            if entry.metadata_sha256 is not None:
                value = f"sha256={entry.metadata_sha256}"
                attrs.append(f'data-core-metadata="{value}" data-dist-info-metadata="{value}"')
            links.append(f"<a {' '.join(attrs)}>{html.escape(entry.filename)}</a><br/>\n")
        return _page(f"Links for {canonicalize_name(project)}", "".join(links))

    def project_json(self, project: str, link_base: str = "../../files/") -> str:
        """The PEP 691 (v1.1) page of *project*."""
        files = []
        versions: set[str] = set()
        for entry in self.files_of(project):
            core: dict[str, str] | bool = (
                {"sha256": entry.metadata_sha256} if entry.metadata_sha256 else False
            )
            record: dict[str, object] = {
                "filename": entry.filename,
                "url": _link(link_base, entry.filename),
                "hashes": {"sha256": entry.sha256},
                "size": entry.size,
                "core-metadata": core,
                "dist-info-metadata": core,
                "yanked": entry.yanked if entry.yanked else entry.yanked is not None,
            }
            if entry.requires_python is not None:
                record["requires-python"] = entry.requires_python
            if entry.upload_time is not None:
                record["upload-time"] = entry.upload_time
            files.append(record)
            if entry.version is not None:
                versions.add(entry.version)
        page = {
            "meta": {"api-version": API_VERSION},
            "name": canonicalize_name(project),
            "files": files,
            "versions": sorted(versions, key=_version_key),
        }
        return json.dumps(page, indent=1)

    def write(self) -> None:
        """Write the static pages (HTML and JSON) for every project."""
        if self.simple_dir.exists():
            shutil.rmtree(self.simple_dir)
        self.simple_dir.mkdir(parents=True)
        (self.simple_dir / "index.html").write_text(self.project_list_html())
        (self.simple_dir / "index.json").write_text(self.project_list_json())
        for project in self.projects():
            folder = self.simple_dir / project
            folder.mkdir()
            (folder / "index.html").write_text(self.project_html(project))
            (folder / "index.json").write_text(self.project_json(project))


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f'<meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{body}</body>\n</html>\n"
    )
