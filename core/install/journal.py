"""A write-ahead journal for one transaction, and recovery of interrupted ones.

Where the journal lives: in the transaction's backup directory
(``<site-packages>/.roost-tx-*/journal``), not in the cache. The backups it describes
are there anyway (moving aside must be a rename on the same filesystem), so the journal
and the files it needs to undo an install are created, copied and deleted together. A
run with another ``--cache-dir`` or ``--no-cache-dir``, another user, or a ``COPY`` of
the environment into another image still finds it.

Paths in it are relative to the folder that holds the backup directory (the anchor,
site-packages; ``../../../bin/x`` for a script), and a backup slot is named by its
name in the backup directory: a copy of the environment recovers itself, never the
place it was copied from. :func:`read` resolves them against where the journal is
now; :func:`recover` refuses, whole, a journal naming anything outside the
environment it runs on (an older roost wrote absolute paths) and keeps its backups.

Each line is a JSON object written *before* the change it describes: ``begin``,
``note`` (a human-readable step), ``mkdir``, ``move`` (from, to slot), ``create``
and, last, ``commit``. A journal that reaches ``commit`` is rolled forward (only the
backups are left to delete); any other is rolled back by undoing its steps in reverse.
Replaying an undo twice is harmless, so a crash during recovery is recovered by the
next run too. The transaction holds an exclusive ``flock`` on its journal while it
lives, so a recovery never undoes a transaction whose process is still running, even
one that did not take the environment's lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

JOURNAL_NAME = "journal"
BACKUP_PREFIX = ".roost-tx-"
#: ``format`` of the ``begin`` entry: paths relative to the anchor. Journals without it
#: (older roost) hold absolute paths.
FORMAT = "2"
#: errno values saying that nothing exists at a path (a name too long cannot exist).
_ABSENT = {errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG}


class Journal:
    """An append-only log file; moves and new directories are fsynced before they happen.

    Entries in :attr:`entries` hold paths as given; the file holds them relative to
    *anchor* (the folder the backup directory is in).
    """

    def __init__(self, path: Path, anchor: Path) -> None:
        self.path = path
        self._anchor = os.path.abspath(anchor)
        self._prefix = self._anchor.rstrip(os.sep) + os.sep
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        # Held until close: a recovery that finds it held leaves the transaction alone.
        # Without flock (some network filesystems) the environment's lock still holds.
        with contextlib.suppress(OSError):
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.entries: list[dict[str, str]] = []

    def write(self, op: str, *, sync: bool = False, **fields: str) -> None:
        """Append one entry; with *sync*, make it durable before returning."""
        entry = {"op": op, **fields}
        self.entries.append(entry)
        stored = dict(entry)
        if "path" in stored:
            stored["path"] = self._relative(stored["path"])
        if "slot" in stored:
            stored["slot"] = os.path.basename(stored["slot"])
        self._file.write(json.dumps(stored) + "\n")
        # flush() alone survives SIGKILL (the kernel has the bytes); fsync is for power
        # loss, paid where losing the entry would lose a user's file.
        self._file.flush()
        if sync:
            os.fsync(self._file.fileno())

    def _relative(self, path: str) -> str:
        # A string test first: this runs for every journalled file of an install.
        if path.startswith(self._prefix) and "/.." not in path:
            return path[len(self._prefix) :]
        return os.path.relpath(path, self._anchor)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def begin(path: Path, description: str, anchor: Path) -> Journal:
    """Start a journal at *path* for changes made around *anchor*."""
    journal = Journal(path, anchor)
    journal.write(
        "begin",
        sync=True,
        pid=str(os.getpid()),
        time=str(int(time.time())),
        what=description,
        format=FORMAT,
        # Where it ran, for the message of a recovery in a copy; never acted on.
        environment=os.path.abspath(anchor),
    )
    return journal


def read(path: Path) -> list[dict[str, str]]:
    """The entries of the journal file at *path*, paths resolved against where it is now.

    A torn last line (a crash mid-write) is dropped. ``path`` values are absolute
    (joined to the folder holding the backup directory, unless an older roost wrote
    them absolute); ``slot`` values are in the journal's own backup directory.
    """
    entries = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    backup = os.path.abspath(path.parent)
    anchor = os.path.dirname(backup)
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not (isinstance(entry, dict) and isinstance(entry.get("op"), str)):
            continue
        entry = {str(k): str(v) for k, v in entry.items()}
        if "path" in entry:
            entry["path"] = os.path.normpath(os.path.join(anchor, entry["path"]))
        if "slot" in entry:
            name = os.path.basename(entry["slot"])
            # "" is never there, so a slot that is not a name in the backup is skipped.
            entry["slot"] = "" if name in {"", ".", ".."} else os.path.join(backup, name)
        entries.append(entry)
    return entries


@dataclass
class UndoReport:
    """What undoing a journal did."""

    restored: int = 0
    removed: int = 0
    failures: list[str] = field(default_factory=list)


def _lstat(path: str) -> os.stat_result | None:
    """The path's own status, or None when nothing is there."""
    try:
        return os.lstat(path)
    except OSError as exc:
        if exc.errno in _ABSENT:
            return None
        raise


def _remove(path: str) -> bool:
    """Remove what is at *path* (a directory with its contents, a link as a link)."""
    status = _lstat(path)
    if status is None:
        return False
    if stat.S_ISDIR(status.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)
    return True


def undo(entries: Iterable[dict[str, str]]) -> UndoReport:
    """Undo every change *entries* describe (absolute paths), newest first; idempotent."""
    report = UndoReport()
    for entry in reversed(list(entries)):
        op = entry["op"]
        try:
            if op == "create":
                report.removed += _remove(entry["path"])
            elif op == "mkdir":
                status = _lstat(entry["path"])
                if status is not None and stat.S_ISDIR(status.st_mode):
                    shutil.rmtree(entry["path"])
            elif op == "move":
                original, slot = entry["path"], entry["slot"]
                if _lstat(slot) is not None:
                    os.makedirs(os.path.dirname(original), exist_ok=True)
                    _remove(original)
                    os.replace(slot, original)
                    report.restored += 1
        except OSError as exc:
            report.failures.append(f"{entry.get('path')}: {exc}")
    return report


def finish(backup: Path) -> None:
    """Delete a transaction's backup directory, its journal first: once the journal is
    gone, what may be left of the folder is deleted quietly by the next run."""
    with contextlib.suppress(OSError):
        os.unlink(backup / JOURNAL_NAME)
    shutil.rmtree(backup, ignore_errors=True)


def pending(anchors: Iterable[Path]) -> list[Path]:
    """Backup directories of transactions left behind in *anchors*."""
    found: list[Path] = []
    seen: set[str] = set()
    for anchor in anchors:
        # lib64 may be a link to lib: one folder, looked at once.
        real = os.path.realpath(anchor)
        if real in seen:
            continue
        seen.add(real)
        try:
            children = sorted(anchor.iterdir())
        except OSError:
            continue
        found.extend(
            child
            for child in children
            if child.name.startswith(BACKUP_PREFIX) and child.is_dir() and not child.is_symlink()
        )
    return found


@contextlib.contextmanager
def _owned(path: Path) -> Iterator[bool]:
    """Whether no live process holds the journal at *path* (held meanwhile if so)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        yield True  # No journal (or an unreadable one): nobody is writing it.
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            live = False
        except BlockingIOError:
            live = True
        except OSError:
            # No flock here (some network filesystems): the environment's lock decides.
            live = False
        yield not live
    finally:
        os.close(fd)


def _inside(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def outside(entries: Iterable[dict[str, str]], roots: Iterable[Path]) -> str | None:
    """The first path *entries* would change outside *roots* (lexically, or through a
    symlinked directory), or None when they all stay inside."""
    plain = [os.path.abspath(root) for root in roots]
    real = [os.path.realpath(root) for root in plain]
    for entry in entries:
        path = entry.get("path")
        if entry["op"] not in {"create", "mkdir", "move"} or path is None:
            continue
        if not _inside(path, plain) or not _inside(
            os.path.realpath(os.path.dirname(path)), real + plain
        ):
            return path
    return None


def recover(
    anchors: Iterable[Path], log: Callable[[str], None], *, roots: Iterable[Path] = ()
) -> int:
    """Finish or undo every interrupted transaction in *anchors*; return how many.

    The caller holds the environment's lock. A journal naming a path outside *roots*
    (the environment's folders; *anchors* too) is left alone, with its backups.
    """
    anchors = list(anchors)
    allowed = [*anchors, *roots]
    count = 0
    for backup in pending(anchors):
        with _owned(backup / JOURNAL_NAME) as owned:
            if not owned:
                log(f"Leaving {backup} alone: the roost process writing it is still running.")
                continue
            count += _recover_one(backup, allowed, log)
    return count


def _recover_one(backup: Path, roots: list[Path], log: Callable[[str], None]) -> int:
    entries = read(backup / JOURNAL_NAME)
    if not entries:
        # Nothing was journalled, so nothing in the environment was changed yet.
        shutil.rmtree(backup, ignore_errors=True)
        return 0
    first = entries[0]
    what = first.get("what", "a roost transaction")
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(first.get("time", "0") or 0)))
    origin = f"{what} (process {first.get('pid', '?')}, started {since})"
    if entries[-1]["op"] == "commit":
        finish(backup)
        log(f"Completed an interrupted transaction: {origin} had finished; cleaned up.")
        return 1
    stray = outside(entries, roots)
    if stray is not None:
        log(
            f"Not recovering the interrupted {origin}: its journal ({backup / JOURNAL_NAME}) "
            f"names {stray}, outside this environment, so undoing it here could change "
            "another one (the environment was probably copied or moved from "
            f"{first.get('environment', 'elsewhere')} with an older roost's unfinished "
            f"transaction). Nothing was changed; the backups stay in {backup}: restore "
            "what you need from there, then delete that folder."
        )
        return 1
    report = undo(entries)
    if report.failures:
        log(
            f"Could not fully roll back the interrupted {origin}; its backups stay in "
            f"{backup}: " + "; ".join(report.failures)
        )
        return 1
    finish(backup)
    moved = ""
    started_in = first.get("environment")
    if started_in and started_in != os.path.abspath(backup.parent):
        moved = f" It had started in {started_in}; it was undone here, where it is now."
    log(
        f"Rolled back an interrupted {origin}: restored {report.restored} and removed "
        f"{report.removed} files; the environment is as it was before.{moved}"
    )
    return 1
