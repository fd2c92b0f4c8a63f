"""Run one command and measure it: wall time, peak memory, outcome."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TAIL_CHARS = 2000

#: GNU time reports the peak RSS of the command it runs. It is needed because Linux
#: counts the pre-exec address space of a forked child into that child's ru_maxrss, so
#: a child of this (large, index-serving) process never reports less than our own RSS.
GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


@dataclass(frozen=True)
class Sample:
    """One timed run of one command; ``maxrss_kb`` is -1 when it could not be measured."""

    seconds: float
    maxrss_kb: int
    returncode: int
    stderr_tail: str

    @property
    def ok(self) -> bool:
        """Whether the command exited 0."""
        return self.returncode == 0


def _peak_kb(report: Path) -> int:
    # The last line is %M; a failing command's "exited with non-zero status" precedes it.
    lines = report.read_text(errors="replace").split()
    try:
        return int(lines[-1])
    except (IndexError, ValueError):
        return -1


def run_measured(
    command: Sequence[str], env: dict[str, str], cwd: Path, timeout: float = 1800
) -> Sample:
    """Run *command*; its wall time, the peak RSS of its largest process, its stderr tail.

    The peak is per process, not summed: for pip ``--python``, which re-executes
    itself in the target interpreter, it is the larger of the two pip processes.
    The few milliseconds GNU time adds are the same for every tool.
    """
    with tempfile.TemporaryDirectory(prefix="bench-time-") as folder:
        report = Path(folder) / "rss"
        argv = list(command)
        if GNU_TIME:
            argv = [GNU_TIME, "-f", "%M", "-o", str(report), *argv]
        started = time.perf_counter()
        # A session of its own, so a timeout ends the whole tree, not just GNU time.
        with subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        ) as proc:
            try:
                _, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                _, err = proc.communicate()
                text = err.decode("utf-8", "replace")[-TAIL_CHARS:]
                return Sample(time.perf_counter() - started, -1, -9, text + "\n[timeout]")
            except BaseException:
                # Interrupted (Ctrl-C, SIGTERM): leave no installer running behind us.
                os.killpg(proc.pid, signal.SIGKILL)
                raise
        elapsed = time.perf_counter() - started
        peak = _peak_kb(report) if GNU_TIME and report.exists() else -1
    text = err.decode("utf-8", "replace")
    return Sample(
        seconds=elapsed,
        maxrss_kb=peak,
        returncode=proc.returncode,
        stderr_tail=text[-TAIL_CHARS:] if proc.returncode else "",
    )
