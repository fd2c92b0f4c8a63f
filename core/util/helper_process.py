"""Starting roost's helper processes, and carrying their failures back.

A helper (:mod:`roost.store.unpack_helper`, :mod:`roost.install.placement`) is this interpreter
running one of roost's modules with the parent's ``sys.path``, so it imports this very
roost (an editable checkout, a ``PYTHONPATH`` folder) whatever the environment says.
It ignores SIGINT, because an interrupt is the parent's to handle: the parent ends a
helper by closing its stdin, or kills it while rolling back.

A failure crosses the pipe as a JSON list: ``["os", errno, strerror, filename]`` for
an :class:`OSError`, ``["error", text]`` for anything else, and comes back as the same
:class:`OSError` or as :class:`HelperFailed` with the original's text, so the parent
reports what it would have reported doing the work itself.
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

#: How long a helper gets to exit once its stdin is closed: nothing it does takes longer.
_CLOSE_TIMEOUT = 10.0


class HelperFailed(Exception):
    """A failure inside a helper other than a file-system error; its text is the
    original exception's."""


def spawn(module: str, *args: str) -> subprocess.Popen[bytes] | None:
    """Start ``module.main()`` in a new interpreter with binary pipes on stdin and
    stdout; None when no process can be started."""
    # subprocess is imported here and below: the helpers import this module too, and
    # need nothing of it.
    if not sys.executable:
        return None
    import subprocess

    code = (
        "import json, sys; "
        f"sys.path[:] = json.loads({json.dumps(json.dumps(sys.path))}); "
        f"from {module} import main; main()"
    )
    try:
        return subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None


def finish(process: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    """End a helper: close its pipes and wait for it (killing it if it hangs, or at
    once with *kill*)."""
    import subprocess

    if kill:
        process.kill()
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    try:
        process.wait(timeout=_CLOSE_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def ignore_interrupts() -> None:
    """In a helper: leave SIGINT to the parent (dying here only makes a broken helper)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def describe(exc: BaseException) -> list[object]:
    """*exc* as a JSON-able list for the parent."""
    if isinstance(exc, OSError):
        return ["os", exc.errno, exc.strerror or str(exc), exc.filename]
    return ["error", str(exc)]


def rebuild(failure: list[object]) -> Exception:
    """The exception :func:`describe` described."""
    if failure[0] == "os" and len(failure) == 4:
        number, text, filename = failure[1], str(failure[2]), failure[3]
        if not isinstance(number, int):
            return OSError(text)
        return OSError(number, text, filename) if filename else OSError(number, text)
    return HelperFailed(str(failure[-1]))
