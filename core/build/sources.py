"""Turn what a requirement names (a directory, an archive, a VCS URL) into a source tree.

Archives are unpacked with every member checked (no absolute paths, no ``..``, no
links or devices, bounded sizes); VCS URLs are checked out by :mod:`roost.build.vcs`
(into a fresh folder, or for ``-e`` into the ``--src`` folder). Each tree comes with
the PEP 610 ``direct_url.json`` content pip records for it.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import urllib.parse
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from roost.build import vcs
from roost.build.editable_vcs import editable_checkout
from roost.build.vcs import checkout, split_fragment
from roost.errors import BuildError
from roost.types import file_url_path, redact_url

#: Whether a URL names a VCS checkout; here too, as flows ask this module what a URL is.
is_vcs = vcs.is_vcs
#: Archive suffixes pip builds from (``.whl`` is installed, not built).
ARCHIVE_SUFFIXES = (
    ".tar.gz",
    ".tgz",
    ".tar",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".zip",
)
#: Bounds on an archive: real sdists are a few MB; these stop a bomb, not a project.
MAX_MEMBERS = 100_000
MAX_UNPACKED = 4 << 30


@dataclass(frozen=True)
class SourceTree:
    """A project's source on disk, and what ``direct_url.json`` says of where it came from."""

    #: The directory holding pyproject.toml or setup.py (subdirectory applied).
    path: Path
    #: PEP 610 content: ``url`` plus ``dir_info``, ``archive_info`` or ``vcs_info``.
    direct_url: dict[str, object] = field(default_factory=dict)
    #: What the user named, redacted, for messages.
    display: str = ""


def _subdirectory(root: Path, params: dict[str, str], shown: str) -> Path:
    sub = params.get("subdirectory")
    if not sub:
        return root
    relative = PurePosixPath(sub)
    if relative.is_absolute() or ".." in relative.parts:
        raise BuildError(f"{shown}: #subdirectory={sub} must be a path inside the source")
    path = root.joinpath(*relative.parts)
    if not path.is_dir():
        raise BuildError(f"{shown}: #subdirectory={sub} is not a directory of the source")
    return path


def local_directory(url: str, *, editable: bool) -> SourceTree:
    """A project directory named by a ``file:`` URL; built in place, as pip does."""
    base, params = split_fragment(url)
    root = Path(file_url_path(base))
    shown = redact_url(url)
    if not root.is_dir():
        raise BuildError(f"{shown} is not a directory")
    path = _subdirectory(root, params, shown)
    info: dict[str, object] = {"editable": True} if editable else {}
    direct: dict[str, object] = {"url": Path(os.path.abspath(root)).as_uri(), "dir_info": info}
    if params.get("subdirectory"):
        direct["subdirectory"] = params["subdirectory"]
    return SourceTree(path, direct, shown)


def is_archive(url: str) -> bool:
    path = urllib.parse.urlsplit(split_fragment(url)[0]).path.lower()
    return path.endswith(ARCHIVE_SUFFIXES)


def _safe_name(name: str, shown: str) -> PurePosixPath:
    relative = PurePosixPath(name.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise BuildError(f"{shown}: the archive member {name!r} points outside the archive")
    return relative


def _unpack_zip(archive: Path, into: Path, shown: str) -> None:
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        if len(members) > MAX_MEMBERS:
            raise BuildError(f"{shown}: the archive has more than {MAX_MEMBERS} members")
        total = 0
        for info in members:
            if info.is_dir() and not PurePosixPath(info.filename).parts:
                continue  # "./": the archive's own root
            relative = _safe_name(info.filename, shown)
            total += info.file_size
            if total > MAX_UNPACKED:
                raise BuildError(f"{shown}: the archive unpacks to more than {MAX_UNPACKED} bytes")
            target = into.joinpath(*relative.parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink)
            # Keep the executable bit a build script may need; nothing else.
            if (info.external_attr >> 16) & 0o111:
                target.chmod(0o755)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


@dataclass(frozen=True)
class _Link:
    """A link member of a tar archive, made once every file is written."""

    path: Path
    #: A symlink's target as stored, or the archive-relative path a hard link repeats.
    linkname: str
    hard: bool


def _outside(shown: str, link: _Link, into: Path) -> BuildError:
    return BuildError(
        f"{shown}: the archive member {link.path.relative_to(into).as_posix()!r} links to "
        f"{link.linkname!r}, which points outside the archive"
    )


def _make_links(links: list[_Link], into: Path, shown: str, budget: int) -> None:
    """Create the archive's links, each leading inside *into*, as tarfile's ``data`` filter
    and pip allow (hatchling, flit-core and pdm-backend keep symlinks in the sdists they
    make). They come after every file, so no member is ever written through a link."""
    root = os.path.realpath(into)
    # Hard links first, while no symlink exists that a path could pass through.
    for link in sorted(links, key=lambda item: not item.hard):
        name = link.path.relative_to(into).as_posix()
        # A link made earlier may stand in this path: where it really lands counts.
        if not _inside(os.path.realpath(link.path.parent), root):
            raise _outside(shown, link, into)
        if link.path.is_symlink() or link.path.exists():
            raise BuildError(f"{shown}: the archive member {name!r} appears twice")
        link.path.parent.mkdir(parents=True, exist_ok=True)
        if not link.hard:
            where = os.path.normpath(os.path.join(link.path.parent, link.linkname))
            if os.path.isabs(link.linkname) or not _inside(where, os.path.normpath(into)):
                raise _outside(shown, link, into)
            os.symlink(link.linkname, link.path)
            continue
        # A hard link repeats an earlier regular member: linked, or copied where the
        # file system cannot link, within what the archive may unpack to.
        source = into.joinpath(*_safe_name(link.linkname, shown).parts)
        if source.is_symlink() or not source.is_file():
            raise BuildError(
                f"{shown}: the archive member {name!r} is a hard link to "
                f"{link.linkname!r}, which is not a regular file of the archive"
            )
        try:
            os.link(source, link.path)
        except OSError:
            budget -= source.stat().st_size
            if budget < 0:
                raise BuildError(
                    f"{shown}: the archive unpacks to more than {MAX_UNPACKED} bytes"
                ) from None
            shutil.copyfile(source, link.path)
    # Chains of links (``a -> b/..``) can climb where no single link does: check where
    # each one really leads, now that they all exist.
    for link in links:
        if not _inside(os.path.realpath(link.path), root):
            raise _outside(shown, link, into)


def _unpack_tar(archive: Path, into: Path, shown: str) -> None:
    links: list[_Link] = []
    with tarfile.open(archive) as tf:
        total = 0
        count = 0
        for member in tf:
            count += 1
            if count > MAX_MEMBERS:
                raise BuildError(f"{shown}: the archive has more than {MAX_MEMBERS} members")
            if member.isdir() and not PurePosixPath(member.name).parts:
                continue  # "./": the archive's own root (``tar -C dir -czf x.tgz .``)
            relative = _safe_name(member.name, shown)
            target = into.joinpath(*relative.parts)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if member.issym() or member.islnk():
                links.append(_Link(target, member.linkname, hard=member.islnk()))
                continue
            if not member.isfile():
                # Devices and FIFOs have no place in a source distribution.
                raise BuildError(
                    f"{shown}: the archive member {member.name!r} is not a regular file"
                )
            total += member.size
            if total > MAX_UNPACKED:
                raise BuildError(f"{shown}: the archive unpacks to more than {MAX_UNPACKED} bytes")
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tf.extractfile(member)
            if source is None:
                raise BuildError(f"{shown}: the archive member {member.name!r} cannot be read")
            with source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink)
            if member.mode & 0o111:
                target.chmod(0o755)
    try:
        _make_links(links, into, shown, MAX_UNPACKED - total)
    except OSError as exc:
        raise BuildError(f"{shown}: a link in the archive could not be made: {exc}") from None


def unpack_archive(archive: Path, into: Path, url: str, sha256: str) -> SourceTree:
    """Unpack *archive* (fetched from *url*, with that *sha256*) into *into*."""
    base, params = split_fragment(url)
    shown = redact_url(url)
    into.mkdir(parents=True, exist_ok=True)
    try:
        if archive.name.lower().endswith(".zip") or zipfile.is_zipfile(archive):
            _unpack_zip(archive, into, shown)
        else:
            _unpack_tar(archive, into, shown)
    except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError) as exc:
        raise BuildError(f"{shown}: the archive could not be unpacked: {exc}") from None
    entries = [p for p in into.iterdir()]
    # An sdist holds one top-level folder; a bare archive may hold the project itself.
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else into
    path = _subdirectory(root, params, shown)
    hashes = {"sha256": sha256}
    direct: dict[str, object] = {
        "url": public_url(base),
        "archive_info": {"hash": f"sha256={sha256}", "hashes": hashes},
    }
    if params.get("subdirectory"):
        direct["subdirectory"] = params["subdirectory"]
    return SourceTree(path, direct, shown)


def public_url(url: str) -> str:
    """*url* without credentials: direct_url.json must not keep a password."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


def vcs_source(
    url: str, *, editable: bool, scratch: Path, src_dir: Path, name: str | None
) -> SourceTree:
    """The checkout of a VCS URL: in *scratch* for a build, recorded as ``vcs_info``; in
    ``<src_dir>/<name>`` for ``-e``, recorded as pip does, as that editable folder."""
    if editable:
        done = editable_checkout(url, src_dir=src_dir, name=name)
        path = _subdirectory(done.root, done.source.params, done.source.shown)
        direct: dict[str, object] = {"url": path.as_uri(), "dir_info": {"editable": True}}
        return SourceTree(path, direct, done.source.shown)
    done = checkout(url, scratch / "checkout")
    path = _subdirectory(done.root, done.source.params, done.source.shown)
    return SourceTree(path, done.source.direct_url(done.commit_id), done.source.shown)


def obtain(
    url: str,
    *,
    editable: bool,
    scratch: Path,
    download: Callable[[str], tuple[Path, str]],
    src_dir: Path | None = None,
    name: str | None = None,
) -> SourceTree:
    """The source tree *url* names; *download* fetches an archive URL (path, sha256).

    An editable VCS URL is checked out into ``<src_dir>/<name>`` (*name*, else the
    URL's ``#egg=``); *src_dir* defaults to ``./src``, as pip's outside a venv.
    """
    if is_vcs(url):
        folder = src_dir if src_dir is not None else Path(os.path.abspath("src"))
        return vcs_source(url, editable=editable, scratch=scratch, src_dir=folder, name=name)
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme == "file" and os.path.isdir(file_url_path(split_fragment(url)[0])):
        return local_directory(url, editable=editable)
    if editable:
        raise BuildError(
            f"{redact_url(url)} cannot be installed in editable mode: only a local "
            "project directory or a VCS URL can"
        )
    if is_archive(url):
        archive, sha256 = download(url)
        return unpack_archive(archive, scratch / "unpacked", url, sha256)
    raise BuildError(
        f"{redact_url(url)} is neither a project directory, an archive "
        f"({', '.join(ARCHIVE_SUFFIXES)}) nor a VCS URL (git+, hg+, svn+, bzr+)"
    )
