"""METADATA read with HTTP range requests: the zip reader, and roost against real servers."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from roost.net.client import ByteRange
from roost.net.lazy_wheel import Unreadable, read_metadata
from tests.support.envs import dry_run_install, manifest, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel

METADATA = b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n\n" + b"A long description.\n" * 40


def make_zip(files: int = 1, method: int = zipfile.ZIP_DEFLATED, comment: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as archive:
        for number in range(files):
            archive.writestr(f"pkg/a_module_with_a_rather_long_name_{number:05d}.py", b"x = 1\n")
        archive.writestr("pkg-1.0.dist-info/METADATA", METADATA)
        archive.writestr("pkg-1.0.dist-info/RECORD", b"")
        archive.comment = comment
    return buf.getvalue()


class Ranges:
    """Serve ranges of *data* as a server would, and remember what was asked."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.asked: list[str] = []

    def __call__(self, span: str) -> ByteRange:
        self.asked.append(span)
        first, _, last = span.partition("-")
        size = len(self.data)
        start = max(size - int(last), 0) if not first else int(first)
        end = size if not first else min(int(last) + 1, size)
        return ByteRange(start, size, self.data[start:end])


def test_small_zip_takes_one_request() -> None:
    ranges = Ranges(make_zip())
    assert read_metadata(ranges) == METADATA
    assert ranges.asked == ["-65536"]


def test_stored_member_and_a_comment_with_a_fake_signature() -> None:
    data = make_zip(method=zipfile.ZIP_STORED, comment=b"PK\x05\x06 not a record")
    assert read_metadata(Ranges(data)) == METADATA


def test_directory_larger_than_the_tail_takes_one_more_request() -> None:
    data = make_zip(files=2000)
    ranges = Ranges(data)
    assert read_metadata(ranges) == METADATA
    assert len(data) > 3 * 65536 and len(ranges.asked) == 2


def test_small_tail_reads_member_separately() -> None:
    ranges = Ranges(make_zip(files=50))
    assert read_metadata(ranges, tail=100) == METADATA
    assert len(ranges.asked) >= 2


def test_zip64(monkeypatch: pytest.MonkeyPatch) -> None:
    # A file-count limit of 1 makes zipfile write the ZIP64 end records.
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)
    data = make_zip(files=3)
    assert b"PK\x06\x06" in data and b"PK\x06\x07" in data
    assert read_metadata(Ranges(data)) == METADATA


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # no end record in the tail
        lambda data: data.replace(b"PK\x01\x02", b"XX\x01\x02"),  # directory entries
        lambda data: data.replace(b"PK\x03\x04", b"XX\x03\x04"),  # local headers
        lambda data: data.replace(b"pkg-1.0.dist-info/METADATA", b"pkg-1.0.dist-info/METADATX"),
    ],
)
def test_damaged_archives_are_unreadable(damage: Any) -> None:
    with pytest.raises(Unreadable):
        read_metadata(Ranges(damage(make_zip(method=zipfile.ZIP_STORED))))


def test_crc_is_checked() -> None:
    data = make_zip(method=zipfile.ZIP_STORED)
    with pytest.raises(Unreadable, match="CRC"):
        read_metadata(Ranges(data.replace(b"A long description", b"A bent description")))


# Against real servers


class NoRangeServer(IndexServer):
    """Answers every file request in full, as a server without range support does."""

    def _file(self, handler: Any, name: str) -> tuple[int, bytes, dict[str, str]]:
        target = self.index.dists_dir / name
        if "/" in name or not target.is_file():
            return 404, b"no such file\n", {}
        return 200, target.read_bytes(), {"Content-Type": "application/octet-stream"}


class LyingServer(IndexServer):
    """Range answers come from *decoy*; whole-file answers from the index's real wheel."""

    def __init__(self, index: PackageIndex, decoy: Path, **kwargs: Any) -> None:
        super().__init__(index, **kwargs)
        self.decoy = decoy

    def _file(self, handler: Any, name: str) -> tuple[int, bytes, dict[str, str]]:
        asked = handler.headers.get("Range")
        if asked is None or name != self.decoy.name:
            return super()._file(handler, name)
        data = self.decoy.read_bytes()
        first, _, last = asked.strip().removeprefix("bytes=").partition("-")
        start = max(len(data) - int(last), 0) if not first else int(first)
        end = len(data) - 1 if not first or not last else min(int(last), len(data) - 1)
        headers = {"Content-Range": f"bytes {start}-{end}/{len(data)}"}
        return 206, data[start : end + 1], headers


def dry_run(url: str, tmp_path: Path, *args: str, env: dict[str, str]) -> str:
    return dry_run_install(url, tmp_path, *args, env=env).stdout


@pytest.fixture
def ranged(corpus_index: PackageIndex) -> Iterator[IndexServer]:
    with IndexServer(corpus_index) as server:
        yield server


def test_metadata_without_pep658_comes_from_ranges(
    ranged: IndexServer, tmp_path: Path, tmp_home: dict[str, str]
) -> None:
    out = dry_run(ranged.url, tmp_path, "nometa", env=tmp_home)
    assert "Would install nometa-1.0" in out
    wheel = ranged.requests_for("/files/nometa-*.whl")
    assert wheel and all("Range" in r.headers for r in wheel)
    assert not ranged.requests_for("/files/nometa-*.metadata")


def test_server_without_ranges_gets_the_whole_wheel(
    corpus_index: PackageIndex, tmp_path: Path, tmp_home: dict[str, str]
) -> None:
    with NoRangeServer(corpus_index) as server:
        out = dry_run(server.url, tmp_path, "nometa", env=tmp_home)
        assert "Would install nometa-1.0" in out
        wheel = server.requests_for("/files/nometa-*.whl")
        # One range request that got the whole file back, then a plain download.
        assert len(wheel) == 2 and "Range" not in wheel[-1].headers


def test_large_central_directory(tmp_path: Path, tmp_home: dict[str, str], venv: Path) -> None:
    index = PackageIndex(tmp_path / "index")
    files: dict[str, str | bytes] = {
        f"many/sub/module_number_{n:05d}.py": f"N = {n}\n" for n in range(2500)
    }
    wheel = index.add(WheelSpec("many", "1.0", files=files), metadata=False)
    index.write()
    with IndexServer(index) as server:
        run_roost(
            "install", "--python", str(venv), "-i", server.url, "many", env=tmp_home, check=True
        )
        asked = server.requests_for("/files/many-*.whl")
    assert wheel.stat().st_size > 4 * 65536
    ranged = [r for r in asked if "Range" in r.headers]
    # The tail, the directory (with what lies just before it), and METADATA when it is
    # not there; the one plain GET is the download for installing.
    assert 2 <= len(ranged) <= 3
    assert len(asked) == len(ranged) + 1 and "Range" not in asked[-1].headers


def test_lying_range_answers_are_caught_before_install(
    tmp_path: Path, tmp_home: dict[str, str], venv: Path
) -> None:
    index = PackageIndex(tmp_path / "index")
    index.add(WheelSpec("delta", "1.0"))
    index.add(WheelSpec("liar", "1.0", requires=["delta"]), metadata=False)
    index.write()
    # Same name and version, but no dependency: the resolver would skip delta.
    decoy = build_wheel(WheelSpec("liar", "1.0"), tmp_path / "decoy")
    site = venv.parent.parent
    before = manifest(site)
    with LyingServer(index, decoy) as server:
        result = run_roost(
            "install", "--python", str(venv), "-i", server.url, "liar", env=tmp_home
        )
    assert result.returncode != 0
    assert "range requests" in result.stderr and "nothing was installed" in result.stderr
    assert manifest(site) == before
