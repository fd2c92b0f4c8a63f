"""A content-checked wheel cache: ``<cache>/wheels/<sha256 of the URL>/<filename>``.

Next to each wheel, ``<filename>.sha256`` holds the digest it had when it was
downloaded and verified. Every use copies the wheel out of the cache and hashes the
copy, so a cache entry that was truncated or corrupted (or changed while roost ran) is
noticed, evicted and fetched again; what gets installed is always the verified copy.
Writes are atomic (a temporary file, then ``os.replace``), so concurrent runs never
see half a wheel. A cache that cannot be written gives one warning and the run goes on
without caching.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from roost.errors import IndexAccessError
from roost.net.hashing import file_hashes
from roost.net.urls import split_credentials
from roost.types import filename_problem, redact_url
from roost.util.cache import write_atomic


def check_filename(url: str, filename: str) -> None:
    """Refuse to write the file of *url* under *filename* when that name would not stay
    inside its folder (``../``, a NUL, a control character) or cannot be written."""
    problem = filename_problem(filename)
    if problem is not None:
        raise IndexAccessError(
            f"refusing the link {redact_url(url)}: its file name {filename!r} "
            f"{problem}, so it cannot be saved inside roost's folders. The index (or the "
            "plugin that listed it) gave a bad link; nothing was downloaded."
        )


class WheelCache:
    """Wheels by URL under *root*/wheels."""

    def __init__(self, root: Path, warn: Callable[[str], None]) -> None:
        self.root = root / "wheels"
        self._warn = warn
        self._read_only = False

    def entry(self, url: str, filename: str) -> Path:
        """Where the wheel at *url* is cached (credentials are not part of the key)."""
        check_filename(url, filename)
        bare, _ = split_credentials(url)
        key = hashlib.sha256(bare.encode()).hexdigest()
        return self.root / key[:2] / key[2:] / filename

    def get(self, url: str, filename: str, dest: Path, hashes: Mapping[str, str]) -> str | None:
        """Copy the cached wheel to *dest* if it is intact and return its sha256; None on
        a miss.

        *hashes* are what the index says the file has; they are checked too.
        """
        entry = self.entry(url, filename)
        stamp = entry.with_name(entry.name + ".sha256")
        try:
            recorded = stamp.read_text(encoding="ascii").strip()
            shutil.copyfile(entry, dest)
        except OSError:
            return None
        names = tuple(dict.fromkeys(("sha256", *(n for n in hashes if n in {"sha384", "sha512"}))))
        actual = file_hashes(dest, names)
        wanted = {"sha256": recorded, **{n: v.lower() for n, v in hashes.items() if n in names}}
        bad = [name for name in names if actual[name] != wanted.get(name, actual[name])]
        if bad:
            dest.unlink(missing_ok=True)
            name = bad[0]
            self._warn(
                f"the cached {filename} is corrupt (expected {name}:{wanted[name]}, got "
                f"{name}:{actual[name]}); evicting it from {entry.parent} and downloading "
                "it again"
            )
            self.evict(url, filename)
            return None
        return actual["sha256"]

    def put(self, url: str, filename: str, path: Path, sha256: str) -> None:
        """Store the verified wheel at *path* (whose sha256 is *sha256*)."""
        if self._read_only:
            return
        entry = self.entry(url, filename)
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            _atomic_link_or_copy(path, entry)
            write_atomic(entry.with_name(entry.name + ".sha256"), (sha256 + "\n").encode("ascii"))
        except OSError as exc:
            self._read_only = True
            self._warn(
                f"cannot write to the cache {self.root} ({exc.strerror or exc}); "
                "going on without caching wheels"
            )

    def evict(self, url: str, filename: str) -> None:
        entry = self.entry(url, filename)
        try:
            entry.with_name(entry.name + ".sha256").unlink(missing_ok=True)
            entry.unlink(missing_ok=True)
        except OSError as exc:
            self._warn(f"cannot remove the corrupt cache entry {entry}: {exc.strerror or exc}")


def _atomic_link_or_copy(source: Path, target: Path) -> None:
    """Put *source* at *target* atomically: a hard link when the filesystem allows it
    (the download is a private file that is never written again), else a copy."""
    fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        os.close(fd)
        os.unlink(temp)
        try:
            os.link(source, temp)
        except OSError:
            shutil.copyfile(source, temp)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
