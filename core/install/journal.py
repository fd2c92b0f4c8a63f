"""A write-ahead journal for one transaction, and recovery of interrupted ones.

Where the journal lives: in the transaction's backup directory
(``<site-packages>/.roost-tx-*/journal``), not in the cache next to the lock. The
backups it describes are there anyway (moving aside must be a rename on the same
filesystem), so the journal and the files it needs to undo an install are created,
copied and deleted together. A run with another ``--cache-dir`` or
``--no-cache-dir``, another user, or a ``COPY`` of the environment into another image
still finds it. The lock protects it: only the holder of the environment's lock writes
a journal or recovers one.

Each line is a JSON object written *before* the change it describes: ``begin``,
``note`` (a human-readable step), ``mkdir``, ``move`` (from, to slot), ``create``
and, last, ``commit``. A journal that reaches ``commit`` is rolled forward (only the
backups are left to delete); any other is rolled back by undoing its steps in reverse.
Replaying an undo twice is harmless, so a crash during recovery is recovered by the
next run too.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

JOURNAL_NAME = "journal"
BACKUP_PREFIX = ".roost-tx-"


class Journal:
    """An append-only log file; moves and new directories are fsynced before they happen."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.entries: list[dict[str, str]] = []

    def write(self, op: str, *, sync: bool = False, **fields: str) -> None:
        """Append one entry; with *sync*, make it durable before returning."""
        entry = {"op": op, **fields}
        self.entries.append(entry)
        self._file.write(json.dumps(entry) + "\n")
        # flush() alone survives SIGKILL (the kernel has the bytes); fsync is for power
        # loss, paid where losing the entry would lose a user's file.
        self._file.flush()
        if sync:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def begin(path: Path, description: str) -> Journal:
    """Start a journal at *path*."""
    journal = Journal(path)
    journal.write(
        "begin", sync=True, pid=str(os.getpid()), time=str(int(time.time())), what=description
    )
    return journal


def read(path: Path) -> list[dict[str, str]]:
    """The entries of a journal file; a torn last line (a crash mid-write) is dropped."""
    entries = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("op"), str):
            entries.append({str(k): str(v) for k, v in entry.items()})
    return entries


@dataclass
class UndoReport:
    """What undoing a journal did."""

    restored: int = 0
    removed: int = 0
    failures: list[str] = field(default_factory=list)


def undo(entries: Iterable[dict[str, str]]) -> UndoReport:
    """Undo every change *entries* describe, newest first; idempotent."""
    report = UndoReport()
    for entry in reversed(list(entries)):
        op = entry["op"]
        try:
            if op == "create":
                path = Path(entry["path"])
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                    report.removed += 1
                elif os.path.lexists(path):
                    path.unlink()
                    report.removed += 1
            elif op == "mkdir":
                path = Path(entry["path"])
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
            elif op == "move":
                original, slot = Path(entry["path"]), Path(entry["slot"])
                if os.path.lexists(slot):
                    original.parent.mkdir(parents=True, exist_ok=True)
                    if original.is_dir() and not original.is_symlink():
                        shutil.rmtree(original)
                    elif os.path.lexists(original):
                        original.unlink()
                    os.replace(slot, original)
                    report.restored += 1
        except OSError as exc:
            report.failures.append(f"{entry.get('path')}: {exc}")
    return report


def pending(anchors: Iterable[Path]) -> list[Path]:
    """Backup directories of transactions left behind in *anchors*."""
    found: list[Path] = []
    for anchor in dict.fromkeys(anchors):
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


def recover(anchors: Iterable[Path], log: Callable[[str], None]) -> int:
    """Finish or undo every interrupted transaction in *anchors*; return how many.

    The caller holds the environment's lock, so no live transaction is touched.
    """
    count = 0
    for backup in pending(anchors):
        entries = read(backup / JOURNAL_NAME)
        if not entries:
            # Nothing was journalled, so nothing in the environment was changed yet.
            shutil.rmtree(backup, ignore_errors=True)
            continue
        count += 1
        first = entries[0]
        what = first.get("what", "a roost transaction")
        since = time.strftime(
            "%Y-%m-%d %H:%M:%S", time.localtime(int(first.get("time", "0") or 0))
        )
        origin = f"{what} (process {first.get('pid', '?')}, started {since})"
        if entries[-1]["op"] == "commit":
            shutil.rmtree(backup, ignore_errors=True)
            log(f"Completed an interrupted transaction: {origin} had finished; cleaned up.")
            continue
        report = undo(entries)
        if report.failures:
            log(
                f"Could not fully roll back the interrupted {origin}; its backups stay in "
                f"{backup}: " + "; ".join(report.failures)
            )
            continue
        shutil.rmtree(backup, ignore_errors=True)
        log(
            f"Rolled back an interrupted {origin}: restored {report.restored} and removed "
            f"{report.removed} files; the environment is as it was before."
        )
    return count
