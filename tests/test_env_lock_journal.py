"""The environment's lock and the journal under hostile interleavings (issue 16: 1, 3, 5, 9, 10).

A test plugin (written into the test's folder, loaded with ``-p``) pauses roost at a
chosen step of the transaction until the test creates a file, so another run, a
``kill -9`` or a copy of the environment can happen at a known point. No timing is
asserted: hangs are bounded by subprocess timeouts and the outcomes are checked.

- 1: runs on one environment take turns whatever their cache (``--cache-dir``,
  ``--no-cache-dir``, another HOME), and no recovery rolls back a live transaction;
- 3: an environment copied after an interrupted install recovers itself, never the
  original; a journal naming a path outside the environment is refused, whole;
- 5: ``uninstall`` does not delete through a symlinked package folder leading out;
- 9: two users sharing TMPDIR share no lock or temporary path (``setpriv``);
- 10: a failure whose rollback succeeds says so and leaves no ``.roost-tx-*`` behind.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from roost.install import journal
from tests.support.envs import (
    ROOST_COMMAND,
    clean_env,
    installed,
    make_venv,
    manifest,
    plugin_env,
)
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec

PAUSE_PLUGIN = """
import os, time
from pathlib import Path
from roost import hookimpl

@hookimpl
def roost_install_event(event):
    if event.kind != os.environ["PAUSE_KIND"] or event.index != int(os.environ["PAUSE_AT"]):
        return
    Path(os.environ["PAUSE_MARKER"]).write_text(str(os.getpid()))
    go = Path(os.environ["PAUSE_UNTIL"])
    deadline = time.monotonic() + 120
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
"""
#: A console script name longer than any file name may be (ENAMETOOLONG).
LONG_NAME = "x" * 300


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """pc 1.0 and 2.0 (several files each), other 1.0, linked 1.0, longscript 1.0."""
    packages = PackageIndex(tmp_path_factory.mktemp("lock-journal-index"))
    old = {f"pc/old_{n}.py": f"N = {n}\n" for n in range(5)}
    packages.add(WheelSpec("pc", "1.0", files={**old, "pc/data.txt": "one\n"}))
    new = {f"pc/new_{n}.py": f"N = {n}\n" for n in range(5)}
    packages.add(WheelSpec("pc", "2.0", files={**new, "pc/data.txt": "two\n"}))
    packages.add(WheelSpec("other", "1.0"))
    packages.add(WheelSpec("linked", "1.0", files={"linked/data.txt": "precious\n"}))
    packages.add(WheelSpec("longscript", "1.0", console_scripts={LONG_NAME: "longscript:main"}))
    packages.write()
    with IndexServer(packages) as server:
        yield server


def env_for(tmp_path: Path, home: str = "home", **extra: str) -> dict[str, str]:
    return plugin_env(tmp_path, "pause_plugin", PAUSE_PLUGIN, home=home, **extra)


def roost(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ROOST_COMMAND, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def install_args(python: Path, server: IndexServer, *reqs: str) -> list[str]:
    return ["install", "--python", str(python), "-i", server.url, *reqs]


def site_of(venv: Path) -> Path:
    return next(venv.glob("lib/python*/site-packages"))


class Paused:
    """A roost run paused at the *at*-th ``install`` event until :meth:`go`."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.marker, self.go_file = tmp_path / "paused", tmp_path / "go"
        env = env_for(
            tmp_path,
            PAUSE_KIND="install",
            PAUSE_AT="1",
            PAUSE_MARKER=str(self.marker),
            PAUSE_UNTIL=str(self.go_file),
        )
        self.process = subprocess.Popen(
            [*ROOST_COMMAND, "-p", "pause_plugin", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while not self.marker.exists():
            assert self.process.poll() is None, self.process.communicate()
            assert time.monotonic() < deadline, "roost never reached the paused step"
            time.sleep(0.05)

    def go(self) -> tuple[int, str]:
        self.go_file.touch()
        _out, err = self.process.communicate(timeout=300)
        return self.process.returncode, err

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.communicate(timeout=60)

    def __enter__(self) -> Paused:
        return self

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=60)


def prepared(tmp_path: Path, server: IndexServer, name: str = "venv") -> Path:
    """A venv with pc 1.0; its python."""
    python = make_venv(tmp_path / name)
    result = roost(env_for(tmp_path), *install_args(python, server, "pc==1.0"))
    assert result.returncode == 0, result.stderr
    return python


def assert_records_intact(site: Path) -> None:
    for record in site.glob("*.dist-info/RECORD"):
        for path, _digest, _size in csv.reader(record.read_text().splitlines()):
            assert (site / path).exists(), f"{record.parent.name} lost {path}"


# -- 1. the lock is the environment's, not the cache's ---------------------------------


@pytest.mark.parametrize("other_run", ["--cache-dir", "--no-cache-dir", "another HOME"])
def test_runs_with_different_caches_take_turns(
    tmp_path: Path, index: IndexServer, other_run: str
) -> None:
    python = prepared(tmp_path, index)
    site = site_of(tmp_path / "venv")
    flags = {
        "--cache-dir": ["--cache-dir", str(tmp_path / "cache-b")],
        "--no-cache-dir": ["--no-cache-dir"],
        "another HOME": [],
    }[other_run]
    env_b = env_for(tmp_path, "home-b") if other_run == "another HOME" else env_for(tmp_path)
    with Paused(tmp_path, *install_args(python, index, "pc==2.0")) as first:
        # The first run has moved pc 1.0 aside and is about to write pc 2.0.
        second = roost(env_b, *install_args(python, index, "other"), *flags, "--lock-timeout", "2")
        assert second.returncode == 1, second.stderr
        assert "locked for more than 2 seconds" in second.stderr
        assert "Rolled back" not in second.stderr
        code, err = first.go()
    assert code == 0, err
    assert installed(python) == {"pc": "2.0"}
    assert_records_intact(site)
    assert not list(site.glob(".roost-tx-*"))
    assert not (site / ".roost.lock").exists()
    again = roost(env_b, *install_args(python, index, "other"), *flags)
    assert again.returncode == 0, again.stderr
    assert installed(python) == {"other": "1.0", "pc": "2.0"}


def test_recovery_never_undoes_a_live_transaction(tmp_path: Path, index: IndexServer) -> None:
    """Even a recovery that did not take the environment's lock (an older roost, a
    caller that forgot) leaves a transaction whose process is alive alone."""
    python = prepared(tmp_path, index)
    site = site_of(tmp_path / "venv")
    messages: list[str] = []
    with Paused(tmp_path, *install_args(python, index, "pc==2.0")) as first:
        (backup,) = site.glob(".roost-tx-*")
        assert journal.recover([site], messages.append) == 0
        assert backup.is_dir()
        assert any("still running" in message for message in messages), messages
        code, err = first.go()
    assert code == 0, err
    assert installed(python) == {"pc": "2.0"}
    assert_records_intact(site)


# -- 3. the journal moves with the environment -----------------------------------------


@pytest.mark.parametrize("original", ["removed", "kept"])
def test_a_copy_after_an_interrupted_upgrade_recovers_itself(
    tmp_path: Path, index: IndexServer, original: str
) -> None:
    python = prepared(tmp_path, index)
    venv = tmp_path / "venv"
    before = manifest(site_of(venv))
    with Paused(tmp_path, *install_args(python, index, "pc==2.0")) as victim:
        victim.kill()
    assert list(site_of(venv).glob(".roost-tx-*")), "the kill should leave a transaction"
    copy = tmp_path / "copy"
    shutil.copytree(venv, copy, symlinks=True)
    if original == "removed":
        shutil.rmtree(venv)
    else:
        interrupted = manifest(venv)
    repair = roost(env_for(tmp_path), *install_args(copy / "bin" / "python", index, "pc==1.0"))
    assert repair.returncode == 0, repair.stderr
    assert "Rolled back an interrupted install of pc 2.0" in repair.stderr
    assert f"It had started in {venv}/lib/" in repair.stderr
    assert manifest(site_of(copy)) == before
    assert installed(copy / "bin" / "python") == {"pc": "1.0"}
    if original == "kept":
        # The copy's recovery did not touch the original, which recovers by itself.
        assert manifest(venv) == interrupted
        again = roost(env_for(tmp_path), *install_args(python, index, "pc==1.0"))
        assert again.returncode == 0, again.stderr
        assert manifest(site_of(venv)) == before


@pytest.mark.parametrize("how", ["absolute path", "symlinked folder"])
def test_a_journal_naming_a_path_outside_is_refused_whole(tmp_path: Path, how: str) -> None:
    site = tmp_path / "env" / "site"
    site.mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "victim.txt").write_text("not roost's\n")
    backup = site / f"{journal.BACKUP_PREFIX}old"
    backup.mkdir()
    (backup / "0").write_text("moved aside\n")
    if how == "absolute path":
        # As an older roost wrote it, in the environment this one was copied from.
        stray = str(outside / "victim.txt")
    else:
        (site / "link").symlink_to(outside, target_is_directory=True)
        stray = "link/victim.txt"
    lines = [
        {"op": "begin", "pid": "1", "time": "0", "what": "install of x 1.0"},
        {"op": "move", "path": str(site / "kept.py"), "slot": str(backup / "0")},
        {"op": "create", "path": stray},
    ]
    (backup / journal.JOURNAL_NAME).write_text("".join(json.dumps(e) + "\n" for e in lines))
    messages: list[str] = []
    journal.recover([site], messages.append)
    assert (outside / "victim.txt").read_text() == "not roost's\n"
    # Refused whole: not even the move inside the environment was undone.
    assert not (site / "kept.py").exists()
    assert (backup / "0").read_text() == "moved aside\n"
    assert len(messages) == 1
    assert "outside this environment" in messages[0]
    assert str(backup) in messages[0]


# -- 5. uninstall never deletes through a symlinked folder leading out ------------------


def test_uninstall_keeps_files_behind_a_symlinked_package_folder(
    tmp_path: Path, index: IndexServer
) -> None:
    python = make_venv(tmp_path / "venv")
    env = env_for(tmp_path)
    assert roost(env, *install_args(python, index, "linked")).returncode == 0
    site = site_of(tmp_path / "venv")
    checkout = tmp_path / "checkout" / "linked"
    checkout.parent.mkdir()
    shutil.move(site / "linked", checkout)
    (site / "linked").symlink_to(checkout, target_is_directory=True)
    outside_before = manifest(checkout)
    result = roost(env, "uninstall", "-y", "--python", str(python), "linked")
    assert result.returncode == 0, result.stderr
    assert manifest(checkout) == outside_before
    assert (checkout / "data.txt").read_text() == "precious\n"
    assert "outside the environment" in result.stderr
    assert installed(python) == {}
    assert not list(site.glob(".roost-tx-*"))


# -- 10. a rollback that succeeds is reported as one -----------------------------------


@pytest.mark.parametrize("cache", ["cache", "no cache"])
def test_a_failure_whose_rollback_succeeds_says_so(
    tmp_path: Path, index: IndexServer, cache: str
) -> None:
    python = prepared(tmp_path, index)
    root = tmp_path / "venv"
    before = manifest(root)
    flags = ["--no-cache-dir"] if cache == "no cache" else []
    env = env_for(tmp_path)
    result = roost(env, *install_args(python, index, "longscript"), *flags)
    assert result.returncode == 1, result.stderr
    assert "File name too long" in result.stderr
    assert "every change was undone" in result.stderr
    assert "undoing the changes failed" not in result.stderr
    assert "Traceback" not in result.stderr
    assert manifest(root) == before
    later = roost(env, *install_args(python, index, "pc==1.0"))
    assert later.returncode == 0, later.stderr
    assert "roll" not in later.stderr.lower(), later.stderr
    assert manifest(root) == before


# -- 9. no lock or temporary path shared between users -----------------------------------

USERS = (1000, 1001)


def as_user(uid: int, *command: str) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *command]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder uids 1000 and 1001 can enter, with roost and its dependencies in ``lib``
    (the tests' environment lives under /root, which they cannot enter)."""
    from tests.support.envs import need_debian
    from tests.test_user_install import roost_lib

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run roost as uids 1000 and 1001")
    need_debian()
    folder = Path(tempfile.mkdtemp(prefix="roost-users-"))
    try:
        folder.chmod(0o755)
        roost_lib(folder / "lib")
        for dirpath, _dirs, _files in os.walk(folder / "lib"):
            os.chmod(dirpath, 0o755)
        yield folder
    finally:
        shutil.rmtree(folder)


def shared_tmpdir(shared: Path) -> Path:
    """A new TMPDIR for one test, writable by all and sticky, as /tmp is."""
    folder = shared / f"tmp-{os.urandom(4).hex()}"
    folder.mkdir()
    folder.chmod(0o1777)
    return folder


def user_venv(shared: Path, uid: int, tmpdir: Path) -> tuple[Path, dict[str, str]]:
    """A HOME and a Debian-python venv owned by *uid*; the venv's python and the
    environment roost runs in (roost from ``shared/lib``, TMPDIR *tmpdir*)."""
    home = shared / f"home-{uid}-{os.urandom(4).hex()}"
    home.mkdir()
    os.chown(home, uid, uid)
    env = {k: v for k, v in clean_env(home).items() if not k.startswith("XDG_")}
    env.update(PYTHONPATH=str(shared / "lib"), TMPDIR=str(tmpdir))
    venv = home / "venv"
    made = subprocess.run(
        as_user(uid, "/usr/bin/python3", "-m", "venv", "--without-pip", str(venv)),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    return venv / "bin" / "python", env


def without_lib(env: dict[str, str]) -> dict[str, str]:
    """*env* without roost's folder on PYTHONPATH, to list what the venv holds."""
    return {key: value for key, value in env.items() if key != "PYTHONPATH"}


def roost_as(uid: int, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        as_user(uid, "/usr/bin/python3", "-m", "roost", *args),
        env=env,
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("cache", ["--no-cache-dir", "an unwritable cache"])
def test_two_users_sharing_tmpdir_share_no_lock(
    shared: Path, index: IndexServer, cache: str
) -> None:
    """The first user's run leaves nothing in TMPDIR that stops the second one's (the
    lock was in ``$TMPDIR/roost/locks``, or ``$TMPDIR/roost-locks`` when the cache
    could not be written, created 0755 by whoever ran first). Root runs first with the
    unwritable cache: a root-owned fallback folder was the worst case."""
    not_a_dir = shared / "not-a-folder"
    not_a_dir.write_text("a cache cannot be made here\n")
    flags = ["--no-cache-dir"] if cache == "--no-cache-dir" else ["--cache-dir", str(not_a_dir)]
    users = USERS if cache == "--no-cache-dir" else (0, 1000)
    tmpdir = shared_tmpdir(shared)
    for uid in users:
        python, env = user_venv(shared, uid, tmpdir)
        result = roost_as(uid, env, *install_args(python, index, "other"), *flags)
        assert result.returncode == 0, f"uid {uid}:\n{result.stderr}"
        assert "Traceback" not in result.stderr
        assert installed(python, without_lib(env)) == {"other": "1.0"}
    assert list(tmpdir.iterdir()) == []


def test_another_user_cannot_hold_or_plant_the_lock(shared: Path, index: IndexServer) -> None:
    """uid 1001 plants the folders the lock used to live in (``$TMPDIR/roost/locks``
    and ``$TMPDIR/roost-locks``, its own, writable by all) and holds a lock in them for
    uid 1000's environment: uid 1000's install must neither wait for it nor put
    anything there."""
    tmpdir = shared_tmpdir(shared)
    python, env = user_venv(shared, 1000, tmpdir)
    trap = tmpdir / "roost" / "locks"
    held = tmpdir / "attacker-ready"
    site = Path(
        subprocess.run(
            as_user(
                1000, str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"
            ),
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # The name the lock file had, from the environment's real path.
    digest = hashlib.sha256(str(site.resolve()).encode()).hexdigest()[:24]
    holder = (
        "import fcntl, os, sys, time\n"
        "for folder in sys.argv[2:]:\n"
        "    os.makedirs(folder, exist_ok=True)\n"
        "    os.chmod(folder, 0o777)\n"
        "fds = []\n"
        "for folder in sys.argv[2:]:\n"
        f"    fd = os.open(os.path.join(folder, '{digest}.lock'), os.O_RDWR | os.O_CREAT, 0o666)\n"
        "    os.fchmod(fd, 0o666)\n"
        "    fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "    fds.append(fd)\n"
        "open(sys.argv[1], 'w').close()\n"
        "time.sleep(120)\n"
    )
    attacker = subprocess.Popen(
        as_user(
            1001,
            "/usr/bin/python3",
            "-c",
            holder,
            str(held),
            str(trap),
            str(tmpdir / "roost-locks"),
        ),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not held.exists():
            assert attacker.poll() is None, attacker.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        result = roost_as(
            1000,
            env,
            *install_args(python, index, "other"),
            "--no-cache-dir",
            "--lock-timeout",
            "3",
        )
    finally:
        attacker.kill()
        attacker.communicate(timeout=60)
    assert result.returncode == 0, result.stderr
    assert installed(python, without_lib(env)) == {"other": "1.0"}
    planted = [p for p in tmpdir.rglob("*") if p.stat().st_uid != 1001]
    assert planted == []
