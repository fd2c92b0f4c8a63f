"""The unpacked-wheel store and ``--link-mode``: every mode installs the same files and
RECORD as a cache-less install, hard links really share the store's inodes, and neither
uninstalling nor a rolled-back install touches the store."""

from __future__ import annotations

import base64
import csv
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from roost.store.unpacked import UnpackedStore, UnpackedWheel
from tests.support.envs import clean_env, make_venv, manifest, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel, metadata_bytes

SPEC = WheelSpec(
    "linky",
    "1.0",
    console_scripts={"linky": "linky:main"},
    files={"linky/data.txt": "some data\n", "linky/sub/deep.py": "VALUE = 3\n"},
    data={
        "scripts/linky-tool": "#!python\nimport linky\nprint('tool', linky.__version__)\n",
        "scripts/plain.sh": "#!/bin/sh\necho plain\n",
        "data/share/linky/readme.txt": "shared\n",
        "purelib/linky_extra.py": "EXTRA = 1\n",
    },
)
MODES = [None, "copy", "hardlink", "symlink"]


def site_of(venv: Path) -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return venv / "lib" / version / "site-packages"


def install(
    venv: Path, cache: Path | None, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    cache_args = ["--no-cache-dir"] if cache is None else ["--cache-dir", str(cache)]
    return run_roost(
        "install", "--python", str(venv / "bin" / "python"), *cache_args, *args, env=env
    )


def snapshot(venv: Path) -> dict[str, tuple[bytes, int]]:
    """Every installed file's content and mode (through symlinks), __pycache__ left out."""
    found = {}
    for path in sorted(venv.rglob("*")):
        if "__pycache__" in path.parts or path.is_dir():
            continue
        found[path.relative_to(venv).as_posix()] = (path.read_bytes(), path.stat().st_mode)
    return found


def record_of(venv: Path) -> Path:
    return site_of(venv) / "linky-1.0.dist-info" / "RECORD"


def assert_record_valid(venv: Path) -> None:
    record = record_of(venv)
    with record.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows
    for path, digest, size in rows:
        file = (record.parent.parent / path).resolve()
        if path.endswith("RECORD"):
            assert digest == size == ""
            continue
        data = file.read_bytes()
        name, _, value = digest.partition("=")
        assert name == "sha256"
        actual = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        assert value == actual.decode(), path
        assert int(size) == len(data), path


def store_file(cache: Path, member: str) -> Path:
    (entry,) = (cache / "unpacked").iterdir()
    return entry / "tree" / member


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    """SPEC's wheel, with one executable member outside .data/scripts/."""
    built = build_wheel(SPEC, tmp_path / "built")
    target = tmp_path / "wheels" / built.name
    target.parent.mkdir()
    with zipfile.ZipFile(built) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "linky/sub/deep.py":
                info.external_attr = 0o100755 << 16
            dst.writestr(info, data)
    return target


def test_every_mode_installs_the_same_files_and_record(tmp_path: Path, wheel: Path) -> None:
    """Cache-less (installer straight from the archive), copy, hardlink and symlink."""
    venv = tmp_path / "venv"
    results = {}
    for mode in MODES:
        shutil.rmtree(venv, ignore_errors=True)
        make_venv(venv)
        cache = None if mode is None else tmp_path / "cache"
        args = [] if mode is None else ["--link-mode", mode]
        result = install(venv, cache, *args, str(wheel))
        assert result.returncode == 0, result.stderr
        assert_record_valid(venv)
        results[mode] = (snapshot(venv), record_of(venv).read_text())
        tool = venv / "bin" / "linky-tool"
        assert tool.read_bytes().startswith(f"#!{venv / 'bin' / 'python'}\n".encode())
        assert os.access(tool, os.X_OK) and not tool.is_symlink()
        out = subprocess.run([str(tool)], capture_output=True, text=True, check=True)
        assert out.stdout == "tool 1.0\n"
    reference = results[None]
    assert "share/linky/readme.txt" in reference[0]
    deep = f"{site_of(venv).relative_to(venv).as_posix()}/linky/sub/deep.py"
    assert reference[0][deep][1] & 0o111
    for mode in MODES[1:]:
        assert results[mode][0] == reference[0], mode
        assert results[mode][1] == reference[1], mode


def test_hardlink_mode_shares_the_stores_inodes(tmp_path: Path, wheel: Path) -> None:
    venv = tmp_path / "venv"
    make_venv(venv)
    cache = tmp_path / "cache"
    assert install(venv, cache, str(wheel)).returncode == 0
    module = site_of(venv) / "linky" / "sub" / "deep.py"
    stored = store_file(cache, "linky/sub/deep.py")
    assert module.stat().st_nlink > 1
    assert module.stat().st_ino == stored.stat().st_ino
    # Written per environment, never linked: RECORD and the rewritten script.
    assert (site_of(venv) / "linky-1.0.dist-info" / "RECORD").stat().st_nlink == 1
    assert (venv / "bin" / "linky-tool").stat().st_nlink == 1


def test_copy_mode_from_the_environment_variable(tmp_path: Path, wheel: Path) -> None:
    venv = tmp_path / "venv"
    make_venv(venv)
    env = clean_env(tmp_path / "home") | {"ROOST_LINK_MODE": "copy"}
    assert install(venv, tmp_path / "cache", str(wheel), env=env).returncode == 0
    assert (site_of(venv) / "linky" / "sub" / "deep.py").stat().st_nlink == 1


def test_symlink_mode_points_into_the_store(tmp_path: Path, wheel: Path) -> None:
    venv = tmp_path / "venv"
    make_venv(venv)
    cache = tmp_path / "cache"
    assert install(venv, cache, "--link-mode", "symlink", str(wheel)).returncode == 0
    module = site_of(venv) / "linky" / "sub" / "deep.py"
    assert module.is_symlink()
    assert module.resolve() == store_file(cache, "linky/sub/deep.py").resolve()
    result = install(venv, None, "--link-mode", "symlink", "--force-reinstall", str(wheel))
    assert result.returncode == 1
    assert "needs the cache" in result.stderr


def test_uninstall_after_hardlink_install_leaves_the_store_and_other_envs(
    tmp_path: Path, wheel: Path
) -> None:
    cache = tmp_path / "cache"
    venvs = [tmp_path / "a", tmp_path / "b"]
    for venv in venvs:
        make_venv(venv)
        assert install(venv, cache, str(wheel)).returncode == 0
    store_before = manifest(cache / "unpacked")
    a, b = venvs
    result = run_roost("uninstall", "--python", str(a / "bin" / "python"), "-y", "linky")
    assert result.returncode == 0, result.stderr
    assert not (site_of(a) / "linky").exists()
    assert manifest(cache / "unpacked") == store_before
    out = subprocess.run(
        [str(b / "bin" / "linky")], capture_output=True, text=True, check=True
    ).stdout
    assert out == "linky 1.0\n"
    assert_record_valid(b)


@pytest.fixture
def other_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A folder on a filesystem other than tmp_path's (a tmpfs), or a skip."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "tmpfs", str(mount)], capture_output=True, check=False
        ).returncode
        == 0
    )
    if mounted:
        try:
            yield mount
        finally:
            subprocess.run(["umount", str(mount)], check=False)
        return
    if Path("/dev/shm").is_dir() and os.stat("/dev/shm").st_dev != tmp_path.stat().st_dev:
        folder = Path(tempfile.mkdtemp(prefix="roost-test-", dir="/dev/shm"))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    pytest.skip("no second filesystem: cannot mount a tmpfs and /dev/shm is not separate")


def test_cache_on_another_filesystem_falls_back_to_copies(
    tmp_path: Path, wheel: Path, other_filesystem: Path
) -> None:
    venv = tmp_path / "venv"
    make_venv(venv)
    cache = other_filesystem / "cache"
    result = install(venv, cache, str(wheel))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    module = site_of(venv) / "linky" / "sub" / "deep.py"
    assert module.stat().st_nlink == 1 and not module.is_symlink()
    assert module.stat().st_dev != store_file(cache, "linky/sub/deep.py").stat().st_dev
    assert_record_valid(venv)


def test_rollback_in_hardlink_mode_restores_env_and_keeps_the_store(
    tmp_path: Path, wheel: Path
) -> None:
    second = build_wheel(WheelSpec("blocked", "1.0"), tmp_path / "wheels")
    cache = tmp_path / "cache"
    warm = tmp_path / "warm"
    make_venv(warm)
    assert install(warm, cache, str(wheel)).returncode == 0
    venv = tmp_path / "venv"
    make_venv(venv)
    outside = tmp_path / "outside"
    outside.mkdir()
    (site_of(venv) / "blocked").symlink_to(outside, target_is_directory=True)
    env_before = manifest(venv)
    store_before = manifest(cache / "unpacked")
    result = install(venv, cache, str(wheel), str(second))
    assert result.returncode == 1
    assert "symlink" in result.stderr
    assert manifest(venv) == env_before
    assert list(outside.iterdir()) == []
    store_after = manifest(cache / "unpacked")
    assert {k: v for k, v in store_after.items() if k in store_before} == store_before


def test_an_edited_store_file_is_noticed_and_the_entry_rebuilt(
    tmp_path: Path, wheel: Path
) -> None:
    cache = tmp_path / "cache"
    a = tmp_path / "a"
    make_venv(a)
    assert install(a, cache, str(wheel)).returncode == 0
    # An in-place edit in one environment edits the store through the hard link.
    with open(site_of(a) / "linky" / "sub" / "deep.py", "w") as handle:
        handle.write("VALUE = 4\n")
    b = tmp_path / "b"
    make_venv(b)
    assert install(b, cache, str(wheel)).returncode == 0
    assert (site_of(b) / "linky" / "sub" / "deep.py").read_text() == "VALUE = 3\n"
    assert_record_valid(b)
    assert store_file(cache, "linky/sub/deep.py").read_text() == "VALUE = 3\n"


def test_concurrent_creators_share_one_entry(tmp_path: Path, wheel: Path) -> None:
    store = UnpackedStore(tmp_path / "unpacked")
    results: list[UnpackedWheel] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            results.append(store.ensure(wheel))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({r.root for r in results}) == 1
    assert [p.name for p in store.root.iterdir()] == [results[0].root.name]
    assert all(r.intact() for r in results)


def test_a_wheel_not_matching_its_record_leaves_no_store_entry(tmp_path: Path) -> None:
    good = build_wheel(SPEC, tmp_path / "good")
    bad = tmp_path / "bad" / good.name
    bad.parent.mkdir()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "linky/sub/deep.py":
                data = b"VALUE = 9\n"
            dst.writestr(info, data)
    venv = tmp_path / "venv"
    make_venv(venv)
    before = manifest(venv)
    cache = tmp_path / "cache"
    result = install(venv, cache, str(bad))
    assert result.returncode == 1
    assert "didn't match RECORD" in result.stderr
    assert "Nothing was installed" in result.stderr
    assert manifest(venv) == before
    assert list((cache / "unpacked").iterdir()) == []


@pytest.fixture
def served(tmp_path: Path, wheel: Path) -> Iterator[tuple[IndexServer, PackageIndex]]:
    """SPEC's wheel on a loopback index, with its PEP 658 metadata file."""
    index = PackageIndex(tmp_path / "index")
    index.add(wheel)
    index.write()
    with IndexServer(index) as server:
        yield server, index


def wheel_requests(server: IndexServer, wheel: Path) -> int:
    return len(server.requests_for(f"/files/{wheel.name}"))


def installed_once(tmp_path: Path, server: IndexServer) -> tuple[Path, Path, Path]:
    """The cache, a venv that installed linky from *server* with it, an empty venv."""
    cache = tmp_path / "cache"
    a, b = tmp_path / "a", tmp_path / "b"
    make_venv(a)
    make_venv(b)
    assert install(a, cache, "-i", server.url, "linky").returncode == 0
    return cache, a, b


def test_a_stored_wheel_is_installed_without_fetching_it(
    tmp_path: Path, wheel: Path, served: tuple[IndexServer, PackageIndex]
) -> None:
    server, _ = served
    cache, a, b = installed_once(tmp_path, server)
    assert wheel_requests(server, wheel) == 1
    result = install(b, cache, "-i", server.url, "linky")
    assert result.returncode == 0, result.stderr
    assert wheel_requests(server, wheel) == 1  # the index's sha256 named the store entry
    site_a, site_b = site_of(a), site_of(b)
    record = "linky-1.0.dist-info/RECORD"
    assert {k: v for k, v in manifest(site_b).items() if k != record} == {
        k: v for k, v in manifest(site_a).items() if k != record
    }
    # RECORD differs only in the scripts, whose #! line names each environment.
    rows_a, rows_b = (
        [row for row in (site / record).read_text().splitlines() if "/bin/" not in row]
        for site in (site_a, site_b)
    )
    assert rows_a == rows_b
    assert_record_valid(b)
    member = site_b / "linky" / "data.txt"
    assert os.stat(member).st_ino == store_file(cache, "linky/data.txt").stat().st_ino
    assert subprocess.run([str(b / "bin" / "linky-tool")], check=False).returncode == 0


def test_a_stored_wheel_still_meets_the_index_metadata(
    tmp_path: Path, wheel: Path, served: tuple[IndexServer, PackageIndex]
) -> None:
    server, index = served
    cache, _, b = installed_once(tmp_path, server)
    # The index now serves metadata (correctly hashed) that adds a dependency the
    # wheel does not have: the store's copy must be refused as the wheel would be.
    served_meta = metadata_bytes(WheelSpec("linky", "1.0", requires=["delta"]))
    (index.dists_dir / (wheel.name + ".metadata")).write_bytes(served_meta)
    for entry in index.entries:
        entry.metadata_sha256 = hashlib.sha256(served_meta).hexdigest()
    index.add(WheelSpec("delta", "1.0"))
    index.write()
    before = manifest(b)
    result = install(b, cache, "-i", server.url, "linky")
    assert result.returncode != 0
    assert "Requires-Dist" in result.stderr and "index's metadata" in result.stderr
    assert manifest(b) == before
    assert wheel_requests(server, wheel) == 1


def test_an_edited_store_entry_is_rebuilt_from_the_cached_wheel(
    tmp_path: Path, wheel: Path, served: tuple[IndexServer, PackageIndex]
) -> None:
    server, _ = served
    cache, a, b = installed_once(tmp_path, server)
    with open(site_of(a) / "linky" / "sub" / "deep.py", "w") as handle:
        handle.write("VALUE = 4\n")  # edits the store through the hard link
    assert install(b, cache, "-i", server.url, "linky").returncode == 0
    assert (site_of(b) / "linky" / "sub" / "deep.py").read_text() == "VALUE = 3\n"
    assert store_file(cache, "linky/sub/deep.py").read_text() == "VALUE = 3\n"
    assert_record_valid(b)
    assert wheel_requests(server, wheel) == 1  # rebuilt from the wheel cache


def test_an_edited_store_metadata_is_noticed_before_the_metadata_checks(
    tmp_path: Path, wheel: Path, served: tuple[IndexServer, PackageIndex]
) -> None:
    """The .dist-info is checked in the installing process before the checks that read
    it (the rest of the entry may be checked by the placement helper): an edited
    METADATA means a rebuilt entry, not a refusal of a sound wheel."""
    server, _ = served
    cache, a, b = installed_once(tmp_path, server)
    metadata = site_of(a) / "linky-1.0.dist-info" / "METADATA"
    original = metadata.read_bytes()
    assert b"\nVersion: 1.0\n" in original
    with open(metadata, "r+b") as handle:  # in place: through the hard link
        handle.write(original.replace(b"\nVersion: 1.0\n", b"\nVersion: 1.1\n"))
    result = install(b, cache, "-i", server.url, "linky")
    assert result.returncode == 0, result.stderr
    assert (site_of(b) / "linky-1.0.dist-info" / "METADATA").read_bytes() == original
    assert store_file(cache, "linky-1.0.dist-info/METADATA").read_bytes() == original
    assert_record_valid(b)


@pytest.mark.parametrize("mode", ["hardlink", "copy"])
def test_a_path_two_wheels_ship_holds_the_later_ones_file(tmp_path: Path, mode: str) -> None:
    """As installer overwrites: the copy of the wheel installed later replaces the one
    written before (moved aside inside the transaction once that is really there), in
    every link mode. pip's install order, which roost follows, takes projects that need
    nothing else by name from the last: second, then first."""
    first = build_wheel(
        WheelSpec("first", "1.0", files={"common/data.txt": "from first\n"}), tmp_path / "w"
    )
    second = build_wheel(
        WheelSpec("second", "1.0", files={"common/data.txt": "from second\n"}), tmp_path / "w"
    )
    venv = tmp_path / "venv"
    make_venv(venv)
    result = install(venv, tmp_path / "cache", "--link-mode", mode, str(first), str(second))
    assert result.returncode == 0, result.stderr
    assert (site_of(venv) / "common" / "data.txt").read_text() == "from first\n"
    for name in ("first", "second"):
        rows = (site_of(venv) / f"{name}-1.0.dist-info" / "RECORD").read_text()
        assert "common/data.txt," in rows
    assert not list(site_of(venv).glob(".roost-tx-*"))
