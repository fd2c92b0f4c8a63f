"""Wheels built from sources that cannot change, kept for the next run.

``<cache>/built/<key[:2]>/<key>/<wheel>``. The key hashes what decides the wheel: the
source (an archive's sha256, a git commit), its subdirectory, the kind (wheel or
editable), the target's most specific tag (interpreter, ABI, platform) and the
config settings, which pip leaves out of its key (pip #11164) and roost does not.
Project directories are never cached: they change under roost's feet. Entries
are published by renaming a complete folder into place, so concurrent runs see a
whole wheel or none.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

#: Bumped when what a key covers changes.
_FORMAT = 1


def cache_key(
    source: Mapping[str, object],
    *,
    kind: str,
    tag: str,
    config_settings: Mapping[str, str | tuple[str, ...]],
) -> str:
    """The key of a wheel built from *source* (a ``direct_url.json`` without its URL's
    credentials) for a target whose best tag is *tag*."""
    material = {
        "format": _FORMAT,
        "source": source,
        "kind": kind,
        "tag": tag,
        "config_settings": {
            k: list(v) if isinstance(v, tuple) else v for k, v in sorted(config_settings.items())
        },
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


class BuiltWheelCache:
    """The built-wheel folder of roost's cache."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _folder(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str) -> Path | None:
        """The cached wheel of *key*, or None."""
        folder = self._folder(key)
        try:
            wheels = [p for p in folder.iterdir() if p.name.endswith(".whl") and p.is_file()]
        except OSError:
            return None
        return wheels[0] if len(wheels) == 1 else None

    def put(self, key: str, wheel: Path) -> Path:
        """Keep a copy of *wheel* under *key*; returns the cached path (another run's, if
        it was first). A cache that cannot be written is skipped: it only saves time."""
        folder = self._folder(key)
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
            shutil.copyfile(wheel, staging / wheel.name)
            try:
                os.rename(staging, folder)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
        except OSError:
            return wheel
        return self.get(key) or wheel
