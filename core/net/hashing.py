"""Hashes of downloaded files, and checking them against what an index or a requirement says."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from roost.errors import HashMismatchError

if TYPE_CHECKING:
    pass


def check_hashes(
    what: str, expected: Mapping[str, str], actual: Mapping[str, str], path: Path | None = None
) -> None:
    """Raise HashMismatchError when any hash both sides know differs."""
    for name, want in expected.items():
        got = actual.get(name)
        if got is not None and got.lower() != want.lower():
            if path is not None:
                path.unlink(missing_ok=True)
            raise HashMismatchError(
                f"hash mismatch for {what}:\n  expected {name}:{want}\n       got {name}:{got}\n"
                "The file was not installed. If the index changed the file, ask its owner; "
                "otherwise something between you and the index altered it."
            )


def file_hashes(path: Path, names: tuple[str, ...] = ("sha256",)) -> dict[str, str]:
    """Hex digests of the file at *path*, one per hashlib algorithm name."""
    hashers = {name: hashlib.new(name) for name in names}
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            for hasher in hashers.values():
                hasher.update(chunk)
    return {name: h.hexdigest() for name, h in hashers.items()}
