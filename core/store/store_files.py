"""Whether the files of an unpacked-store entry are still as they were unpacked.

An in-place edit of a hard-linked file in any environment edits the store's copy too,
so every use of an entry first compares each file's size, modification time and type
with its manifest. Kept apart from :mod:`roost.store.unpacked`, and light, because the
placement helper process (:mod:`roost.install.placement`) makes the same check while the
install goes on.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Sequence
from typing import Any

MANIFEST = "manifest.json"
TREE = "tree"


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


def entry_intact(root: str) -> bool:
    """:func:`files_intact` for the entry at *root*, read from its manifest."""
    data = read_manifest(root)
    members = None if data is None else data.get("members")
    return isinstance(members, list) and files_intact(os.path.join(root, TREE), members)
