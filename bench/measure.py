"""Run one command and measure it: wall time, peak memory, outcome."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TAIL_CHARS = 2000

#: GNU time reports the peak RSS of the command it runs. It is needed because Linux
#: counts the pre-exec address space of a forked child into that child's ru_maxrss, so
#: a child of this (large, index-serving) process never reports less than our own RSS.
GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


#: How often the process tree's memory is sampled while a command runs.
TREE_INTERVAL = 0.01
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4


@dataclass(frozen=True)
class Sample:
    """One timed run of one command; a memory figure is -1 when it could not be
    measured. ``maxrss_kb`` is the peak RSS of the command's largest process (GNU
    time); ``tree_peak_kb`` the largest sum of RSS over all its processes at once,
    sampled every :data:`TREE_INTERVAL` seconds (Linux ``/proc``)."""

    seconds: float
    maxrss_kb: int
    returncode: int
    stderr_tail: str
    tree_peak_kb: int = -1

    @property
    def ok(self) -> bool:
        """Whether the command exited 0."""
        return self.returncode == 0


def skipped(why: str) -> Sample:
    """A run that was not made (its priming install failed): recorded as a failure."""
    return Sample(seconds=0.0, maxrss_kb=0, returncode=-1, stderr_tail=why)


def _peak_kb(report: Path) -> int:
    # The last line is %M; a failing command's "exited with non-zero status" precedes it.
    lines = report.read_text(errors="replace").split()
    try:
        return int(lines[-1])
    except (IndexError, ValueError):
        return -1


def tree_rss_kb(root: int, *, include_root: bool = True) -> int:
    """The summed resident memory of *root* and every process below it, -1 without
    ``/proc``. Children are found through each thread's ``children`` list, since a
    tool may start them from any of its threads."""
    if not os.path.isdir(f"/proc/{root}/task"):
        return -1
    total = 0
    todo, seen = [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            if include_root or pid != root:
                with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
                    total += int(statm.read().split()[1]) * _PAGE_KB
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as children:
                    todo.extend(int(child) for child in children.read().split())
        except (OSError, ValueError, IndexError):
            continue  # exited meanwhile
    return total


class _TreeSampler:
    """Samples :func:`tree_rss_kb` on a thread until stopped; keeps the peak."""

    def __init__(self, root: int, include_root: bool) -> None:
        self.peak = -1
        self._root = root
        self._include_root = include_root
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self.peak = max(self.peak, tree_rss_kb(self._root, include_root=self._include_root))
            if self._done.wait(TREE_INTERVAL):
                return

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.peak


def run_measured(
    command: Sequence[str], env: dict[str, str], cwd: Path, timeout: float = 1800
) -> Sample:
    """Run *command*; its wall time, its peak memory (the largest process, and the
    whole process tree), its stderr tail.

    For pip ``--python``, which re-executes itself in the target interpreter, the
    largest process is the larger of the two pip processes and the tree counts both;
    for roost, the tree counts its unpack helper. GNU time itself is left out of the
    tree. The few milliseconds GNU time adds are the same for every tool.
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
            sampler = _TreeSampler(proc.pid, include_root=not GNU_TIME)
            try:
                _, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                _, err = proc.communicate()
                text = err.decode("utf-8", "replace")[-TAIL_CHARS:]
                sampler.stop()
                return Sample(time.perf_counter() - started, -1, -9, text + "\n[timeout]")
            except BaseException:
                sampler.stop()
                # Interrupted (Ctrl-C, SIGTERM): leave no installer running behind us.
                os.killpg(proc.pid, signal.SIGKILL)
                raise
        elapsed = time.perf_counter() - started
        tree_peak = sampler.stop()
        peak = _peak_kb(report) if GNU_TIME and report.exists() else -1
    text = err.decode("utf-8", "replace")
    return Sample(
        seconds=elapsed,
        maxrss_kb=peak,
        returncode=proc.returncode,
        stderr_tail=text[-TAIL_CHARS:] if proc.returncode else "",
        tree_peak_kb=tree_peak,
    )
