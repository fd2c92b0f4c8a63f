"""The placement helper (roost.install.placement): a real second process placing real files.

The helper must do exactly what in-process placement does, in the order asked, report
a failure as the in-process call raises it (with the step it belongs to), and never
leave work undone when it dies: what it had not confirmed is done again in-process.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from roost.install.placement import PlacementFailed, Placer, serve
from roost.store.linker import Linker
from roost.store.unpacked import UnpackedStore
from tests.support.wheels import WheelSpec, build_wheel


@pytest.fixture
def env(tmp_path: Path) -> Path:
    """An empty folder to place into."""
    folder = tmp_path / "env"
    folder.mkdir()
    return folder


def _store(root: Path, count: int) -> list[Path]:
    root.mkdir(parents=True)
    files = []
    for number in range(count):
        path = root / f"f{number}.py"
        path.write_text(f"value = {number}\n")
        files.append(path)
    return files


def _place_all(placer: Placer, files: list[Path], into: Path) -> None:
    """Every file into *into*, then a staged directory (filled first) renamed into place."""
    into.mkdir()
    staged = into.parent / f"{into.name}-stage"
    staged.mkdir()
    placer.step("plain files")
    for path in files:
        placer.place(str(path), str(into / path.name), False)
    placer.step("the staged directory")
    placer.place(str(files[0]), str(staged / "METADATA"), False)
    placer.rename(str(staged), str(into / "pkg.dist-info"))
    placer.sync()


def _kill(pid: int) -> None:
    """SIGKILL the helper and wait until it is dead (a zombie, its parent not told)."""
    os.kill(pid, signal.SIGKILL)
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + 30
    while stat.exists() and stat.read_text().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline, "the helper did not die"
        time.sleep(0.01)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_the_helper_places_what_in_process_placement_places(tmp_path: Path) -> None:
    files = _store(tmp_path / "store", 1500)
    helped = Placer(Linker("hardlink"), helper=True)
    try:
        assert helped.helped and helped.pid is not None
        _place_all(helped, files, tmp_path / "helped")
        assert not helped.pending
        assert helped.helped, "the helper should still be running after a clean sync"
    finally:
        helped.close()
    alone = Placer(Linker("hardlink"), helper=False)
    assert not alone.helped
    _place_all(alone, files, tmp_path / "alone")
    assert _tree(tmp_path / "helped") == _tree(tmp_path / "alone")
    assert len(_tree(tmp_path / "helped")) == 1501
    # Hard links into the store, the rename done after the placement into the stage.
    assert (tmp_path / "helped" / "f7.py").stat().st_ino == files[7].stat().st_ino
    assert (tmp_path / "helped" / "pkg.dist-info" / "METADATA").stat().st_ino == files[
        0
    ].stat().st_ino
    assert not (tmp_path / "helped-stage").exists()


def test_copy_mode_in_the_helper_copies_with_the_executable_bit(tmp_path: Path) -> None:
    files = _store(tmp_path / "store", 3)
    placer = Placer(Linker("copy"), helper=True)
    try:
        (tmp_path / "env").mkdir()
        placer.place(str(files[0]), str(tmp_path / "env" / "run"), True)
        placer.place(str(files[1]), str(tmp_path / "env" / "data"), False)
        placer.sync()
    finally:
        placer.close()
    run, data = tmp_path / "env" / "run", tmp_path / "env" / "data"
    assert run.read_text() == "value = 0\n" and data.read_text() == "value = 1\n"
    assert run.stat().st_ino != files[0].stat().st_ino
    assert os.access(run, os.X_OK) and not os.access(data, os.X_OK)


def test_a_failure_comes_back_as_raised_in_process_with_its_step(
    tmp_path: Path, env: Path
) -> None:
    files = _store(tmp_path / "store", 3)
    missing = env / "no-such-dir" / "f1.py"
    with pytest.raises(OSError) as in_process:
        Linker("hardlink").place(str(files[1]), str(missing), False)
    placer = Placer(Linker("hardlink"), helper=True)
    try:
        placer.step("installing first 1.0")
        placer.place(str(files[0]), str(env / "f0.py"), False)
        placer.step("installing second 2.0")
        placer.place(str(files[1]), str(missing), False)
        placer.place(str(files[2]), str(env / "f2.py"), False)
        with pytest.raises(PlacementFailed) as failed:
            placer.sync()
        # Confirmed, even though it failed: nothing is left pending.
        assert not placer.pending
    finally:
        placer.close()
    assert failed.value.step == "installing second 2.0"
    error = failed.value.error
    assert isinstance(error, OSError)
    assert (error.errno, error.strerror, error.filename) == (
        in_process.value.errno,
        in_process.value.strerror,
        in_process.value.filename,
    )
    assert error.errno == errno.ENOENT
    # Done before the failure; skipped after it.
    assert (env / "f0.py").exists()
    assert not (env / "f2.py").exists()


def test_a_helper_killed_part_way_is_taken_over_in_process(tmp_path: Path, env: Path) -> None:
    files = _store(tmp_path / "store", 3000)
    placer = Placer(Linker("hardlink"), helper=True)
    try:
        pid = placer.pid
        assert pid is not None
        for path in files:
            placer.place(str(path), str(env / path.name), False)
        # Let the helper get part of the way through what it was sent, then kill it.
        deadline = time.monotonic() + 30
        while not (env / "f10.py").exists():
            assert time.monotonic() < deadline, "the helper never started placing"
            time.sleep(0.01)
        _kill(pid)
        placer.sync()
        assert not placer.helped and not placer.pending
    finally:
        placer.close()
    assert sorted(p.name for p in env.iterdir()) == sorted(p.name for p in files)
    for path in files:
        assert (env / path.name).stat().st_ino == path.stat().st_ino


def test_a_half_copied_file_is_copied_again_after_the_helper_dies(
    tmp_path: Path, env: Path
) -> None:
    files = _store(tmp_path / "store", 2)
    placer = Placer(Linker("copy"), helper=True)
    try:
        placer.place(str(files[0]), str(env / "f0.py"), False)
        pid = placer.pid
        assert pid is not None
        _kill(pid)
        # What a copy interrupted by the kill would have left behind.
        (env / "f0.py").write_text("val")
        placer.place(str(files[1]), str(env / "f1.py"), False)
        placer.sync()
    finally:
        placer.close()
    assert (env / "f0.py").read_text() == "value = 0\n"
    assert (env / "f1.py").read_text() == "value = 1\n"


def test_without_an_interpreter_to_start_everything_is_done_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _store(tmp_path / "store", 2)
    monkeypatch.setattr(sys, "executable", "")
    placer = Placer(Linker("hardlink"), helper=True)
    assert not placer.helped
    (tmp_path / "env").mkdir()
    placer.place(str(files[0]), str(tmp_path / "env" / "f0.py"), False)
    # In-process placement happens at once, without a sync.
    assert (tmp_path / "env" / "f0.py").stat().st_ino == files[0].stat().st_ino
    with pytest.raises(FileExistsError):
        placer.place(str(files[1]), str(tmp_path / "env" / "f0.py"), False)


def test_the_helper_stops_once_its_parent_has_gone(tmp_path: Path) -> None:
    files = _store(tmp_path / "store", 1)
    read, write = os.pipe()
    target = tmp_path / "f0.py"
    os.write(write, b"\0".join([b"P", os.fsencode(files[0]), os.fsencode(target), b"0", b""]))
    os.close(write)
    with open(os.devnull, "wb") as sink:
        # Told that its parent is a process that is not this one's parent.
        serve(read, sink, "hardlink", os.getppid() + 1)
    os.close(read)
    assert not target.exists()


@pytest.mark.parametrize("killed", [False, True], ids=["in the helper", "taken over"])
def test_verify_reports_the_entries_whose_files_changed(tmp_path: Path, killed: bool) -> None:
    store = UnpackedStore(tmp_path / "store")
    sound = store.ensure(build_wheel(WheelSpec("sound", "1.0"), tmp_path / "wheels"))
    edited = store.ensure(build_wheel(WheelSpec("edited", "1.0"), tmp_path / "wheels"))
    module = edited.tree / "edited" / "__init__.py"
    module.write_text(module.read_text() + "# changed in place\n")
    placer = Placer(Linker("hardlink"), helper=True)
    try:
        if killed:
            pid = placer.pid
            assert pid is not None
            _kill(pid)
        placer.verify(str(sound.root))
        placer.verify(str(edited.root))
        placer.sync()
        assert placer.helped is not killed
    finally:
        placer.close()
    assert placer.stale == {str(edited.root)}
    assert sound.intact() and not edited.intact()
