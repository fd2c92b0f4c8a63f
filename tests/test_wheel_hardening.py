"""Hostile and broken wheels: each is refused before anything is written.

Every case installs a crafted wheel into a real venv and asserts a non-zero exit, one
message naming the package and the offending file, no traceback, and a venv that is
byte-for-byte what it was (tests/support/envs.manifest).
"""

from __future__ import annotations

import base64
import hashlib
import struct
import warnings
import zipfile
from pathlib import Path

import pytest

from roost.store.wheel_check import UnsafeWheelError, check_wheel
from tests.support.envs import manifest, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import (
    WheelSpec,
    build_wheel,
    flip_member_byte,
    metadata_bytes,
    record_hash,
)

NAME, VERSION = "evil", "1.0"
INFO = f"{NAME}-{VERSION}.dist-info"
DATA = f"{NAME}-{VERSION}.data"


def craft(
    dest: Path,
    members: list[tuple[str, bytes]],
    *,
    metadata: bytes | None = None,
    entry_points: str | None = None,
    unrecorded: tuple[str, ...] = (),
    tampered: dict[str, bytes] | None = None,
    filename: str = f"{NAME}-{VERSION}-py3-none-any.whl",
) -> Path:
    """A wheel with *members* plus a valid .dist-info whose RECORD matches, unless told."""
    items = [(f"{NAME}/__init__.py", b"x = 1\n"), *members]
    items.append((f"{INFO}/METADATA", metadata or metadata_bytes(WheelSpec(NAME, VERSION))))
    items.append(
        (f"{INFO}/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    )
    if entry_points is not None:
        items.append((f"{INFO}/entry_points.txt", entry_points.encode()))
    record = "".join(
        f"{path},{record_hash(data)},{len(data)}\n"
        for path, data in items
        if path not in unrecorded
    )
    items.append((f"{INFO}/RECORD", (record + f"{INFO}/RECORD,,\n").encode()))
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / filename
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point of one case
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, data in items:
                info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, (tampered or {}).get(path, data))
    return target


def refused(venv: Path, wheel: Path, *needles: str, index: str | None = None) -> str:
    root = venv.parent.parent
    before = manifest(root)
    args = ["install", "--python", str(venv)]
    args += ["-i", index, f"{NAME}=={VERSION}"] if index else [str(wheel)]
    result = run_roost(*args)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.count("ERROR:") == 1, result.stderr
    for needle in (NAME, *needles):
        assert needle in result.stderr, result.stderr
    assert manifest(root) == before
    return result.stderr


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ("../evil.py", "'..'"),
        (f"{NAME}/../../evil.py", "'..'"),
        ("/tmp/evil.py", "absolute"),
        ("C:/evil.py", "absolute"),
        ("evil\\..\\..\\x.py", "backslash"),
        (f"{DATA}/data/../../../../evil.txt", "'..'"),
        (f"{DATA}/purelib//etc/evil", "empty"),
        (f"{DATA}/bogus/evil.txt", "unknown .data scheme"),
        (f"{NAME}/ev\x1bil.py", "control characters"),
    ],
)
def test_member_names_that_escape_or_lie_are_refused(
    tmp_path: Path, venv: Path, member: str, why: str
) -> None:
    wheel = craft(tmp_path / "w", [(member, b"pwned\n")])
    refused(venv, wheel, wheel.name, why, repr(member))


def test_duplicate_members_are_refused(tmp_path: Path, venv: Path) -> None:
    wheel = craft(tmp_path / "w", [(f"{NAME}/mod.py", b"a = 1\n"), (f"{NAME}/mod.py", b"a = 2\n")])
    refused(venv, wheel, f"{NAME}/mod.py", "more than once")


def _edit_local_header(wheel: Path, member: str, edit: str) -> None:
    data = bytearray(wheel.read_bytes())
    with zipfile.ZipFile(wheel) as archive:
        offset = archive.getinfo(member).header_offset
    if edit == "name":
        start = offset + 30
        name = member.encode()
        data[start : start + len(name)] = name.replace(b"mod", b"MOD")
    else:
        (size,) = struct.unpack_from("<I", data, offset + 22)
        struct.pack_into("<I", data, offset + 22, size + 7)
    wheel.write_bytes(bytes(data))


@pytest.mark.parametrize("edit", ["name", "size"])
def test_local_header_disagreeing_with_central_directory(
    tmp_path: Path, venv: Path, edit: str
) -> None:
    wheel = craft(tmp_path / "w", [(f"{NAME}/mod.py", b"a = 1\n")])
    _edit_local_header(wheel, f"{NAME}/mod.py", edit)
    refused(venv, wheel, f"{NAME}/mod.py", "local header")


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_damaged_member_data_is_refused_and_never_stored(
    tmp_path: Path, venv: Path, method: int
) -> None:
    """A member whose bytes no longer match their CRC-32 (a flipped bit on disk or on
    the way) stops the install while unpacking; the store keeps no entry of it."""
    wheel = craft(tmp_path / "w", [(f"{NAME}/mod.py", b"a = 1\n" * 2000)])
    with zipfile.ZipFile(wheel) as archive:
        infos = [archive.getinfo(name) for name in archive.namelist()]
    rewritten = tmp_path / "rewritten"
    rewritten.mkdir()
    with zipfile.ZipFile(wheel) as old, zipfile.ZipFile(rewritten / wheel.name, "w") as new:
        for info in infos:
            content = old.read(info)
            info.compress_type = method
            new.writestr(info, content)
    flip_member_byte(rewritten / wheel.name, f"{NAME}/mod.py")
    wheel.write_bytes((rewritten / wheel.name).read_bytes())
    refused(
        venv, wheel, f"{NAME}/mod.py", "damaged", "CRC-32" if method == zipfile.ZIP_STORED else ""
    )
    store = tmp_path / "xdg-cache" / "roost" / "unpacked"
    assert not store.exists() or not any(
        (entry / "manifest.json").exists() for entry in store.iterdir()
    )


def test_zip_bomb_ratio_is_refused(tmp_path: Path, venv: Path) -> None:
    wheel = craft(tmp_path / "w", [(f"{NAME}/zeros.bin", bytes(3 << 20))])
    refused(venv, wheel, f"{NAME}/zeros.bin", "zip bomb")


def test_total_size_bound(tmp_path: Path) -> None:
    wheel = craft(tmp_path / "w", [(f"{NAME}/big.txt", b"0123456789" * 500)])
    check_wheel(wheel, NAME, VERSION)
    with pytest.raises(UnsafeWheelError, match="more than the limit of 1000"):
        check_wheel(wheel, NAME, VERSION, max_total=1000)


@pytest.mark.parametrize(
    ("script", "why"),
    [
        ("../../evil", "outside the scripts directory"),
        ("sub\\evil", "outside the scripts directory"),
        ("python", "shadow"),
        ("python3", "shadow"),
        ("python3.12", "shadow"),
    ],
)
def test_entry_points_that_escape_or_shadow_python(
    tmp_path: Path, venv: Path, script: str, why: str
) -> None:
    wheel = craft(tmp_path / "w", [], entry_points=f"[console_scripts]\n{script} = {NAME}:main\n")
    refused(venv, wheel, wheel.name, repr(script), why)


def test_data_script_shadowing_python(tmp_path: Path, venv: Path) -> None:
    wheel = craft(tmp_path / "w", [(f"{DATA}/scripts/python3", b"#!/bin/sh\necho pwned\n")])
    refused(venv, wheel, "python3", "shadow")


def test_record_hash_mismatch(tmp_path: Path, venv: Path) -> None:
    wheel = craft(
        tmp_path / "w",
        [(f"{NAME}/mod.py", b"a = 1\n")],
        tampered={f"{NAME}/mod.py": b"a = 666\n"},
    )
    refused(venv, wheel, f"{NAME}/mod.py", wheel.name)


@pytest.mark.parametrize("matches", [True, False])
def test_record_rows_hashed_with_another_algorithm(
    tmp_path: Path, venv: Path, matches: bool
) -> None:
    """RECORD may use any hashlib-guaranteed algorithm; a sha512 row is checked with
    sha512 against the unpacked file, not taken on trust."""
    content = b"b = 2\n"
    wheel = craft(tmp_path / "w", [(f"{NAME}/mod.py", content)])
    digest = hashlib.sha512(content if matches else b"b = 3\n").digest()
    row = f"{NAME}/mod.py,sha512={base64.urlsafe_b64encode(digest).decode().rstrip('=')},6"
    with zipfile.ZipFile(wheel) as archive:
        items = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in items:
            if info.filename == f"{INFO}/RECORD":
                lines = data.decode().splitlines()
                data = "\n".join(
                    row if line.startswith(f"{NAME}/mod.py,") else line for line in lines
                ).encode()
            archive.writestr(info, data)
    if not matches:
        refused(venv, wheel, f"{NAME}/mod.py", "didn't match RECORD")
        return
    result = run_roost("install", "--python", str(venv), str(wheel))
    assert result.returncode == 0, result.stderr
    site = next((venv.parent.parent / "lib").glob("python*/site-packages"))
    assert (site / NAME / "mod.py").read_bytes() == content


def test_file_missing_from_record(tmp_path: Path, venv: Path) -> None:
    wheel = craft(
        tmp_path / "w", [(f"{NAME}/sneaky.py", b"a = 1\n")], unrecorded=(f"{NAME}/sneaky.py",)
    )
    refused(venv, wheel, f"{NAME}/sneaky.py", "not mentioned in RECORD")


def test_metadata_name_disagreeing_with_filename(tmp_path: Path, venv: Path) -> None:
    wheel = craft(tmp_path / "w", [], metadata=metadata_bytes(WheelSpec("innocent", VERSION)))
    refused(venv, wheel, f"{INFO}/METADATA", "innocent")


def test_metadata_disagreeing_with_the_index_pep658_file(tmp_path: Path, venv: Path) -> None:
    index = PackageIndex(tmp_path / "index")
    wheel = craft(tmp_path / "w", [])
    index.add(wheel)
    # The index serves metadata (correctly hashed) that hides a dependency the wheel has.
    served = metadata_bytes(WheelSpec(NAME, VERSION, requires=["delta"]))
    (index.dists_dir / (wheel.name + ".metadata")).write_bytes(served)
    for entry in index.entries:
        entry.metadata_sha256 = hashlib.sha256(served).hexdigest()
    index.add(WheelSpec("delta", "1.0"))
    index.write()
    with IndexServer(index) as server:
        refused(venv, wheel, "Requires-Dist", "index's metadata", index=server.url)


def test_symlinked_directory_leading_outside_is_never_written_through(
    tmp_path: Path, venv: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    site = next((venv.parent.parent / "lib").glob("python*/site-packages"))
    (site / NAME).symlink_to(outside, target_is_directory=True)
    wheel = craft(tmp_path / "w", [])
    refused(venv, wheel, "symlink", str(outside))
    assert list(outside.iterdir()) == []


def test_symlink_planted_at_a_target_file_is_replaced_not_followed(
    tmp_path: Path, venv: Path
) -> None:
    victim = tmp_path / "victim.py"
    victim.write_text("precious\n")
    site = next((venv.parent.parent / "lib").glob("python*/site-packages"))
    (site / "planted.py").symlink_to(victim)
    wheel = craft(tmp_path / "w", [("planted.py", b"new = 1\n")])
    result = run_roost("install", "--python", str(venv), str(wheel))
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "precious\n"
    assert not (site / "planted.py").is_symlink()
    assert (site / "planted.py").read_text() == "new = 1\n"


def test_a_good_wheel_passes(tmp_path: Path) -> None:
    wheel = build_wheel(
        WheelSpec(NAME, VERSION, console_scripts={"evil-tool": "evil:main"}, data={"data/x": "1"}),
        tmp_path,
    )
    check_wheel(wheel, NAME, VERSION)
