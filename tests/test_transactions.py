"""All-or-nothing installs: locks, failures, signals, SIGKILL and a full disk.

A test plugin (written into the test's folder, loaded with ``-p``) implements
``roost_install_event`` and, at a chosen step, raises or writes a marker file and
sleeps, so a test can fail, signal or kill roost in the middle of a transaction.
"""

from __future__ import annotations

import csv
import os
import resource
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from roost.install import journal
from roost.install.transaction import Transaction
from tests.support.envs import ROOST_COMMAND, installed, make_venv, manifest, plugin_env
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec

PLUGIN = """
import os, time
from pathlib import Path
from roost import hookimpl

@hookimpl
def roost_install_event(event):
    if event.kind != "install" or event.index != int(os.environ["FAULT_AT"]):
        return
    marker = os.environ.get("FAULT_MARKER")
    if marker:
        Path(marker).write_text(str(os.getpid()))
    if os.environ["FAULT_MODE"] == "raise":
        raise RuntimeError(f"injected failure while installing {event.name}")
    time.sleep(120)
"""
FIVE = ["pa", "pb", "pc==2.0", "pd", "pe"]


@pytest.fixture(scope="module")
def five(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """Five small projects; pc has 1.0 and 2.0; pd holds 2 MiB of poorly compressible text."""
    index = PackageIndex(tmp_path_factory.mktemp("five"))
    for name in ("pa", "pb", "pe"):
        index.add(WheelSpec(name, "1.0", console_scripts={f"{name}-tool": f"{name}:main"}))
    index.add(WheelSpec("pc", "1.0", files={"pc/old_only.py": "gone = True\n"}))
    index.add(WheelSpec("pc", "2.0", files={"pc/new_only.py": "new = True\n"}))
    index.add(WheelSpec("pd", "1.0", files={"pd/big.txt": os.urandom(1 << 20).hex()}))
    index.write()
    with IndexServer(index) as server:
        yield server


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return plugin_env(tmp_path, "fault_plugin", PLUGIN, **extra)


def roost(
    env: dict[str, str], *args: str, limit: int | None = None
) -> subprocess.CompletedProcess[str]:
    def preexec() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [*ROOST_COMMAND, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=preexec,
    )


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*ROOST_COMMAND, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "roost never reached the paused step"
        time.sleep(0.05)


def lib(python: Path) -> dict[str, object]:
    """The venv's lib/ tree, without what names the venv (scripts' shebangs in RECORD)."""
    root = python.parent.parent / "lib"
    found: dict[str, object] = {}
    for key, value in manifest(root).items():
        if "__pycache__" in key:
            continue
        if key.endswith(".dist-info/RECORD"):
            rows = (root / key).read_text().splitlines()
            found[key] = sorted(row for row in rows if "/bin/" not in row)
        else:
            found[key] = value
    return found


def install_args(python: Path, server: IndexServer, *reqs: str) -> list[str]:
    return ["install", "--python", str(python), "-i", server.url, *reqs]


def prepared(tmp_path: Path, server: IndexServer, name: str = "venv") -> Path:
    python = make_venv(tmp_path / name)
    result = roost(env_for(tmp_path), *install_args(python, server, "pc==1.0"))
    assert result.returncode == 0, result.stderr
    return python


def assert_rolled_back(
    result: subprocess.CompletedProcess[str],
    step: str,
    root: Path,
    before: dict[str, tuple[int, str]],
) -> None:
    """roost failed while *step*, said everything was undone (without a traceback), and
    left the environment at *root* as *before*."""
    assert result.returncode == 1, result.stdout
    assert step in result.stderr
    assert "every change was undone" in result.stderr
    assert "Traceback" not in result.stderr
    assert manifest(root) == before


def test_failure_in_third_of_five_rolls_back_everything(tmp_path: Path, five: IndexServer) -> None:
    python = prepared(tmp_path, five)
    root = python.parent.parent
    before = manifest(root)
    env = env_for(tmp_path, FAULT_AT="3", FAULT_MODE="raise")
    result = roost(env, "-p", "fault_plugin", *install_args(python, five, *FIVE))
    assert_rolled_back(result, "installing pc 2.0", root, before)
    assert "injected failure while installing pc" in result.stderr
    assert installed(python) == {"pc": "1.0"}


def test_disk_full_in_the_middle_rolls_back(tmp_path: Path, five: IndexServer) -> None:
    python = prepared(tmp_path, five)
    root = python.parent.parent
    before = manifest(root)
    # Wheels (about 1 MiB) still download; pd's 2 MiB file cannot be written.
    result = roost(env_for(tmp_path), *install_args(python, five, *FIVE), limit=3 << 19)
    assert_rolled_back(result, "installing pd 1.0", root, before)
    assert "disk is full" in result.stderr


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_install_rolls_back_and_lock_makes_others_wait(
    tmp_path: Path, five: IndexServer, sig: signal.Signals, code: int
) -> None:
    python = prepared(tmp_path, five)
    root = python.parent.parent
    before = manifest(root)
    marker = tmp_path / "paused"
    env = env_for(tmp_path, FAULT_AT="3", FAULT_MODE="pause", FAULT_MARKER=str(marker))
    first = start(env, "-p", "fault_plugin", *install_args(python, five, *FIVE))
    try:
        wait_for(marker, first)
        # pa: pip's install order, which roost follows, takes pa last (pe, pd, pc, ...).
        other = roost(
            env_for(tmp_path), *install_args(python, five, "pa"), "--lock-timeout", "1.5"
        )
        assert other.returncode == 1
        assert "waiting for another roost process to finish with" in other.stderr
        assert "locked for more than 1.5 seconds" in other.stderr
        first.send_signal(sig)
        _out, err = first.communicate(timeout=60)
    finally:
        first.kill()
    assert first.returncode == code, err
    assert f"interrupted ({sig.name})" in err or f"interrupted by {sig.name}" in err
    assert "every change was undone" in err
    assert manifest(root) == before


def test_sigkill_then_rerun_repairs(tmp_path: Path, five: IndexServer) -> None:
    python = prepared(tmp_path, five)
    root = python.parent.parent
    before = manifest(root)
    marker = tmp_path / "paused"
    env = env_for(tmp_path, FAULT_AT="3", FAULT_MODE="pause", FAULT_MARKER=str(marker))
    victim = start(env, "-p", "fault_plugin", *install_args(python, five, *FIVE))
    try:
        wait_for(marker, victim)
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=60)
    finally:
        victim.kill()
    site = next(root.glob("lib/python*/site-packages"))
    assert list(site.glob(".roost-tx-*")), "the kill should leave a transaction behind"
    assert manifest(root) != before
    # A run with nothing to do repairs the environment back to where it was...
    repair = roost(env_for(tmp_path), *install_args(python, five, "pc==1.0"))
    assert repair.returncode == 0, repair.stderr
    assert "Rolled back an interrupted install of pe 1.0, pd 1.0, pc 2.0" in repair.stderr
    assert manifest(root) == before
    # ...and the same install run again ends where a serial, uninterrupted one does.
    again = roost(env_for(tmp_path), *install_args(python, five, *FIVE))
    assert again.returncode == 0, again.stderr
    serial = prepared(tmp_path, five, "serial")
    done = roost(env_for(tmp_path), *install_args(serial, five, *FIVE))
    assert done.returncode == 0, done.stderr
    assert lib(python) == lib(serial)


def test_concurrent_installs_serialise(tmp_path: Path, five: IndexServer) -> None:
    python = make_venv(tmp_path / "shared")
    env = env_for(tmp_path)
    first = start(env, *install_args(python, five, "pa", "pb", "pc"))
    second = start(env, *install_args(python, five, "pc", "pd", "pe"))
    for process in (first, second):
        _out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert installed(python) == {"pa": "1.0", "pb": "1.0", "pc": "2.0", "pd": "1.0", "pe": "1.0"}
    serial = make_venv(tmp_path / "serial")
    for reqs in (("pa", "pb", "pc"), ("pc", "pd", "pe")):
        assert roost(env, *install_args(serial, five, *reqs)).returncode == 0
    assert lib(python) == lib(serial)
    site = next(python.parent.parent.glob("lib/python*/site-packages"))
    assert not list(site.glob(".roost-tx-*"))
    for record in site.glob("*.dist-info/RECORD"):
        for path, digest, _size in csv.reader(record.read_text().splitlines()):
            assert (site / path).exists(), path
            assert digest or path.endswith("RECORD")


def test_journal_rolls_back_an_abandoned_transaction(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "old.py").write_text("old\n")
    before = manifest(site)
    tx = Transaction(site, "uninstall of old 1.0")
    tx.move_aside(site / "old.py")
    new = site / "pkg" / "new.py"
    tx.make_parents(new)
    tx.add_created(new)
    new.write_text("new\n")
    tx.journal.close()  # the process "dies" here
    messages: list[str] = []
    assert journal.recover([site], messages.append) == 1
    assert "Rolled back an interrupted uninstall of old 1.0" in messages[0]
    assert manifest(site) == before
    # Recovering again finds nothing to do.
    assert journal.recover([site], messages.append) == 0


def test_only_the_topmost_new_directory_is_journalled(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "old").mkdir(parents=True)
    before = manifest(site)
    tx = Transaction(site, "install of deep 1.0")
    for name in ("pkg/a/b/one.py", "pkg/a/two.py", "pkg/c/three.py", "old/four.py"):
        path = site / name
        tx.make_parents(path)
        tx.add_created(path)
        path.write_text("new\n")
    tx.journal.close()  # the process "dies" here
    lines = journal.read(tx.backup / journal.JOURNAL_NAME)
    assert [(e["op"], e.get("path")) for e in lines if e["op"] in {"mkdir", "create"}] == [
        ("mkdir", str(site / "pkg")),
        ("create", str(site / "old" / "four.py")),
    ]
    assert journal.recover([site], lambda _: None) == 1
    assert manifest(site) == before


def test_journal_rolls_forward_a_committed_transaction(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "old.py").write_text("old\n")
    tx = Transaction(site, "install of new 2.0")
    tx.move_aside(site / "old.py")
    tx.add_created(site / "new.py")
    (site / "new.py").write_text("new\n")
    tx.journal.write("commit", sync=True)
    tx.journal.close()  # killed before the backups were deleted
    messages: list[str] = []
    assert journal.recover([site], messages.append) == 1
    assert "had finished" in messages[0]
    assert sorted(p.name for p in site.iterdir()) == ["new.py"]


def test_torn_journal_line_is_ignored(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "keep.py").write_text("keep\n")
    tx = Transaction(site, "install of x 1.0")
    tx.move_aside(site / "keep.py")
    tx.journal.close()
    with open(tx.backup / journal.JOURNAL_NAME, "a", encoding="utf-8") as handle:
        handle.write('{"op": "create", "pa')
    journal.recover([site], lambda _: None)
    assert sorted(p.name for p in site.iterdir()) == ["keep.py"]


def test_uninstall_style_rollback_in_process(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg" / "a.py").write_text("a\n")
    before = manifest(site)
    tx = Transaction(site)
    tx.move_aside(site / "pkg" / "a.py")
    tx.rollback()
    assert manifest(site) == before


def test_a_copy_failing_while_placing_from_the_store_rolls_back(
    tmp_path: Path, five: IndexServer
) -> None:
    """The files come from the store (filled by an install elsewhere), copied: pd's
    2 MiB copy fails under the file-size limit, wherever the copying runs (with two
    CPUs, in the placement helper), and is reported as installing pd."""
    warm = prepared(tmp_path, five, "warm")
    assert roost(env_for(tmp_path), *install_args(warm, five, *FIVE)).returncode == 0
    python = prepared(tmp_path, five)
    root = python.parent.parent
    before = manifest(root)
    args = [*install_args(python, five, *FIVE), "--link-mode", "copy"]
    result = roost(env_for(tmp_path), *args, limit=3 << 19)
    assert_rolled_back(result, "installing pd 1.0", root, before)
    assert "disk is full" in result.stderr
    assert installed(python) == {"pc": "1.0"}
