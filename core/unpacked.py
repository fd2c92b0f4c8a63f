"""A store of unpacked wheels: ``<cache>/unpacked/<sha256 of the wheel>/`` (how files
leave it for an environment: :mod:`roost.linker`).

An entry is ``tree/`` (the wheel's members exactly as in the archive) and
``manifest.json`` (its completion marker: every member's sha256, size, executable bit
and the modification time it had when unpacked, written only once RECORD verified every
member). It is built in a temporary directory next to the final one and renamed into
place, so a reader sees a whole entry or none; a concurrent builder losing the race
uses the winner's. An entry whose files changed since (an in-place edit of a hard-linked
file in some environment edits the store too) fails the size and mtime check made
before every use and is rebuilt from the wheel.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import json
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

from roost.errors import InstallError
from roost.linker import CREATE_NEW
from roost.store_files import MANIFEST, TREE, files_intact, read_manifest
from roost.zip_member import read_whole

if TYPE_CHECKING:
    from roost.unpack_helper import UnpackHelper

FORMAT = 1
#: What a wheel must be (its project name and version, and the metadata the index
#: served for it, if any), for the archive checks run before unpacking it.
Expected = tuple[str, str, "str | None"]
_CHUNK = 1 << 20
#: Reading members: big enough to serve most members from memory, small enough that
#: two unpacking threads do not raise the peak memory of an install.
_READ_BUFFER = 1 << 16
_MEMBER_CHUNK = 1 << 18


class RecordMismatch(InstallError):
    """A wheel's members do not match its RECORD; *issues* says how."""

    def __init__(self, issues: list[str]) -> None:
        super().__init__(repr(issues))
        self.issues = issues


class Member(NamedTuple):
    """One file of an unpacked wheel.

    A named tuple, not a frozen dataclass: a warm install loads 12,000 of them from the
    manifests, and a frozen dataclass's ``__init__`` made that 3x slower.
    """

    path: str
    #: urlsafe base64 sha256, as RECORD spells it.
    sha256: str
    size: int
    executable: bool
    mtime_ns: int


@dataclass(frozen=True)
class UnpackedWheel:
    """A complete store entry."""

    root: Path
    dist_info_dir: str
    data_dir: str
    root_is_purelib: bool
    members: tuple[Member, ...]

    @property
    def tree(self) -> Path:
        return self.root / TREE

    def intact(self) -> bool:
        """Every member is still a regular file of the size and mtime it was unpacked with."""
        return files_intact(str(self.tree), self.members)

    def metadata_intact(self) -> bool:
        """:meth:`intact` for the members in the .dist-info only (what the checks before
        an install read)."""
        prefix = self.dist_info_dir + "/"
        return files_intact(str(self.tree), (m for m in self.members if m.path.startswith(prefix)))


class UnpackedStore:
    """Unpacked wheels under *root* (``<cache>/unpacked``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def entry_path(self, sha256: str) -> Path:
        return self.root / sha256

    def has(self, sha256: str) -> bool:
        """Whether anything (intact or not) is stored for the wheel *sha256*."""
        return os.path.lexists(self.entry_path(sha256))

    def lookup(self, wheel: Path, digest: str | None = None) -> tuple[str, UnpackedWheel | None]:
        """The sha256 of *wheel* (*digest*, when the caller has it), and its intact entry
        if the store has one."""
        digest = digest or _sha256(wheel)
        return digest, self.find(digest)

    def entries(self) -> list[tuple[Path, str]]:
        """Every complete entry, with the file name of the wheel it was made from."""
        found = []
        try:
            children = sorted(self.root.iterdir())
        except OSError:
            return []
        for child in children:
            data = read_manifest(child)
            if data is not None and "wheel" in data:  # else not an entry
                found.append((child, str(data["wheel"])))
        return found

    def remove(self, entry: Path) -> None:
        """Remove *entry*: renamed away first, so no reader sees half of it."""
        trash = Path(tempfile.mkdtemp(prefix=".trash-", dir=self.root))
        with contextlib.suppress(FileNotFoundError):
            os.rename(entry, trash / "old")
        shutil.rmtree(trash, ignore_errors=True)

    def find(
        self, sha256: str, verify: Callable[[UnpackedWheel], None] | None = None
    ) -> UnpackedWheel | None:
        """The intact entry of the wheel whose sha256 is *sha256*, if the store has one.

        An entry is made only from bytes that had this hash and passed every check, so
        a wheel the index says has this hash need not be fetched at all. With *verify*,
        only the .dist-info is checked here and the entry is handed to *verify*, which
        takes the check of the other files over (the placement helper).
        """
        found = _load(self.entry_path(sha256))
        if found is None:
            return None
        if verify is None:
            return found if found.intact() else None
        if not found.metadata_intact():
            return None
        verify(found)
        return found

    def ensure(
        self,
        wheel: Path,
        digest: str | None = None,
        helper: UnpackHelper | None = None,
        *,
        wait: bool = False,
        expected: Expected | None = None,
    ) -> UnpackedWheel:
        """The intact entry for *wheel*, unpacking (and RECORD-checking) it if needed.

        *digest* is the wheel's sha256 when the caller has it already; *helper*, when
        given and free (or once free, with *wait*), unpacks it in its own process. With
        *expected*, the archive checks run first (see :func:`_unpack`).
        Raises :class:`RecordMismatch` when the wheel's members disagree with its RECORD.
        """
        digest = digest or _sha256(wheel)
        final = self.entry_path(digest)
        found = self.find(digest)
        if found is not None:
            return found
        # Unpacked into a private directory: a concurrent run may be doing the same.
        self.root.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.root))
        try:
            if helper is None or not helper.unpack(wheel, temp, wait=wait, expected=expected):
                # A helper that died part-way may have left files: start clean.
                shutil.rmtree(temp / TREE, ignore_errors=True)
                (temp / MANIFEST).unlink(missing_ok=True)
                _unpack(wheel, temp, expected)
            current = self.find(digest)
            if current is not None:
                return current  # another run finished first
            if os.path.lexists(final):
                # Looked at again: another run may have renamed its entry into place
                # between the two checks above.
                current = self.find(digest)
                if current is not None:
                    return current
                # Broken or half-written: move it out of the way, never write into it.
                self.remove(final)
            try:
                os.rename(temp, final)
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
                winner = self.find(digest)
                if winner is None:
                    raise
                return winner
        finally:
            if temp.exists():
                shutil.rmtree(temp, ignore_errors=True)
        made = _load(final)
        if made is None:
            raise InstallError(f"the unpacked copy of {wheel.name} in {final} vanished")
        return made


def _sha256(wheel: Path) -> str:
    # Imported here: the unpack helper process needs nothing of roost.http.
    from roost.http import file_hashes

    return file_hashes(wheel)["sha256"]


def _extract(
    archive: zipfile.ZipFile, handle: BinaryIO, info: zipfile.ZipInfo, target: str
) -> tuple[Any, int, int]:
    """Write member *info* to a new file *target*; its sha256 hasher, size and mtime."""
    data = read_whole(handle, info)
    fd = os.open(target, CREATE_NEW, 0o666)
    try:
        if data is not None:
            sha = hashlib.sha256(data)
            size = len(data)
            _write_all(fd, data)
        else:
            sha = hashlib.sha256()
            size = 0
            with archive.open(info) as stream:
                while chunk := stream.read(_MEMBER_CHUNK):
                    sha.update(chunk)
                    _write_all(fd, chunk)
                    size += len(chunk)
        mtime = os.fstat(fd).st_mtime_ns
    finally:
        os.close(fd)
    return sha, size, mtime


def _write_all(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _rehash(target: str, algorithm: str) -> str:
    """The digest by *algorithm* (RECORD's, when not sha256) of the file at *target*."""
    hasher = hashlib.new(algorithm)
    with open(target, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
    return _b64(hasher.digest())


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _load(root: Path) -> UnpackedWheel | None:
    data = read_manifest(root)
    if data is None:
        return None
    try:
        if data.get("format") != FORMAT or data.get("record_verified") is not True:
            return None
        return UnpackedWheel(
            root=root,
            dist_info_dir=data["dist_info_dir"],
            data_dir=data["data_dir"],
            root_is_purelib=bool(data["root_is_purelib"]),
            members=tuple(map(Member._make, data["members"])),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _unpack(wheel: Path, into: Path, expected: Expected | None = None) -> None:
    """Unpack *wheel* into *into*/tree, checking every member against RECORD, then write
    the manifest (the completion marker). With *expected*, the archive checks
    (:func:`roost.wheel_check.check_wheel` with these arguments) run first: a caller
    that has not run them yet must pass it."""
    from installer.records import parse_record_file
    from installer.sources import WheelFile
    from installer.utils import make_file_executable, parse_metadata_file

    if expected is not None:
        from roost.wheel_check import check_wheel

        check_wheel(wheel, *expected)
    # One ZipFile for installer's checks and the unpacking: its central directory is
    # read once. A large read buffer serves the members in order from memory: with the
    # default one, every member cost a seek and a read (50,000 syscalls for jupyter).
    with open(wheel, "rb", buffering=_READ_BUFFER) as handle, zipfile.ZipFile(handle) as archive:
        source = WheelFile(archive)
        # Names, RECORD syntax and presence; contents are checked below while unpacking.
        source.validate_record(validate_contents=False)
        dist_info_dir = source.dist_info_dir
        data_dir = source.data_dir
        wheel_meta = parse_metadata_file(source.read_dist_info("WHEEL"))
        records = {
            fields[0]: fields
            for fields in parse_record_file(source.read_dist_info("RECORD").splitlines())
        }
        version = wheel_meta["Wheel-Version"] or ""
        if not version.startswith("1."):
            raise RecordMismatch([f"Incompatible Wheel-Version {version}, only 1.x is supported"])
        tree = into / TREE
        tree.mkdir()
        inside = str(tree) + os.sep
        members: list[list[object]] = []
        issues: list[str] = []
        made_dirs: set[str] = set()
        for info in archive.infolist():
            name = info.filename
            if name.endswith("/"):
                continue
            target = os.path.normpath(os.path.join(tree, name))
            if not target.startswith(inside):
                raise RecordMismatch([f"{name} would be unpacked outside the store"])
            parent = os.path.dirname(target)
            if parent not in made_dirs:
                os.makedirs(parent, exist_ok=True)
                made_dirs.add(parent)
            sha, size, mtime = _extract(archive, handle, info, target)
            mode = info.external_attr >> 16
            executable = bool(mode and stat.S_ISREG(mode) and mode & 0o111)
            if executable:
                make_file_executable(Path(target))
            digest = _b64(sha.digest())
            # validate_record has parsed every row already: "algorithm=value", size.
            fields = records.get(name)
            if fields and fields[1]:
                algorithm, _, recorded = fields[1].partition("=")
                actual = digest if algorithm == "sha256" else _rehash(target, algorithm)
                if actual != recorded or int(fields[2]) != size:
                    issues.append(f"In {wheel}, hash / size of {name} didn't match RECORD")
            members.append([name, digest, size, executable, mtime])
    if issues:
        raise RecordMismatch(issues)
    manifest = {
        "format": FORMAT,
        "wheel": wheel.name,
        "record_verified": True,
        "dist_info_dir": dist_info_dir,
        "data_dir": data_dir,
        "root_is_purelib": wheel_meta["Root-Is-Purelib"] == "true",
        "members": members,
    }
    (into / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
