"""The undo log of one install or uninstall, and removing a distribution under it.

Files of a version being replaced, and any file a new wheel overwrites, are moved
aside rather than deleted, so a failure part-way puts the environment back exactly
as it was; interrupted transactions are recovered from their journal.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from roost.errors import InstallError
from roost.install import journal
from roost.target.installed import InstalledDist
from roost.types import Scheme


class Transaction:
    """Undo log for one install or uninstall: what was created, what was moved aside.

    Every change is written to a journal (:mod:`roost.install.journal`) before it is made, so
    a run killed part-way is undone by the next one (:func:`recover_environment`).
    """

    def __init__(self, anchor: Path, description: str = "roost transaction") -> None:
        anchor.mkdir(parents=True, exist_ok=True)
        # Same filesystem as the environment, so moving aside is a rename.
        self.backup = Path(tempfile.mkdtemp(prefix=journal.BACKUP_PREFIX, dir=anchor))
        self.journal = journal.begin(self.backup / journal.JOURNAL_NAME, description, anchor)
        #: Every path this transaction created (or is about to), as a string.
        self.created: set[str] = set()
        #: Directories this transaction made (as strings): everything below one is new,
        #: and undoing the journalled ``mkdir`` of its topmost ancestor removes it all.
        self.fresh: set[str] = set()
        self.moved: list[tuple[Path, Path]] = []

    def note(self, text: str) -> None:
        """Record a step for the message a recovery prints."""
        self.journal.write("note", what=text)

    def make_parents(self, path: Path | str) -> None:
        """Create the missing parents of *path*, journalling only the topmost one."""
        missing = []
        fresh = self.fresh
        parent = os.path.dirname(path)
        while parent not in fresh:
            above = os.path.dirname(parent)
            # A directory this transaction made holds only what it wrote, so a folder
            # inside one that is not in `fresh` is not there yet: no need to look.
            if above not in fresh and os.path.lexists(parent):
                break
            missing.append(parent)
            parent = above
        if not missing:
            return
        if parent not in self.fresh:
            # Not fsynced: after a power loss, at worst an empty directory is left.
            self.journal.write("mkdir", path=missing[-1])
        for directory in reversed(missing):
            os.mkdir(directory)
            self.fresh.add(directory)

    def in_fresh_dir(self, path: Path | str) -> bool:
        """Whether *path* lies in a directory this transaction made (nothing to journal)."""
        return os.path.dirname(path) in self.fresh

    def move_aside(self, path: Path) -> None:
        if not os.path.lexists(path):
            return
        slot = self.backup / str(len(self.moved))
        self.journal.write("move", sync=True, path=str(path), slot=str(slot))
        os.replace(path, slot)
        self.moved.append((path, slot))

    def move_all(self, paths: Sequence[Path]) -> None:
        """Move every existing path in *paths* aside, with one fsync of the journal."""
        todo = [path for path in dict.fromkeys(paths) if os.path.lexists(path)]
        slots = [self.backup / str(len(self.moved) + i) for i in range(len(todo))]
        for number, (path, slot) in enumerate(zip(todo, slots, strict=True), 1):
            self.journal.write("move", sync=number == len(todo), path=str(path), slot=str(slot))
        for path, slot in zip(todo, slots, strict=True):
            os.replace(path, slot)
            self.moved.append((path, slot))

    def add_created(self, path: Path | str, *, fresh: bool | None = None) -> None:
        """Say that *path* is about to be created (call before writing it).

        A path inside a directory this transaction made is not journalled: undoing that
        directory's ``mkdir`` removes it (one journal line per file was a tenth of a
        warm install's time). *fresh* says so when the caller knows already.
        """
        if not (self.in_fresh_dir(path) if fresh is None else fresh):
            self.journal.write("create", path=str(path))
        self.created.add(str(path))

    def rollback(self) -> None:
        """Undo every change; keep the backups (for the next run) if that fails."""
        logged = {e.get("path") for e in self.journal.entries if e["op"] == "create"}
        for path in self.created:
            if path not in logged and os.path.lexists(path) and not os.path.isdir(path):
                os.unlink(path)
        report = journal.undo(self.journal.entries)
        if report.failures:
            self.journal.close()
            raise InstallError(
                "undoing the changes failed for: "
                + "; ".join(report.failures)
                + f". The backups are kept in {self.backup}; the next roost run on this "
                "environment finishes the roll back."
            )
        # The journal is closed (its lock released) only once the backups are gone.
        journal.finish(self.backup)
        self.journal.close()

    def commit(self) -> None:
        self.journal.write("commit", sync=True)
        journal.finish(self.backup)
        self.journal.close()


def recover_environment(scheme: Scheme, log: Callable[[str], None]) -> int:
    """Roll back (or finish) transactions an earlier run left behind in *scheme*.

    Only under the environment's lock: when the caller does not hold it, it is taken
    here if it is free, and nothing is done if another run holds it (its transaction
    is live). Journals naming anything outside the scheme's folders are left alone.
    """
    from roost.install import lock

    anchors = [Path(scheme.purelib), Path(scheme.platlib)]
    roots = scheme_roots(scheme)
    if lock.holds(scheme.purelib):
        return journal.recover(anchors, log, roots=roots)
    early = lock.try_lock(lock.lock_file_in(scheme.purelib))
    if early is None:
        return 0
    try:
        return journal.recover(anchors, log, roots=roots)
    finally:
        early.release()


def scheme_roots(scheme: Scheme) -> list[Path]:
    return [Path(p) for p in dict.fromkeys(scheme.as_dict().values())]


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _within(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def remove_distribution(dist: InstalledDist, scheme: Scheme, tx: Transaction) -> list[Path]:
    """Move every file of *dist* aside, leaving alone RECORD entries outside the scheme,
    and those whose folder is reached through a symlink leading out of it.

    Returns the paths it refused to touch, for a warning.
    """
    roots = [*scheme_roots(scheme), dist.location]
    # Moving a file moves it wherever its folder really is: a package folder that is a
    # link to a checkout elsewhere would lose that checkout's files (a link named in
    # RECORD is itself moved as a link, which is harmless).
    real_roots = [os.path.realpath(root) for root in roots]
    folders: dict[Path, bool] = {}

    def really_inside(folder: Path) -> bool:
        if folder not in folders:
            folders[folder] = _within(os.path.realpath(folder), real_roots)
        return folders[folder]

    refused: list[Path] = []
    # The .dist-info goes first, so a half-removed distribution is invisible rather
    # than listed but broken.
    doomed: list[Path] = [dist.dist_info] if dist.dist_info.exists() else []
    for path in dist.record_paths():
        if not _inside(path, roots) or not really_inside(path.parent):
            refused.append(path)
            continue
        if dist.dist_info in path.parents:
            continue
        if path.suffix == ".py":
            cache = path.parent / "__pycache__"
            if cache.is_dir() and really_inside(cache):
                doomed.extend(cache.glob(f"{path.stem}.*.pyc"))
        doomed.append(path)
    tx.move_all(doomed)
    return refused


def prune_empty_dirs(paths: Sequence[Path], stop: Sequence[Path]) -> None:
    """Remove directories left empty by an uninstall, up to (not including) *stop*."""
    for path in sorted({p.parent for p in paths}, key=lambda p: len(p.parts), reverse=True):
        current = path
        while current not in stop and _inside(current, stop):
            pycache = current / "__pycache__"
            if pycache.is_dir() and not any(pycache.iterdir()):
                pycache.rmdir()
            try:
                current.rmdir()
            except OSError:
                break
            current = current.parent
