"""How a file of the unpacked store gets into an environment: hard link, copy or symlink.

Kept apart from :mod:`roost.store.unpacked` so the placement helper process
(:mod:`roost.install.placement`) imports nothing but this.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable

LINK_MODES = ("hardlink", "copy", "symlink")
_CHUNK = 1 << 20
#: A new file, never through a symlink planted at its name.
CREATE_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
#: errno values of os.link that mean "not here": another filesystem, or no hard links.
_CANNOT_LINK = frozenset(
    {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES}
)


class Linker:
    """Puts store files into an environment by one link mode for a whole run.

    ``hardlink`` (the default) falls back to copying, for the rest of the run, the first
    time the filesystem refuses a hard link (another filesystem, or none supported).
    Every method fails with :class:`FileExistsError` if the target exists, as an
    ``O_EXCL`` open does, and never follows a symlink at the target.
    """

    def __init__(self, mode: str = "hardlink", log: Callable[[str], None] = lambda _: None):
        if mode not in LINK_MODES:
            # Imported here: roost.errors brings click, which the helper process never needs.
            from roost.errors import InstallError

            raise InstallError(f"unknown link mode {mode!r}: use one of {', '.join(LINK_MODES)}")
        self.mode = mode
        #: Where the fallback to copying is reported.
        self.log = log

    def place(self, source: str, target: str, executable: bool) -> None:
        """Create *target* with the content of the store file *source*."""
        if self.mode == "hardlink":
            try:
                os.link(source, target, follow_symlinks=False)
                return
            except OSError as exc:
                if exc.errno not in _CANNOT_LINK:
                    raise
                self.log(f"  hard links are not possible here ({exc.strerror}); copying")
                self.mode = "copy"
        if self.mode == "symlink":
            os.symlink(source, target)
            return
        copy_exclusive(source, target, executable)


def copy_exclusive(source: str, target: str, executable: bool) -> None:
    """Copy *source* to a new file *target* (O_EXCL, O_NOFOLLOW), like installer writes it."""
    fd = os.open(target, CREATE_NEW, 0o666)
    with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
        shutil.copyfileobj(src, out, _CHUNK)
    if executable:
        # Imported here: the placement helper starts faster without pathlib.
        from pathlib import Path

        from installer.utils import make_file_executable

        make_file_executable(Path(target))
