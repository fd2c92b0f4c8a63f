"""Writing an SBOM file whole or not at all."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

#: The file written after an install when no other path is set, in the environment's
#: base directory (a venv's prefix, ``--target DIR``, ``--prefix DIR``, the user base).
DEFAULT_NAME = "sbom.cdx.json"


def format_for(path: str | os.PathLike[str]) -> str:
    """``xml`` for a file named ``*.xml``, else ``json``."""
    return "xml" if os.fspath(path).lower().endswith(".xml") else "json"


def write_atomically(path: Path, text: str) -> None:
    """Write *text* to *path* through a temporary file in the same directory, renamed
    over *path* once complete: a reader sees the old file or the new one, never half of
    one, and a failed write leaves the old file as it was.

    :raises OSError: when the directory cannot be made or written to.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    # Made as any new file is (the umask decides who may read it), not private as
    # mkstemp would; an existing SBOM keeps its permissions.
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
