"""Whether a store entry is what its wheel holds: every file checked by content against
the RECORD of the entry's own copy of the wheel, whose sha256 is the entry's name.

Anyone who can write the cache can rewrite a stored file, its manifest row and the
stored RECORD alike; what they cannot forge is the wheel's sha256, which the index (or
a ``--hash``) gave and which names the entry. So an entry keeps the verified archive
(a hard link to the download where the filesystem allows), and a check hashes it
against that name, then compares the manifest (members, sizes, executable bits, where
the .dist-info is, Root-Is-Purelib) with the archive and its RECORD, and hashes every
stored file once against both. Each file must also belong to the installing user and
be writable by nobody the umask would not have let write it: a hard-linked file stays
one inode with the store's, and whoever can write that inode could change the
installed file later.

The placement helper process (:mod:`roost.install.placement`) makes this check while
the install goes on (and imports this module only then).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import struct
import zipfile
from collections.abc import Sequence
from typing import Any, BinaryIO

from roost.store.store_files import ARCHIVE, FORMAT, MANIFEST, TREE
from roost.store.zip_member import UTF8_NAME, read_whole

#: Opening a stored file: never through a symlink planted at its name.
_OPEN = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
#: Files up to this size are read and hashed in one piece; bigger ones in chunks.
_WHOLE = 4 << 20
_CHUNK = 1 << 20
_HEX = frozenset("0123456789abcdef")
#: Who may own the store's files. (Windows has no owners in st_uid, always 0, nor
#: executable bits: there only the content is checked.)
_UID = os.geteuid() if hasattr(os, "geteuid") else 0
_POSIX = os.name == "posix"


def verify_entry(root: str, manifest_sha256: str | None = None) -> str | None:
    """The sha256 (hex) of the manifest of the entry at *root* if every file of the
    entry is what the wheel it was made from holds (and, with *manifest_sha256*, the
    manifest is the one with that hash); None if anything differs or cannot be read."""
    try:
        return _verify(root, manifest_sha256)
    except Exception:  # a forged manifest or archive can make any step raise anything
        return None


def _verify(root: str, manifest_sha256: str | None) -> str | None:
    name = os.path.basename(root.rstrip(os.sep))
    if len(name) != 64 or not _HEX.issuperset(name):
        return None
    fd = _open_own(os.path.join(root, MANIFEST))
    with os.fdopen(fd, "rb") as handle:
        raw = handle.read()
    digest = hashlib.sha256(raw).hexdigest()
    if manifest_sha256 is not None and digest != manifest_sha256:
        return None
    manifest = json.loads(raw)
    if manifest["format"] != FORMAT or manifest["record_verified"] is not True:
        return None
    fd = _open_own(os.path.join(root, ARCHIVE))
    with os.fdopen(fd, "rb") as handle:
        hasher = hashlib.sha256()
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
        if hasher.hexdigest() != name:
            return None
        # The same open file: it is the user's and nobody else may write it, so what
        # is read from it now is what was hashed.
        archive = _Archive(handle)
        if not _matches(os.path.join(root, TREE) + os.sep, manifest, archive):
            return None
    return digest


class _Archive:
    """The members of a wheel (verified already) as the entry was unpacked from them:
    names, executable bits and sizes, and the content of the few read whole."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._zip: zipfile.ZipFile | None = None
        found = _directory(handle)
        if found is None:
            # Not the plain zip every wheel is (zip64, a comment, bytes before it):
            # zipfile reads it, at three times the cost.
            self._zip = zipfile.ZipFile(handle)
            found = [(i.filename, i.external_attr, i.file_size, i) for i in self._zip.infolist()]
        #: (name, external attributes, size, where its data is) in the archive's order.
        self.entries = found

    def read(self, name: str) -> bytes:
        """The content of member *name*, CRC-checked."""
        if self._zip is None:
            (found,) = [entry for entry in self.entries if entry[0] == name]
            _name, _attributes, size, (flags, method, crc, packed, header) = found
            info = zipfile.ZipInfo(name)
            info.flag_bits, info.compress_type, info.CRC = flags, method, crc
            info.compress_size, info.file_size, info.header_offset = packed, size, header
            data = read_whole(self._handle, info)
            if data is not None:
                return bytes(data)
            self._zip = zipfile.ZipFile(self._handle)  # too big or not deflated
        return self._zip.read(name)


_END = struct.Struct("<4s4H2LH")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")


def _directory(handle: BinaryIO) -> list[tuple[str, int, int, Any]] | None:
    """The central directory of the zip open as *handle*, read as zipfile reads it, if
    the zip is a plain one (no zip64 records, no comment, nothing before it); else None."""
    size = handle.seek(0, os.SEEK_END)
    if size < _END.size:
        return None
    handle.seek(size - _END.size)
    signature, disk, start, here, total, length, offset, comment = _END.unpack(
        handle.read(_END.size)
    )
    if (
        signature != b"PK\x05\x06"
        or comment
        or disk
        or start
        or here != total
        # Also false for zip64, whose records come between.
        or offset + length != size - _END.size
    ):
        return None
    handle.seek(offset)
    data = handle.read(length)
    entries: list[tuple[str, int, int, Any]] = []
    at = 0
    for _ in range(total):
        (
            signature,
            *_versions,
            flags,
            method,
            _time,
            _date,
            crc,
            packed,
            unpacked,
            name_length,
            extra_length,
            comment_length,
            _disk,
            _internal,
            attributes,
            header,
        ) = _CENTRAL.unpack_from(data, at)
        if signature != b"PK\x01\x02" or 0xFFFFFFFF in (packed, unpacked, header):
            return None
        start = at + _CENTRAL.size
        name = data[start : start + name_length].decode("utf-8" if flags & UTF8_NAME else "cp437")
        if "\x00" in name:
            return None  # zipfile cuts such a name short
        # No ZipInfo each: most members are never read from the archive.
        entries.append((name, attributes, unpacked, (flags, method, crc, packed, header)))
        at = start + name_length + extra_length + comment_length
    return entries if at == length else None


def _matches(tree: str, manifest: dict[str, Any], archive: _Archive) -> bool:
    """The manifest and the files under *tree* against the (verified) *archive*."""
    from email.feedparser import FeedParser
    from email.policy import compat32

    # As installer finds them (WheelFile.dist_info_dir, .data_dir), which the entry
    # was unpacked with.
    tops = {name.split("/", 1)[0] for name, _attr, _size, _where in archive.entries}
    (dist_info,) = [top for top in tops if top.endswith(".dist-info")]
    if dist_info != manifest["dist_info_dir"]:
        return False
    if manifest["data_dir"] != dist_info[: -len(".dist-info")] + ".data":
        return False
    parser = FeedParser(policy=compat32)
    parser.feed(archive.read(f"{dist_info}/WHEEL").decode("utf-8"))
    if (parser.close()["Root-Is-Purelib"] == "true") is not manifest["root_is_purelib"]:
        return False
    rows = _record(archive.read(f"{dist_info}/RECORD").decode("utf-8"))
    files = [entry for entry in archive.entries if not entry[0].endswith("/")]
    members: Sequence[Sequence[Any]] = manifest["members"]
    if len(members) != len(files):
        return False
    # Once per stored file of every warm install (12,000 for jupyter): the common case
    # (a sha256 in RECORD, a file read in one piece) kept inline.
    uid, refused_modes = _UID, _foreign_write_bits() | 0o7000
    sha256_of, read_whole_file, regular = hashlib.sha256, _read, stat.S_ISREG
    for (filename, attributes, file_size, _where), member in zip(files, members, strict=True):
        path, sha256, size, executable, _mtime_ns = member
        mode = attributes >> 16
        if (
            path != filename
            or size != file_size
            or executable is not bool(mode and regular(mode) and mode & 0o111)
        ):
            return False
        _path, hashed, recorded_size = rows.get(path, ("", "", ""))
        algorithm, _, recorded = hashed.partition("=")
        if algorithm and (
            int(recorded_size) != size or (algorithm == "sha256" and recorded != sha256)
        ):
            return False
        fd = os.open(tree + path, _OPEN)
        try:
            now = os.fstat(fd)
            mode = now.st_mode
            if (
                not regular(mode)
                or now.st_uid != uid
                or mode & refused_modes
                or (_POSIX and bool(mode & 0o111) is not executable)
                or now.st_size != size
            ):
                return False
            if algorithm == "sha256" and size <= _WHOLE:
                if _b64(sha256_of(read_whole_file(fd, size)).digest()) != sha256:
                    return False
            elif not algorithm:
                # No hash in RECORD (RECORD itself, signature files): the archive's bytes.
                if read_whole_file(fd, size) != archive.read(path):
                    return False
            elif not _hashes_match(fd, size, sha256, algorithm, recorded):
                return False
        finally:
            os.close(fd)
    return True


def _hashes_match(fd: int, size: int, sha256: str, algorithm: str, recorded: str) -> bool:
    """The file open as *fd* has the sha256 the manifest gives and, when RECORD uses
    another algorithm, the digest RECORD gives: read once for both."""
    hashers = [hashlib.sha256()]
    if algorithm != "sha256":
        hashers.append(hashlib.new(algorithm))
    if size <= _WHOLE:
        data = _read(fd, size)
        for hasher in hashers:
            hasher.update(data)
    else:
        total = 0
        while chunk := os.read(fd, _CHUNK):
            total += len(chunk)
            for hasher in hashers:
                hasher.update(chunk)
        if total != size:
            return False
    if _b64(hashers[0].digest()) != sha256:
        return False
    return algorithm == "sha256" or _b64(hashers[1].digest()) == recorded


def _read(fd: int, size: int) -> bytes:
    """Everything in the file open as *fd*, asking for one byte more than *size*: a
    file of that size is read in one call, and one that grew is seen to differ."""
    data = os.read(fd, size + 1)
    if len(data) >= size:
        return data
    parts = [data]  # a short read (the file shrank, or a signal)
    while chunk := os.read(fd, size + 1 - sum(map(len, parts))):
        parts.append(chunk)
    return b"".join(parts)


def _record(text: str) -> dict[str, Sequence[str]]:
    """RECORD's rows by path, parsed as installer parses them."""
    import csv

    rows = csv.reader(text.splitlines(), delimiter=",", quotechar='"', lineterminator="\n")
    return {row[0]: row for row in rows if len(row) == 3}


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _open_own(path: str) -> int:
    """An open file descriptor for the regular file at *path*, if it is the user's and
    nobody else may write it (else :class:`PermissionError`)."""
    fd = os.open(path, _OPEN)
    info = os.fstat(fd)
    if not trusted(info):
        os.close(fd)
        raise PermissionError(f"{path} is not the user's own")
    return fd


def trusted(info: os.stat_result) -> bool:
    """Whether the file *info* describes may stand in the store: a regular file of the
    user's, with no set-id bits, writable by nobody the umask would not let write it."""
    return (
        stat.S_ISREG(info.st_mode)
        and info.st_uid == _UID
        and not info.st_mode & (_foreign_write_bits() | 0o7000)
    )


_UMASK: list[int] = []


def _foreign_write_bits() -> int:
    """The group and other write bits the umask takes away (what a file roost made
    itself cannot have)."""
    if not _UMASK:
        _UMASK.append(_umask())
    return 0o022 & _UMASK[0]


def _umask() -> int:
    # Read from /proc where there is one: os.umask, the only other way, sets it to
    # read it, for a moment, for every thread of the process.
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
