"""The layout of an unpacked-store entry, its manifest, and the quick check of its files.

The quick check compares each file's size, modification time and type with the
manifest: it notices an in-place edit of a hard-linked file in some environment (which
edits the store too) without reading a byte. It proves nothing against someone who can
write the cache (they can write the manifest too): that is
:mod:`roost.store.entry_check`'s check by content. Kept apart from
:mod:`roost.store.unpacked`, and light, for the placement helper process
(:mod:`roost.install.placement`).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Sequence
from typing import Any

MANIFEST = "manifest.json"
TREE = "tree"
#: The entry's copy of the wheel it was made from: what its files are checked against
#: (see :mod:`roost.store.entry_check`).
ARCHIVE = "wheel.whl"
#: The entries' layout; entries of another are not used (and are made again).
FORMAT = 2


def files_intact(tree: str, members: Iterable[Sequence[Any]]) -> bool:
    """Every member (``path, sha256, size, executable, mtime_ns``) is still a regular
    file of its size and mtime under the folder *tree*."""
    # One lstat per stored file on every warm install: kept to the bare minimum of
    # Python around each call.
    prefix = tree + os.sep
    lstat, regular = os.lstat, stat.S_ISREG
    try:
        for path, _sha256, size, _executable, mtime_ns in members:
            info = lstat(prefix + path)
            if info.st_size != size or info.st_mtime_ns != mtime_ns or not regular(info.st_mode):
                return False
    except (OSError, ValueError, TypeError):
        return False
    return True


def read_manifest(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The manifest of the entry at *root*; None when there is none that parses (a
    temporary, trash or broken folder)."""
    try:
        with open(os.path.join(root, MANIFEST), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
