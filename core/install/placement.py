"""Placing files from the unpacked store into an environment, in a helper process
beside the install when there is a CPU for it.

A warm install of jupyter is 12,000 ``link`` calls and, for each, the Python that
decides the target (journal, parents, what to move aside, the RECORD row). In one
process those take turns; with the decisions here and the calls in a helper process
they overlap: installing took 0.43 s in-process and 0.32 s with the helper (2 CPUs).

The parent does everything the transaction depends on before handing an operation
over (journal entries, parent directories, moving an existing file aside), so the
helper only carries out ``link``/copy/``symlink`` (:class:`~roost.store.linker.Linker`)
and ``rename`` calls, in order. :meth:`Placer.sync` waits for them and raises the
first failure as the in-process call would have raised it, with the step it belongs
to. A helper that cannot start or dies is dropped and what it had not confirmed is
done again in-process; one whose parent has gone stops.

Protocol over the helper's stdin, NUL-terminated fields (no path holds a NUL):
``P source target x`` places (``x`` is ``1`` for an executable file), ``R source
target`` renames, ``V root`` checks a store entry by content
(:func:`~roost.store.entry_check.verify_entry`: every file hashed, the one costly
check of a warm install, made here while the installing process goes on and checks a
share of the entries itself), ``S`` asks for a reply.
After a failure the helper skips changes until the next ``S``. The reply is one JSON
line, ``[mode, logs, failure, checked]``: the link mode it ended with (hard links may
have fallen back to copies), its log lines, null or ``[number, *failure]`` (the
operation's number, counted from 0 over the whole run, and the failure as
:mod:`roost.util.helper_process` describes it), and for each entry ``V`` checked the
sha256 of the manifest it verified, or null if the entry failed.
"""

from __future__ import annotations

import bisect
import json
import os
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

from roost.store.linker import Linker
from roost.store.store_files import ARCHIVE
from roost.util.helper_process import describe, finish, ignore_interrupts, rebuild, spawn

#: Operations handed over per write: a few pipe buffers' worth.
_BATCH = 200
_READ = 1 << 16
_FIELDS = {b"P": 4, b"V": 2, b"R": 3, b"S": 1}
#: The helper checks this many times as much of the store (by wheel size) as the
#: installing process, which has its own work meanwhile (see :meth:`Placer._mine`).
_HELPER_SHARE = 2


class PlacementFailed(Exception):
    """An operation the helper carried out failed; *error* is what it raised and
    *step* the step it belonged to (see :meth:`Placer.step`)."""

    def __init__(self, error: Exception, step: str | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.step = step


class Placer:
    """Places files (and renames staged directories) in the order asked: at once, or
    in a helper process started with *helper* (worth it with two or more CPUs)."""

    def __init__(self, linker: Linker, *, helper: bool) -> None:
        self.linker = linker
        self._process = spawn("roost.install.placement", linker.mode) if helper else None
        #: Operations asked for since the last confirmed sync (to redo in-process if the
        #: helper dies), ``(kind, path, target, executable)``; the first ``_sent`` of
        #: them are written to the helper already.
        self._unconfirmed: list[tuple[str, str, str, bool]] = []
        self._sent = 0
        self._count = 0
        #: Entries :meth:`verify` found not to be what their wheel holds.
        self.stale: set[str] = set()
        #: Entries :meth:`verify` found sound, with the sha256 of the manifest it read
        #: (the installing process compares it with the manifest it read itself).
        self.verified: dict[str, str] = {}
        self._steps: list[int] = []
        self._labels: list[str] = []
        #: The size of the wheels of the entries checked here, and in the helper.
        self._weights = [0, 0]

    @property
    def pid(self) -> int | None:
        """The helper's process id while it runs."""
        return None if self._process is None else self._process.pid

    @property
    def helped(self) -> bool:
        """Whether a helper process is carrying the operations out."""
        return self._process is not None

    @property
    def pending(self) -> bool:
        """Whether operations were handed over that :meth:`sync` has not confirmed."""
        return bool(self._unconfirmed)

    def step(self, label: str) -> None:
        """Operations from here on belong to *label* (for a failure's message)."""
        self._steps.append(self._count)
        self._labels.append(label)

    def place(self, source: str, target: str, executable: bool) -> None:
        """Create *target* from the store file *source* (see :class:`Linker`)."""
        if self._process is None:
            self.linker.place(source, target, executable)
            return
        self._unconfirmed.append(("P", source, target, executable))
        self._count += 1
        if len(self._unconfirmed) - self._sent >= _BATCH:
            self._send()

    def verify(self, root: str) -> None:
        """Check the store entry at *root* by content (see
        :func:`~roost.store.entry_check.verify_entry`) in the helper (at once without
        one); after the next :meth:`sync`, :attr:`stale` holds it if it failed,
        :attr:`verified` if not."""
        if self._process is None or self._mine(root):
            self._checked(root, _verify(root))
            return
        self._unconfirmed.append(("V", root, "", False))
        self._count += 1
        # Sent at once: the point is that the helper checks while this process goes on.
        self._send()

    def _mine(self, root: str) -> bool:
        """Whether to check the entry at *root* here rather than in the helper.

        This process waits for the helper's checks soon after handing them over (the
        fetch stage's sync): checking a share of the entries itself meanwhile, the two
        finish closer together. A warm install of 50 wheels (10,000 files) had 50 ms
        of this process's own work there and 180 ms of checks; with a third of the
        checks here (shared by the size of each entry's wheel, a stat call) the stage
        took 0.21 s instead of 0.31 s (medians of 9, 2 CPUs).
        """
        try:
            weight = os.stat(os.path.join(root, ARCHIVE)).st_size
        except OSError:
            weight = 0
        mine = self._weights[0] * _HELPER_SHARE < self._weights[1]
        self._weights[0 if mine else 1] += weight
        return mine

    def rename(self, source: str, target: str) -> None:
        """``os.replace(source, target)``, after everything asked before it."""
        if self._process is None:
            os.replace(source, target)
            return
        self._unconfirmed.append(("R", source, target, False))
        self._count += 1

    def sync(self) -> None:
        """Wait until every operation asked for is done; raise the first failure (a
        :class:`PlacementFailed`)."""
        if self._process is None or not self._unconfirmed:
            return
        if not self._send(ask=True):
            return  # the helper was gone: everything is done in-process now
        reply = self._reply()
        if reply is None:
            self._take_over()
            return
        mode, logs, failure, checked = reply
        for root, digest in checked.items():
            self._checked(root, digest)
        self.linker.mode = mode
        for line in logs:
            self.linker.log(line)
        self._unconfirmed.clear()
        self._sent = 0
        if failure:
            number, described = failure[0], failure[1:]
            index = bisect.bisect_right(self._steps, number) - 1
            raise PlacementFailed(rebuild(described), self._labels[index] if index >= 0 else None)

    def _checked(self, root: str, digest: str | None) -> None:
        if digest is None:
            self.stale.add(root)
        else:
            self.verified[root] = digest

    def close(self) -> None:
        """End the helper at once: after :meth:`sync` it has nothing left to do, and
        when rolling back whatever it had not done yet must stay undone. (Waiting for
        it to exit on its own cost a run with nothing to install 30 ms: the helper
        was still starting.)"""
        process, self._process = self._process, None
        if process is not None:
            finish(process, kill=True)
        self._unconfirmed.clear()
        self._sent = 0

    def _send(self, *, ask: bool = False) -> bool:
        """Write what the helper has not been sent yet (and, with *ask*, ``S``)."""
        fields: list[str] = []
        for kind, path, target, executable in self._unconfirmed[self._sent :]:
            if kind == "P":
                fields += (kind, path, target, "1" if executable else "0")
            elif kind == "R":
                fields += (kind, path, target)
            else:
                fields += (kind, path)
        if ask:
            fields.append("S")
        self._sent = len(self._unconfirmed)
        process = self._process
        assert process is not None and process.stdin is not None
        data = ("\0".join(fields) + "\0").encode("utf-8", "surrogateescape")
        try:
            process.stdin.write(data)
            process.stdin.flush()
        except OSError:
            self._take_over()
            return False
        return True

    def _reply(self) -> tuple[str, list[str], list[Any] | None, dict[str, str | None]] | None:
        """The helper's answer to ``S``; None if it died or answered nonsense."""
        process = self._process
        assert process is not None and process.stdout is not None
        try:
            reply = json.loads(process.stdout.readline() or b"null")
        except (OSError, ValueError):
            return None
        if not (isinstance(reply, list) and len(reply) == 4):
            return None
        mode, logs, failure, checked = reply
        if (
            isinstance(mode, str)
            and isinstance(logs, list)
            and all(isinstance(line, str) for line in logs)
            and isinstance(checked, dict)
            and all(isinstance(digest, str | None) for digest in checked.values())
            and (
                failure is None
                or (isinstance(failure, list) and failure and isinstance(failure[0], int))
            )
        ):
            return mode, logs, failure, checked
        return None

    def _take_over(self) -> None:
        """The helper is gone (or talks nonsense): do what it had not confirmed here."""
        todo, self._unconfirmed = self._unconfirmed, []
        self.close()
        for kind, source, target, executable in todo:
            if kind == "V":
                self._checked(source, _verify(source))
                continue
            if kind == "R":
                if os.path.lexists(source):
                    os.replace(source, target)
                continue
            # The target is new in this transaction (its own journal entry or a fresh
            # directory): whatever is there is the helper's, perhaps half copied.
            if os.path.lexists(target):
                os.unlink(target)
            self.linker.place(source, target, executable)


def _verify(root: str) -> str | None:
    # Imported on the first check: the helper starts in 13 ms instead of 20 without
    # zipfile and hashlib, and a cold install checks no entry.
    from roost.store.entry_check import verify_entry

    return verify_entry(root)


def main() -> None:
    """The helper process: :func:`serve` on stdin and stdout, in the mode of argv."""
    import signal

    ignore_interrupts()
    if hasattr(signal, "SIGXFSZ"):
        # As in the parent's transaction: a file-size limit fails the copy (EFBIG, then
        # rolled back) instead of killing the helper.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    serve(sys.stdin.fileno(), sys.stdout.buffer, sys.argv[1], os.getppid())


def serve(source: int, sink: BinaryIO, mode: str, parent: int) -> None:
    """Carry out operations read from the file descriptor *source* until it ends (or
    the parent process *parent* has gone)."""
    logs: list[str] = []
    checked: dict[str, str | None] = {}
    linker = Linker(mode, logs.append)
    failure: list[object] | None = None
    number = 0
    fields: list[bytes] = []
    tail = b""
    decode: Callable[[bytes], str] = os.fsdecode
    while True:
        chunk = os.read(source, _READ)
        if not chunk or os.getppid() != parent:
            return
        more = (tail + chunk).split(b"\0")
        tail = more.pop()
        fields += more
        at, end = 0, len(fields)
        while at < end:
            kind = fields[at]
            size = _FIELDS.get(kind)
            if size is None:
                raise SystemExit(f"roost placement helper: unknown operation {kind!r}")
            if at + size > end:
                break
            if kind == b"S":
                sink.write(json.dumps([linker.mode, logs, failure, checked]).encode() + b"\n")
                sink.flush()
                failure = None
                logs.clear()
                checked.clear()
            elif kind == b"V":
                # A check, not a change: made even after a failure.
                root = decode(fields[at + 1])
                checked[root] = _verify(root)
                number += 1
            else:
                if failure is None:
                    try:
                        if kind == b"P":
                            linker.place(
                                decode(fields[at + 1]),
                                decode(fields[at + 2]),
                                fields[at + 3] == b"1",
                            )
                        else:
                            os.replace(fields[at + 1], fields[at + 2])
                    except Exception as exc:
                        failure = [number, *describe(exc)]
                number += 1
            at += size
        del fields[:at]
