"""Unpacking one wheel into a store entry, checking each member against RECORD as it goes.

Used in-process and by the unpack helper process (:mod:`roost.store.unpack_helper`);
the store that keeps the entries is :mod:`roost.store.unpacked`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from roost.errors import InstallError
from roost.store.entry_check import trusted
from roost.store.linker import CREATE_NEW, copy_exclusive
from roost.store.store_files import ARCHIVE, FORMAT, MANIFEST, TREE
from roost.store.zip_member import read_whole

_CHUNK = 1 << 20
#: Reading members: big enough to serve most members from memory, small enough that
#: two unpacking threads do not raise the peak memory of an install.
_READ_BUFFER = 1 << 16
_MEMBER_CHUNK = 1 << 18
#: What a wheel must be (its project name and version, and the metadata the index
#: served for it, if any), for the archive checks run before unpacking it.
Expected = tuple[str, str, "str | None"]


class RecordMismatch(InstallError):
    """A wheel's members do not match its RECORD; *issues* says how."""

    def __init__(self, issues: list[str]) -> None:
        super().__init__(repr(issues))
        self.issues = issues


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


def keep_archive(wheel: Path, target: Path) -> None:
    """Put the wheel at *target*, where every later check of the entry hashes it: a
    hard link when the file may stand in the store as it is (no space taken twice),
    else a copy."""
    try:
        os.link(wheel, target)
    except OSError:
        pass  # another filesystem, no hard links: copied below
    else:
        # A wheel of another user's (a shared wheelhouse) would fail every check.
        if trusted(os.lstat(target)):
            return
        os.unlink(target)
    copy_exclusive(str(wheel), str(target), False)


def unpack_wheel(wheel: Path, into: Path, expected: Expected | None = None) -> None:
    """Unpack *wheel* into *into*/tree, checking every member against RECORD, keep the
    wheel beside it, then write the manifest (the completion marker). With *expected*,
    the archive checks (:func:`roost.store.wheel_check.check_wheel` with these
    arguments) run first: a caller that has not run them yet must pass it."""
    from installer.records import parse_record_file
    from installer.sources import WheelFile
    from installer.utils import make_file_executable, parse_metadata_file

    if expected is not None:
        from roost.store.wheel_check import check_wheel

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
    keep_archive(wheel, into / ARCHIVE)
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
