"""One lock per environment, so concurrent roost runs on it take turns.

The lock is a file in the environment itself: ``.roost.lock`` in the scheme's
purelib folder (site-packages, the ``--target`` folder, the user site), the folder
that holds the transactions' journals it protects. So every run on that folder finds
the same lock whatever its ``--cache-dir``, ``--no-cache-dir``, HOME, user or the path
it reached the folder by, and nothing of it is shared with another environment or
put in a folder another user can write (the temp dir, a cache).

The file exists only while a run holds it: the holder deletes it before letting go,
and a run that locked a file already deleted from the folder opens the path again,
so it never counts as the lock. The ``flock`` is released by the kernel when its
holder dies; a file left by a killed run is simply locked by the next one.

A run that has to wait says so after a second, naming the environment and the lock
file, and ``--lock-timeout`` bounds the wait.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from roost.errors import InstallError
from roost.install.journal import BACKUP_PREFIX
from roost.types import Settings

#: Seconds to wait quietly before saying that another run holds the lock.
QUIET_WAIT = 1.0
#: The lock file's name in the environment's purelib folder.
LOCK_NAME = ".roost.lock"
#: How often a waiting run tries the lock again.
_POLL = 0.05

#: Environments (real paths of their purelib folders) this process holds the lock of,
#: and how many times: a nested take does not wait for the process itself.
_held: dict[str, int] = {}


class LockTimeout(InstallError):
    """The environment stayed locked by another roost run for longer than allowed."""


class LockUnavailable(InstallError):
    """The environment's lock file cannot be opened (no write access, a planted link)."""


class EnvLock:
    """A held environment lock; :meth:`release` lets go of it (once)."""

    def __init__(self, path: Path, key: str, fd: int | None) -> None:
        self.path = path
        self._key = key
        #: The locked file, or None when this process held the lock already.
        self._fd = fd

    def release(self) -> None:
        if self._key not in _held:
            return
        _held[self._key] -= 1
        if _held[self._key]:
            return
        del _held[self._key]
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            # Deleted while still held, so no run locks this file after us: one that
            # opened it meanwhile sees it gone and opens the path again. Only our own
            # file: nobody else deletes it while we hold it.
            if _same_file(fd, self.path):
                with contextlib.suppress(OSError):
                    os.unlink(self.path)
        finally:
            os.close(fd)


def lock_file_in(environment: str | Path) -> Path:
    """The lock file of the environment whose purelib folder is *environment*."""
    return Path(environment) / LOCK_NAME


def lock_file(settings: Settings, environment: str, warn: Callable[[str], None]) -> Path:
    """The environment's lock file: in *environment* (its purelib folder) itself.

    *settings* and *warn* are not needed any more (the lock was in the cache, with a
    fallback to the temp dir): kept so callers need not change.
    """
    del settings, warn
    return lock_file_in(environment)


def holds(environment: str | Path) -> bool:
    """Whether this process holds the lock of the environment at *environment*."""
    return os.path.realpath(environment) in _held


def _key(path: Path) -> str:
    return os.path.realpath(path.parent)


def _same_file(fd: int, path: Path) -> bool:
    try:
        there = os.lstat(path)
    except OSError:
        return False
    here = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _open(path: Path) -> int:
    """Open (creating) the lock file at *path*: never through a symlink, never a FIFO
    or device planted there, read-only when the file is another user's."""
    flags = os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        # Not readable by others: whoever can open it can hold it, and make every run
        # on this environment wait. Its group (who share the environment) may.
        fd = os.open(path, os.O_RDWR | flags, 0o660)
    except PermissionError:
        # A file another member of a shared environment's group created: reading is
        # enough for flock.
        fd = os.open(path, os.O_RDONLY | flags)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return fd


def _attempt(path: Path) -> int | None:
    """The locked file at *path*, or None if another process holds it."""
    while True:
        fd = _open(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, path):
            return fd
        # Its holder deleted it after we opened it: the lock is the file there now.
        os.close(fd)


def _unavailable(path: Path, environment: str, exc: OSError) -> LockUnavailable:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ELOOP:
        reason = "it is a symbolic link; remove it"
    return LockUnavailable(
        f"cannot lock {environment} for this run: cannot open its lock file {path} "
        f"({reason}). roost needs to write in the environment to change it."
    )


def _take(path: Path, environment: str, deadline: float | None) -> EnvLock | None:
    """Take the lock, trying until *deadline* (``time.monotonic()``; None: forever)."""
    key = _key(path)
    if key in _held:
        _held[key] += 1
        return EnvLock(path, key, None)
    while True:
        try:
            fd = _attempt(path)
        except OSError as exc:
            raise _unavailable(path, environment, exc) from None
        if fd is not None:
            _held[key] = 1
            return EnvLock(path, key, fd)
        if deadline is not None and time.monotonic() >= deadline:
            return None
        time.sleep(_POLL)


@contextlib.contextmanager
def env_lock(
    path: Path,
    environment: str,
    *,
    timeout: float | None = None,
    notify: Callable[[str], None] = lambda _: None,
) -> Iterator[None]:
    """Hold the lock at *path* for *environment*, waiting *timeout* seconds at most."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unavailable(path, environment, exc) from None
    start = time.monotonic()
    first = QUIET_WAIT if timeout is None else min(QUIET_WAIT, timeout)
    lock = _take(path, environment, start + first)
    if lock is None:
        notify(f"waiting for another roost process to finish with {environment} (lock {path})")
        lock = _take(path, environment, None if timeout is None else start + timeout)
        if lock is None:
            raise LockTimeout(
                f"another roost process kept {environment} locked for more than {timeout:g} "
                f"seconds (lock {path}). Wait for it to finish and try again, or raise "
                "--lock-timeout. If no roost process is running, the lock is free and this "
                "is a bug: the operating system releases it when its holder exits."
            )
    try:
        yield
    finally:
        lock.release()


def try_lock(path: Path) -> EnvLock | None:
    """The lock at *path* if it is free right now and may be needed (the caller releases
    it); None when another run holds it, or when there is nothing to recover (no lock
    file and no transaction in its folder: nothing is created then)."""
    folder = path.parent
    if not holds(folder) and not os.path.lexists(path):
        try:
            names = os.listdir(folder)
        except OSError:
            return None
        if not any(name.startswith(BACKUP_PREFIX) for name in names):
            return None
    try:
        return _take(path, str(folder), time.monotonic())
    except LockUnavailable:
        # A run that cannot write here cannot recover anything either.
        return None
