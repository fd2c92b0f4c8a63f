"""The unpack helper process (roost.store.unpack_helper): the same store entries and the same
failures as unpacking in-process, and a helper that dies is replaced by in-process
unpacking from a clean directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from roost.store.unpack import RecordMismatch, unpack_wheel
from roost.store.unpack_helper import UnpackHelper
from roost.store.unpacked import UnpackedStore, UnpackedWheel
from roost.store.wheel_check import UnsafeWheelError
from roost.util.helper_process import HelperFailed
from tests.support.wheels import WheelSpec, build_wheel, flip_member_byte

SPEC = WheelSpec(
    "helped",
    "1.0",
    console_scripts={"helped": "helped:main"},
    files={"helped/data.txt": "some data\n", "helped/sub/deep.py": "VALUE = 3\n"},
    data={"scripts/helped-tool": "#!python\nprint('tool')\n", "purelib/extra.py": "X = 1\n"},
)


@pytest.fixture
def helper() -> Iterator[UnpackHelper]:
    made = UnpackHelper()
    try:
        yield made
    finally:
        made.close()


def tree_of(entry: UnpackedWheel) -> dict[str, tuple[bytes, bool]]:
    return {
        member.path: ((entry.tree / member.path).read_bytes(), member.executable)
        for member in entry.members
    }


def without_mtimes(entry: UnpackedWheel) -> list[tuple[str, str, int, bool]]:
    return [(m.path, m.sha256, m.size, m.executable) for m in entry.members]


def test_the_helper_makes_the_entry_unpacking_in_process_makes(
    tmp_path: Path, helper: UnpackHelper
) -> None:
    wheel = build_wheel(SPEC, tmp_path / "wheels")
    here = UnpackedStore(tmp_path / "here").ensure(wheel)
    there = UnpackedStore(tmp_path / "there").ensure(wheel, helper=helper)
    assert helper.pid is not None  # it really ran in the helper
    assert without_mtimes(there) == without_mtimes(here)
    assert tree_of(there) == tree_of(here)
    assert (there.dist_info_dir, there.data_dir, there.root_is_purelib) == (
        here.dist_info_dir,
        here.data_dir,
        here.root_is_purelib,
    )
    assert there.intact()


def _damaged(wheel: Path) -> None:
    """Flip a byte in the middle of one member's compressed data."""
    flip_member_byte(wheel, "helped/data.txt")


def _tampered(wheel: Path) -> None:
    """Rewrite one member so it no longer matches its RECORD row."""
    with zipfile.ZipFile(wheel) as archive:
        items = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, content in items:
            archive.writestr(info, b"changed\n" if info.filename.endswith("deep.py") else content)


@pytest.mark.parametrize("damage", [_damaged, _tampered])
def test_failures_come_back_as_in_process(
    tmp_path: Path, helper: UnpackHelper, damage: Callable[[Path], None]
) -> None:
    wheel = build_wheel(SPEC, tmp_path / "wheels")
    damage(wheel)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with pytest.raises(Exception) as in_process:
        unpack_wheel(wheel, tmp_path / "a")
    with pytest.raises(Exception) as helped:
        helper.unpack(wheel, tmp_path / "b")
    assert str(helped.value) == str(in_process.value)
    if isinstance(in_process.value, RecordMismatch):
        assert isinstance(helped.value, RecordMismatch)
        assert helped.value.issues == in_process.value.issues
    else:
        assert isinstance(helped.value, HelperFailed)
        assert "is damaged" in str(helped.value)


def test_archive_checks_run_first_and_come_back_as_in_process(
    tmp_path: Path, helper: UnpackHelper
) -> None:
    """With the expected name and version, a zip bomb is refused before a byte of it is
    written, in the helper as in-process, with the same error and text."""
    bomb = WheelSpec("helped", "1.0", files={"helped/zeros.bin": bytes(2 << 20)})
    wheel = build_wheel(bomb, tmp_path / "wheels")
    expected = ("helped", "1.0", None)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with pytest.raises(UnsafeWheelError) as in_process:
        unpack_wheel(wheel, tmp_path / "a", expected)
    with pytest.raises(UnsafeWheelError) as helped:
        helper.unpack(wheel, tmp_path / "b", expected=expected)
    assert helper.pid is not None
    assert "a zip bomb?" in str(in_process.value)
    assert str(helped.value) == str(in_process.value)
    assert list((tmp_path / "a").iterdir()) == list((tmp_path / "b").iterdir()) == []
    # Without them (the caller ran them), the same wheel unpacks.
    assert helper.unpack(wheel, tmp_path / "b")
    assert (tmp_path / "b" / "tree" / "helped" / "zeros.bin").stat().st_size == 2 << 20


def test_file_system_errors_come_back_as_os_errors(tmp_path: Path, helper: UnpackHelper) -> None:
    wheel = build_wheel(SPEC, tmp_path / "wheels")
    missing = tmp_path / "no" / "such" / "folder"
    with pytest.raises(OSError) as in_process:
        unpack_wheel(wheel, missing)
    with pytest.raises(OSError) as helped:
        helper.unpack(wheel, missing)
    assert helped.value.errno == in_process.value.errno
    assert helped.value.filename == in_process.value.filename


class _DyingHelper(UnpackHelper):
    """A helper whose process writes part of the tree and dies without answering."""

    def _start(self) -> subprocess.Popen[bytes] | None:
        code = (
            "import json, os, sys; wheel, into, _ = json.loads(sys.stdin.readline()); "
            "os.makedirs(os.path.join(into, 'tree', 'helped')); "
            "open(os.path.join(into, 'tree', 'helped', 'half.py'), 'w').write('x'); "
            "sys.exit(3)"
        )
        self._process = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        return self._process


def test_a_helper_that_dies_part_way_is_replaced_in_process(tmp_path: Path) -> None:
    wheel = build_wheel(SPEC, tmp_path / "wheels")
    helper = _DyingHelper()
    try:
        entry = UnpackedStore(tmp_path / "store").ensure(wheel, helper=helper)
        assert not (entry.tree / "helped" / "half.py").exists()
        assert entry.intact()
        expected = UnpackedStore(tmp_path / "other").ensure(wheel)
        assert tree_of(entry) == tree_of(expected)
        # Dropped for the rest of the run: the next wheel is not offered to it.
        assert helper.pid is None
        assert helper.unpack(wheel, tmp_path / "unused") is False
        assert not (tmp_path / "unused").exists()
    finally:
        helper.close()


def test_close_ends_the_helper(tmp_path: Path) -> None:
    helper = UnpackHelper()
    wheel = build_wheel(SPEC, tmp_path / "wheels")
    (tmp_path / "into").mkdir()
    assert helper.unpack(wheel, tmp_path / "into")
    pid = helper.pid
    assert pid is not None
    helper.close()
    assert helper.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_busy_helper_is_not_waited_for(tmp_path: Path, helper: UnpackHelper) -> None:
    """Threads never queue for the helper: one that finds it busy unpacks itself."""
    wheel = build_wheel(SPEC, tmp_path / "wheels")
    (tmp_path / "into").mkdir()
    with helper._lock:  # as while another thread's wheel is in the helper
        assert helper.unpack(wheel, tmp_path / "into") is False
    assert helper.pid is None
    assert not (tmp_path / "into" / "tree").exists()
