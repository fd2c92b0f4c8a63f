"""A store of unpacked wheels: ``<cache>/unpacked/<sha256 of the wheel>/`` (how files
leave it for an environment: :mod:`roost.store.linker`).

An entry is ``tree/`` (the wheel's members exactly as in the archive), ``wheel.whl``
(the wheel itself) and ``manifest.json`` (its completion marker: every member's sha256,
size, executable bit and the modification time it had when unpacked, written only once
RECORD verified every member). It is built in a temporary directory next to the final
one and renamed into place, so a reader sees a whole entry or none; a concurrent
builder losing the race uses the winner's.

The cache is not trusted: before an entry is used, every file of it is checked by
content against the RECORD of its own copy of the wheel, whose sha256 must be the
entry's name (:mod:`roost.store.entry_check`), in the placement helper while the install
goes on or here. An entry that fails (edited in place through a hard link, or by
anyone who could write the cache) is not used, and is made again from the verified
wheel.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from roost.errors import InstallError
from roost.store.entry_check import verify_entry
from roost.store.store_files import FORMAT, MANIFEST, TREE, files_intact, read_manifest
from roost.store.unpack import unpack_wheel

if TYPE_CHECKING:
    from roost.store.unpack import Expected
    from roost.store.unpack_helper import UnpackHelper


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
    #: The sha256 (hex) of the manifest these fields were read from.
    manifest_sha256: str = ""

    @property
    def tree(self) -> Path:
        return self.root / TREE

    def intact(self) -> bool:
        """Every file is what the wheel holds, and the manifest is the one read
        (:func:`~roost.store.entry_check.verify_entry`: each file hashed)."""
        return verify_entry(str(self.root), self.manifest_sha256) is not None

    def metadata_intact(self) -> bool:
        """The quick check (size and mtime, no byte read) of the members in the
        .dist-info: an entry edited in place through a hard link is made again before
        the checks that read its metadata, instead of failing them."""
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

    def peek(self, sha256: str) -> UnpackedWheel | None:
        """The entry of the wheel *sha256* whose .dist-info looks untouched (sizes and
        mtimes, no byte read), for reading its metadata before the install decides
        anything; what is installed from it is checked by :meth:`find`."""
        found = _load(self.entry_path(sha256))
        return found if found is not None and found.metadata_intact() else None

    def find(
        self, sha256: str, verify: Callable[[UnpackedWheel], None] | None = None
    ) -> UnpackedWheel | None:
        """The intact entry of the wheel whose sha256 is *sha256*, if the store has one.

        An entry is made only from bytes that had this hash and passed every check, and
        is checked against its copy of those bytes, so a wheel the index says has this
        hash need not be fetched at all. With *verify*, only the .dist-info's sizes and
        mtimes are looked at here and the entry is handed to *verify*, which takes the
        check by content over (the placement helper; an entry failing it must not be
        used).
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
        *expected*, the archive checks run first (see :func:`unpack_wheel`).
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
                unpack_wheel(wheel, temp, expected)
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
    # Imported here: the unpack helper process needs nothing of roost.net.client.
    from roost.net.hashing import file_hashes

    return file_hashes(wheel)["sha256"]


def _load(root: Path) -> UnpackedWheel | None:
    try:
        raw = (root / MANIFEST).read_bytes()
        data = json.loads(raw)
        if data.get("format") != FORMAT or data.get("record_verified") is not True:
            return None
        return UnpackedWheel(
            root=root,
            dist_info_dir=data["dist_info_dir"],
            data_dir=data["data_dir"],
            root_is_purelib=bool(data["root_is_purelib"]),
            members=tuple(map(Member._make, data["members"])),
            manifest_sha256=hashlib.sha256(raw).hexdigest(),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
