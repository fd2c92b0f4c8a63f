"""Members read whole (roost.store.zip_member): the same bytes zipfile gives, every damage
zipfile would refuse refused too, and the big members streamed by zipfile instead."""

from __future__ import annotations

import os
import random
import zipfile
from pathlib import Path

import pytest

from roost.store.unpacked import UnpackedStore
from roost.store.zip_member import WHOLE_LIMIT, read_whole
from tests.support.wheels import WheelSpec, build_wheel, flip_member_byte, member_data_span

MEMBERS = {
    "empty.txt": b"",
    "small.py": b"x = 1\n",
    "text.txt": b"all work and no play\n" * 5000,
    "binary.bin": random.Random(7).randbytes(300_000),
    "naïve/ünïcode.txt": "ünïcode\n".encode(),
}


def make_zip(path: Path, members: dict[str, bytes], method: int) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, method)
    return path


def read_all(path: Path) -> dict[str, bytes | bytearray | None]:
    with open(path, "rb") as handle, zipfile.ZipFile(handle) as archive:
        return {info.filename: read_whole(handle, info) for info in archive.infolist()}


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_members_read_whole_equal_what_zipfile_reads(tmp_path: Path, method: int) -> None:
    path = make_zip(tmp_path / "a.zip", MEMBERS, method)
    got = read_all(path)
    assert {name: bytes(data or b"") for name, data in got.items()} == MEMBERS
    assert all(data is not None for data in got.values())


def test_big_members_are_left_to_zipfile(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "a.zip",
        {"big.bin": bytes(WHOLE_LIMIT + 1), "edge.bin": bytes(WHOLE_LIMIT)},
        zipfile.ZIP_DEFLATED,
    )
    got = read_all(path)
    assert got["big.bin"] is None
    assert got["edge.bin"] == bytes(WHOLE_LIMIT)


def test_a_member_claiming_a_huge_compressed_size_is_not_read_whole(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "a.zip", {"small.py": MEMBERS["small.py"]}, zipfile.ZIP_DEFLATED)
    with open(path, "rb") as handle, zipfile.ZipFile(handle) as archive:
        info = archive.getinfo("small.py")
        info.compress_size = WHOLE_LIMIT + 1
        # Streamed by zipfile instead (which then finds the archive too short).
        assert read_whole(handle, info) is None


@pytest.mark.parametrize(
    ("method", "why"),
    [
        (zipfile.ZIP_DEFLATED, "damaged: it does not inflate|damaged: its CRC"),
        (zipfile.ZIP_STORED, "damaged: its CRC"),
    ],
)
def test_damaged_data_is_refused(tmp_path: Path, method: int, why: str) -> None:
    path = make_zip(tmp_path / "a.zip", MEMBERS, method)
    flip_member_byte(path, "text.txt")
    with open(path, "rb") as handle, zipfile.ZipFile(handle) as archive:
        assert read_whole(handle, archive.getinfo("small.py")) == MEMBERS["small.py"]
        with pytest.raises(zipfile.BadZipFile, match=why):
            read_whole(handle, archive.getinfo("text.txt"))


def test_a_cut_member_is_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "a.zip", {"text.txt": MEMBERS["text.txt"]}, zipfile.ZIP_DEFLATED)
    with open(path, "rb") as handle, zipfile.ZipFile(handle) as archive:
        info = archive.getinfo("text.txt")
    start, length = member_data_span(path, "text.txt")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(path.read_bytes()[: start + length // 2])
    with open(cut, "rb") as handle, pytest.raises(zipfile.BadZipFile, match="truncated"):
        read_whole(handle, info)


@pytest.mark.parametrize(
    ("offset", "value", "why"),
    [(0, b"PK\x05\x06", "no local file header"), (30, b"X", "names")],
)
def test_a_local_header_that_disagrees_is_refused(
    tmp_path: Path, offset: int, value: bytes, why: str
) -> None:
    path = make_zip(tmp_path / "a.zip", MEMBERS, zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        start = archive.getinfo("small.py").header_offset + offset
    data[start : start + len(value)] = value
    path.write_bytes(bytes(data))
    with (
        open(path, "rb") as handle,
        zipfile.ZipFile(handle) as archive,
        pytest.raises(zipfile.BadZipFile, match=why),
    ):
        read_whole(handle, archive.getinfo("small.py"))


def test_a_store_entry_has_every_member_whole_or_streamed(tmp_path: Path) -> None:
    """Both paths end in the same tree: a wheel with members on each side of the limit
    unpacks to exactly its members, each RECORD-checked."""
    big = random.Random(3).randbytes(WHOLE_LIMIT + 100)
    spec = WheelSpec(
        "mixed",
        "1.0",
        files={"mixed/big.bin": big, "mixed/empty.txt": "", "mixed/text.txt": "t\n" * 999},
    )
    wheel = build_wheel(spec, tmp_path / "wheels")
    entry = UnpackedStore(tmp_path / "store").ensure(wheel)
    with zipfile.ZipFile(wheel) as archive:
        expected = {info.filename: archive.read(info) for info in archive.infolist()}
    found = {
        os.path.relpath(os.path.join(top, name), entry.tree): Path(top, name).read_bytes()
        for top, _, names in os.walk(entry.tree)
        for name in names
    }
    assert found == expected
    assert {member.path: member.size for member in entry.members} == {
        name: len(data) for name, data in expected.items()
    }
