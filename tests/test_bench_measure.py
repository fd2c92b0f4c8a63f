"""The benchmark's memory figures (bench/measure.py): the process tree's peak counts
every process alive at once, the largest-process figure only the biggest one."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bench.measure import GNU_TIME, run_measured, tree_rss_kb

MIB = 1024

CHILD = (
    "import sys, time; held = b'c' * (40 << 20); "
    "sys.stdout.write('ready'); sys.stdout.flush(); time.sleep(1.0)"
)
PARENT = (
    "import subprocess, sys; held = b'p' * (30 << 20); "
    f"child = subprocess.Popen([sys.executable, '-c', {CHILD!r}], stdout=subprocess.PIPE); "
    "child.stdout.read(); child.wait()"
)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_the_tree_peak_counts_both_processes_and_the_largest_one(tmp_path: Path) -> None:
    sample = run_measured([sys.executable, "-c", PARENT], dict(os.environ), tmp_path)
    assert sample.ok, sample.stderr_tail
    # 30 MiB in the parent and 40 MiB in the child, alive together.
    assert sample.tree_peak_kb >= 70 * MIB
    if GNU_TIME:
        assert 40 * MIB <= sample.maxrss_kb < 70 * MIB
        assert sample.tree_peak_kb > sample.maxrss_kb


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_tree_rss_of_this_process_includes_its_children() -> None:
    import subprocess

    alone = tree_rss_kb(os.getpid(), include_root=True)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    try:
        assert child.stdout is not None
        assert child.stdout.read(5) == b"ready"
        with_child = tree_rss_kb(os.getpid(), include_root=True)
        only_child = tree_rss_kb(os.getpid(), include_root=False)
    finally:
        child.wait()
    assert only_child >= 40 * MIB
    assert with_child >= alone + 40 * MIB - 4 * MIB  # our own RSS moves a little meanwhile
    assert tree_rss_kb(child.pid) == -1  # gone: no /proc entry
