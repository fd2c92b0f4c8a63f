"""Where roost keeps its cache: ``--cache-dir``, ``ROOST_CACHE_DIR``, else the platform's."""

from __future__ import annotations

import os
from pathlib import Path

from roost.types import Settings


def cache_root(settings: Settings) -> Path | None:
    """The cache directory, or None when ``--no-cache-dir`` / ``no-cache-dir`` is set."""
    if settings.get_bool("no-cache-dir"):
        return None
    configured = settings.get("cache-dir")
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return platformdirs.user_cache_path("roost")


def write_atomic(target: Path, data: bytes) -> None:
    """Write *data* to *target* through a temporary file in its folder and a rename, so
    another run reading it sees the old file or the new one, never half of either; the
    temporary file does not outlive a failure. The folder must exist."""
    import tempfile

    fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
