"""One lock per environment, so concurrent roost runs on it take turns.

The lock file lives in the cache (:func:`roost.util.cache.lock_path`), not the
environment. A run that has to wait says so after a second, naming the environment
and the lock file, and ``--lock-timeout`` bounds the wait.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import filelock

from roost.errors import InstallError
from roost.types import Settings

#: Seconds to wait quietly before saying that another run holds the lock.
QUIET_WAIT = 1.0


class LockTimeout(InstallError):
    """The environment stayed locked by another roost run for longer than allowed."""


@contextlib.contextmanager
def env_lock(
    path: Path,
    environment: str,
    *,
    timeout: float | None = None,
    notify: Callable[[str], None] = lambda _: None,
) -> Iterator[None]:
    """Hold the lock at *path* for *environment*, waiting *timeout* seconds at most."""
    lock = filelock.FileLock(str(path))
    first = QUIET_WAIT if timeout is None else min(QUIET_WAIT, timeout)
    try:
        lock.acquire(timeout=first)
    except filelock.Timeout:
        notify(f"waiting for another roost process to finish with {environment} (lock {path})")
        rest = -1.0 if timeout is None else max(timeout - first, 0.0)
        try:
            lock.acquire(timeout=rest)
        except filelock.Timeout:
            raise LockTimeout(
                f"another roost process kept {environment} locked for more than {timeout:g} "
                f"seconds (lock {path}). Wait for it to finish and try again, or raise "
                "--lock-timeout. If no roost process is running, the lock is free and this "
                "is a bug: the operating system releases it when its holder exits."
            ) from None
    try:
        yield
    finally:
        lock.release()


def try_lock(path: Path) -> filelock.BaseFileLock | None:
    """The lock at *path* if it is free right now, else None (caller releases it)."""
    lock = filelock.FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        return None
    return lock


def lock_file(settings: Settings, environment: str, warn: Callable[[str], None]) -> Path:
    """The environment's lock file in the cache; in the temp dir if the cache is read-only."""
    from roost.util.cache import lock_name, lock_path

    try:
        return lock_path(settings, environment)
    except OSError as exc:
        folder = Path(tempfile.gettempdir()) / "roost-locks"
        folder.mkdir(parents=True, exist_ok=True)
        warn(f"cannot create a lock file in the cache ({exc.strerror or exc}); using {folder}")
        return folder / lock_name(environment)
