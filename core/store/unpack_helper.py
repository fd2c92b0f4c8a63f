"""A second process that unpacks wheels into the store beside the install's threads.

Unpacking is Python per member (a local header, a few system calls, a RECORD row), so
two threads of one process take turns holding the GIL: on 2 CPUs they unpacked
jupyter's 97 wheels in 1.78 s inside an install, where one thread plus this helper
took 1.37 s. The helper is started on the first wheel that really needs unpacking
(never on an install served from the store), takes one wheel at a time from whichever
thread finds it free (or from the one thread feeding it wheels the resolver pinned,
which waits for it), and costs 30-35 MiB while it lives (23 MiB of it the imports).

Protocol, one JSON line each way over the helper's stdin and stdout: the request
``[wheel, directory, expected]`` runs :func:`roost.store.unpack.unpack_wheel` (``expected`` is
null, or the name, version and index metadata to run the archive checks with); the
reply is ``["ok"]``, ``["record", issues]``, ``["unsafe", text]`` (the archive checks
refused the wheel) or a failure as :mod:`roost.util.helper_process` describes it, and the
parent raises what the same failure raises in-process, with the same text.
A helper that cannot start, dies or answers nonsense is dropped for the rest of the
run; the wheel it had is unpacked again in-process from a clean directory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING

from roost.util.helper_process import describe, finish, ignore_interrupts, rebuild, spawn

if TYPE_CHECKING:
    from roost.store.unpack import Expected


class UnpackHelper:
    """One helper process, started on first use, shared by the unpacking threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._unusable = False

    @property
    def pid(self) -> int | None:
        """The helper's process id while it runs."""
        return None if self._process is None else self._process.pid

    def unpack(
        self, wheel: Path, into: Path, *, wait: bool = False, expected: Expected | None = None
    ) -> bool:
        """Unpack *wheel* into *into* in the helper (checking it first with *expected*);
        False when the helper is busy (and *wait* is false) or unusable (the caller
        unpacks in-process). Raises what ``unpack_wheel`` raises."""
        if self._unusable or not self._lock.acquire(blocking=wait):
            return False
        try:
            process = self._process or self._start()
            if process is None:
                return False
            reply = self._ask(process, [str(wheel), str(into), expected])
            if reply is None:
                self._drop()
                return False
        finally:
            self._lock.release()
        _raise_failure(reply)
        return True

    def close(self) -> None:
        """End the helper (it exits when its stdin closes); kill it if it hangs."""
        with self._lock:
            self._drop()

    def _start(self) -> subprocess.Popen[bytes] | None:
        self._process = spawn("roost.store.unpack_helper")
        self._unusable = self._process is None
        return self._process

    def _ask(self, process: subprocess.Popen[bytes], request: list[object]) -> list[object] | None:
        stdin, stdout = process.stdin, process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
            stdin.flush()
            line = stdout.readline()
            reply = json.loads(line) if line else None
        except (OSError, ValueError):
            return None
        return reply if isinstance(reply, list) and reply else None

    def _drop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        self._unusable = True
        finish(process)


def _raise_failure(reply: list[object]) -> None:
    from roost.store.unpack import RecordMismatch
    from roost.store.wheel_check import UnsafeWheelError

    if reply[0] == "ok":
        return
    if reply[0] == "record" and isinstance(reply[1], list):
        raise RecordMismatch([str(issue) for issue in reply[1]])
    if reply[0] == "unsafe" and len(reply) == 2:
        raise UnsafeWheelError(str(reply[1]))
    raise rebuild(reply)


def main() -> None:
    """The helper process: :func:`serve` on stdin and stdout."""
    ignore_interrupts()
    serve(sys.stdin, sys.stdout)


def serve(source: IO[str], sink: IO[str]) -> None:
    """Answer one request per line of *source* until it ends."""
    from roost.store.unpack import RecordMismatch, unpack_wheel
    from roost.store.wheel_check import UnsafeWheelError

    for line in source:
        wheel, into, expected = json.loads(line)
        reply: list[object]
        try:
            unpack_wheel(Path(wheel), Path(into), None if expected is None else tuple(expected))
            reply = ["ok"]
        except RecordMismatch as exc:
            reply = ["record", exc.issues]
        except UnsafeWheelError as exc:
            reply = ["unsafe", exc.message]
        except Exception as exc:  # in-process, the refusal shows any error as its text
            reply = describe(exc)
        sink.write(json.dumps(reply) + "\n")
        sink.flush()
