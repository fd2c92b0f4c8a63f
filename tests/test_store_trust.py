"""The cache is not trusted (issue 16, items 4 and 6).

Item 4: anyone who can write the cache can rewrite a file of an unpacked-store entry,
its manifest row and the stored RECORD. Each case here installs once from a real
loopback index (filling a real cache), forges the entry as such an attacker would,
installs again into a fresh venv and asserts that what was installed is the genuine
file (RECORD agreeing), that the entry was made again from the verified wheel, or that
the install failed clearly when that wheel is gone.

Item 6: a wheel whose data files or scripts would replace the venv's interpreter,
pyvenv.cfg or its standard library is refused; the venv is byte for byte as it was and
still starts.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from roost.install.placement import Placer
from roost.store.linker import Linker
from roost.store.unpack import unpack_wheel
from roost.store.unpacked import UnpackedStore
from tests.support.envs import make_venv, manifest, run_roost
from tests.support.index import PackageIndex
from tests.support.server import Fault, IndexServer
from tests.support.wheels import WheelSpec, build_wheel

SPEC = WheelSpec(
    "trusty",
    "1.0",
    console_scripts={"trusty": "trusty:main"},
    files={"trusty/data.txt": "genuine data\n"},
    data={"scripts/trusty-tool": "#!python\nimport trusty\nprint('tool', trusty.__version__)\n"},
)
MODULE = "trusty/__init__.py"
INFO = "trusty-1.0.dist-info"
EVIL = b"def main():\n    print('PWNED')\n    return 0\n"
PY = f"python{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return build_wheel(SPEC, tmp_path / "built")


@pytest.fixture
def server(tmp_path: Path, wheel: Path) -> Iterator[IndexServer]:
    index = PackageIndex(tmp_path / "index")
    index.add(wheel)
    index.write()
    with IndexServer(index) as running:
        yield running


def site_of(venv: Path) -> Path:
    return venv / "lib" / PY / "site-packages"


def install(
    venv: Path, cache: Path, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    python = str(venv / "bin" / "python")
    return run_roost("install", "--python", python, "--cache-dir", str(cache), *args, check=check)


def entry_of(cache: Path, wheel: Path) -> Path:
    return cache / "unpacked" / hashlib.sha256(wheel.read_bytes()).hexdigest()


def genuine(wheel: Path, member: str) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(member)


def b64sha(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")


def forge(entry: Path, member: str, content: bytes, *, record: bool = False) -> None:
    """Replace *member* in the entry with *content*, as an attacker who can write the
    cache would: a new file, its manifest row made to match (sha256, size, mtime), and
    with *record* the stored RECORD's row too (and RECORD's own manifest row)."""
    file = entry / "tree" / member
    file.unlink(missing_ok=True)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(content)
    rows = {member: content}
    if record:
        record_file = entry / "tree" / INFO / "RECORD"
        lines = [
            f"{member},sha256={b64sha(content)},{len(content)}"
            if line.split(",")[0] == member
            else line
            for line in record_file.read_text().splitlines()
        ]
        if not any(line.startswith(f"{member},") for line in lines):
            lines.insert(0, f"{member},sha256={b64sha(content)},{len(content)}")
        record_file.unlink()
        record_file.write_text("\n".join(lines) + "\n")
        rows[f"{INFO}/RECORD"] = record_file.read_bytes()
    path = entry / "manifest.json"
    data = json.loads(path.read_text())
    for name, body in rows.items():
        row = [name, b64sha(body), len(body), False, (entry / "tree" / name).stat().st_mtime_ns]
        found = [m for m in data["members"] if m[0] == name]
        if found:
            found[0][:] = row
        else:
            data["members"].insert(0, row)
    path.unlink()
    path.write_text(json.dumps(data))


def assert_record_valid(venv: Path) -> None:
    """Every file the installed RECORD lists has the hash and size RECORD gives."""
    record = site_of(venv) / INFO / "RECORD"
    with record.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) > 3
    for path, digest, size in rows:
        if path.endswith("/RECORD"):
            continue
        data = (record.parent.parent / path).read_bytes()
        assert digest == f"sha256={b64sha(data)}", path
        assert int(size) == len(data), path


def assert_genuine(venv: Path, wheel: Path, cache: Path) -> None:
    """The installed module and the store's copy are the wheel's; the venv runs it."""
    assert (site_of(venv) / MODULE).read_bytes() == genuine(wheel, MODULE)
    assert_record_valid(venv)
    script = str(venv / "bin" / "trusty")
    ran = subprocess.run([script], capture_output=True, text=True, check=False)
    assert ran.stdout.strip() == "trusty 1.0", ran.stdout + ran.stderr
    assert (entry_of(cache, wheel) / "tree" / MODULE).read_bytes() == genuine(wheel, MODULE)


@pytest.fixture
def installed_once(tmp_path: Path, server: IndexServer) -> tuple[Path, Path]:
    """The cache (filled by one install from the index) and an empty venv."""
    cache = tmp_path / "cache"
    first, fresh = tmp_path / "first", tmp_path / "fresh"
    make_venv(first)
    make_venv(fresh)
    install(first, cache, "-i", server.url, "trusty")
    return cache, fresh


@pytest.mark.parametrize("how", ["index", "require-hashes", "path", "copy"])
def test_a_forged_store_file_is_never_installed(
    tmp_path: Path,
    wheel: Path,
    server: IndexServer,
    installed_once: tuple[Path, Path],
    how: str,
) -> None:
    cache, venv = installed_once
    forge(entry_of(cache, wheel), MODULE, EVIL)
    if how == "require-hashes":
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        requirements = tmp_path / "requirements.txt"
        requirements.write_text(f"trusty==1.0 --hash=sha256:{digest}\n")
        install(venv, cache, "--require-hashes", "-i", server.url, "-r", str(requirements))
    elif how == "path":
        # Fetched first, then found in the store by its sha256: checked in this process.
        install(venv, cache, str(wheel))
    elif how == "copy":
        install(venv, cache, "--link-mode", "copy", "-i", server.url, "trusty")
    else:
        install(venv, cache, "-i", server.url, "trusty")
    assert_genuine(venv, wheel, cache)


def test_a_forged_record_does_not_vouch_for_a_forged_file(
    wheel: Path, server: IndexServer, installed_once: tuple[Path, Path]
) -> None:
    cache, venv = installed_once
    forge(entry_of(cache, wheel), MODULE, EVIL, record=True)
    install(venv, cache, "-i", server.url, "trusty")
    assert_genuine(venv, wheel, cache)


def test_a_file_added_to_an_entry_is_not_installed(
    wheel: Path, server: IndexServer, installed_once: tuple[Path, Path]
) -> None:
    """A .pth file runs at every start of the interpreter: the classic thing to plant."""
    cache, venv = installed_once
    forge(entry_of(cache, wheel), "trusty_evil.pth", b"import os; print('PWNED')\n", record=True)
    install(venv, cache, "-i", server.url, "trusty")
    assert not (site_of(venv) / "trusty_evil.pth").exists()
    assert_genuine(venv, wheel, cache)


def test_a_forged_metadata_file_is_refused_removed_and_fetched_again(
    wheel: Path, server: IndexServer, installed_once: tuple[Path, Path]
) -> None:
    """METADATA is read by the checks before the entry's check by content is done: a
    forged one fails them, and the forged entry must not outlive that refusal."""
    cache, venv = installed_once
    entry = entry_of(cache, wheel)
    metadata = genuine(wheel, f"{INFO}/METADATA")
    forge(entry, f"{INFO}/METADATA", metadata.replace(b"Version: 1.0", b"Version: 6.6.6"))
    before = manifest(venv)
    result = install(venv, cache, "-i", server.url, "trusty", check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "stored copy of trusty" in result.stderr and "run the command again" in result.stderr
    assert manifest(venv) == before
    assert not entry.exists()
    install(venv, cache, "-i", server.url, "trusty")
    assert_genuine(venv, wheel, cache)
    assert (site_of(venv) / INFO / "METADATA").read_bytes() == metadata


def test_an_entry_rebuilt_from_another_wheel_is_not_trusted(
    tmp_path: Path, wheel: Path, server: IndexServer, installed_once: tuple[Path, Path]
) -> None:
    """Everything consistent (tree, manifest, RECORD, the entry's copy of the wheel),
    made from the attacker's own wheel of the same name: only the sha256 the index
    gave, which names the entry, tells it apart."""
    cache, venv = installed_once
    payload = tmp_path / "payload" / wheel.name
    payload.parent.mkdir()
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(payload, "w") as target:
        record = source.read(f"{INFO}/RECORD").decode()
        (row,) = [line for line in record.splitlines() if line.startswith(f"{MODULE},")]
        record = record.replace(row, f"{MODULE},sha256={b64sha(EVIL)},{len(EVIL)}")
        for info in source.infolist():
            data = source.read(info)
            data = EVIL if info.filename == MODULE else data
            data = record.encode() if info.filename == f"{INFO}/RECORD" else data
            target.writestr(info, data)
    forged = tmp_path / "forged"
    forged.mkdir()
    unpack_wheel(payload, forged)
    entry = entry_of(cache, wheel)
    shutil.rmtree(entry)
    forged.rename(entry)
    install(venv, cache, "-i", server.url, "trusty")
    assert_genuine(venv, wheel, cache)


def test_a_forged_entry_whose_wheel_is_gone_fails_clearly(
    wheel: Path, server: IndexServer, installed_once: tuple[Path, Path]
) -> None:
    cache, venv = installed_once
    forge(entry_of(cache, wheel), MODULE, EVIL)
    shutil.rmtree(cache / "wheels")
    server.set_fault(f"/files/{wheel.name}", Fault(status=404, times=None))
    before = manifest(venv)
    result = install(venv, cache, "-i", server.url, "trusty", check=False)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.count("ERROR:") == 1, result.stderr
    assert wheel.name in result.stderr, result.stderr
    assert manifest(venv) == before


def test_a_store_file_others_may_write_is_not_linked(
    wheel: Path, server: IndexServer, installed_once: tuple[Path, Path]
) -> None:
    """Genuine bytes, but writable by everyone: hard-linked, the installed file would
    stay writable by everyone (and its content theirs to change later)."""
    mask = os.umask(0o022)
    os.umask(mask)
    if not mask & 0o002:
        pytest.skip("the umask lets everyone write new files")
    cache, venv = installed_once
    stored = entry_of(cache, wheel) / "tree" / MODULE
    stored.chmod(0o666)
    install(venv, cache, "-i", server.url, "trusty")
    assert not (site_of(venv) / MODULE).stat().st_mode & 0o002
    assert_genuine(venv, wheel, cache)


def test_a_store_file_of_another_user_is_not_linked(
    wheel: Path, server: IndexServer, installed_once: tuple[Path, Path]
) -> None:
    """Genuine bytes, but another user's inode: hard-linked, they could change the
    installed file whenever they like."""
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    cache, venv = installed_once
    stored = entry_of(cache, wheel) / "tree" / MODULE
    os.chown(stored, 1000, 1000)
    install(venv, cache, "-i", server.url, "trusty")
    assert (site_of(venv) / MODULE).stat().st_uid == os.geteuid()
    assert_genuine(venv, wheel, cache)


def test_the_check_without_a_helper_process_sees_the_forgery(tmp_path: Path, wheel: Path) -> None:
    """One CPU (no placement helper): the store checks entries in the installing process."""
    store = UnpackedStore(tmp_path / "unpacked")
    entry = store.ensure(wheel)
    digest = entry.root.name
    assert store.find(digest) is not None
    forge(entry.root, MODULE, EVIL)
    assert store.find(digest) is None
    placer = Placer(Linker("hardlink"), helper=False)
    placer.verify(str(entry.root))
    assert placer.stale == {str(entry.root)}


# -- item 6 ------------------------------------------------------------------------


def _hostile(tmp_path: Path, member: str) -> Path:
    spec = WheelSpec("hostile", "1.0", data={member: b"#!/bin/sh\necho pwned\n"})
    return build_wheel(spec, tmp_path / "hostile")


def _assert_refused(venv: Path, result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.count("ERROR:") == 1, result.stderr
    for needle in ("hostile", *needles):
        assert needle in result.stderr, result.stderr
    ran = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sys; print(sys.prefix)"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert Path(ran.stdout.strip()) == venv


@pytest.mark.parametrize(
    ("member", "why"),
    [
        (f"data/bin/{PY}", "interpreter"),
        ("data/bin/python", "interpreter"),
        ("data/pyvenv.cfg", "pyvenv.cfg"),
        ("data/bin/pyvenv.cfg", "pyvenv.cfg"),
        ("scripts/pyvenv.cfg", "configuration"),
    ],
)
@pytest.mark.parametrize("source", ["path", "index"])
def test_data_that_would_replace_the_interpreter_or_its_configuration_is_refused(
    tmp_path: Path, member: str, why: str, source: str
) -> None:
    venv = tmp_path / "venv"
    make_venv(venv)
    wheel = _hostile(tmp_path, member)
    before = manifest(venv)
    if source == "index":
        index = PackageIndex(tmp_path / "index")
        index.add(wheel)
        index.write()
        with IndexServer(index) as running:
            result = install(venv, tmp_path / "cache", "-i", running.url, "hostile", check=False)
    else:
        result = install(venv, tmp_path / "cache", str(wheel), check=False)
    _assert_refused(venv, result, f"hostile-1.0.data/{member}", why)
    assert manifest(venv) == before


@pytest.mark.parametrize("cache", [True, False], ids=["from the store", "without a cache"])
def test_data_in_the_standard_librarys_folder_is_refused_at_install_time(
    tmp_path: Path, cache: bool
) -> None:
    """The archive checks cannot know where the standard library is; the install does
    (the folder that holds site-packages: in a prefix install, the interpreter's own)."""
    venv = tmp_path / "venv"
    make_venv(venv)
    member = f"data/lib/{PY}/os.py"
    wheel = _hostile(tmp_path, member)
    before = manifest(venv)
    python = str(venv / "bin" / "python")
    caching = ["--cache-dir", str(tmp_path / "cache")] if cache else ["--no-cache-dir"]
    result = run_roost("install", "--python", python, *caching, str(wheel))
    _assert_refused(venv, result, f"hostile-1.0.data/{member}", str(venv / "lib" / PY / "os.py"))
    assert "standard library" in result.stderr
    assert manifest(venv) == before
