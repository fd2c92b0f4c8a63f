"""Wheels for roost's own tests: roost.testing's builder, plus ways to damage a wheel.

The builder moved to :mod:`roost.testing.wheels` (plugin authors use it through the
``make_wheel`` fixture); its names are re-exported here so the tests keep one import.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from roost.testing.wheels import (
    DATA_SCHEMES,
    GENERATOR,
    WheelSpec,
    build_sdist,
    build_wheel,
    data_dir,
    dist_info_dir,
    escape_name,
    expand_tag,
    metadata_bytes,
    record_hash,
    wheel_contents,
    wheel_filename,
)

__all__ = [
    "DATA_SCHEMES",
    "GENERATOR",
    "WheelSpec",
    "build_sdist",
    "build_wheel",
    "data_dir",
    "dist_info_dir",
    "escape_name",
    "expand_tag",
    "flip_member_byte",
    "member_data_span",
    "metadata_bytes",
    "record_hash",
    "wheel_contents",
    "wheel_filename",
]


def member_data_span(archive: Path, name: str) -> tuple[int, int]:
    """Where member *name*'s stored (compressed) data starts in *archive*, and its length."""
    with zipfile.ZipFile(archive) as opened:
        info = opened.getinfo(name)
    with open(archive, "rb") as handle:
        handle.seek(info.header_offset + 26)
        name_length, extra_length = struct.unpack("<HH", handle.read(4))
    return info.header_offset + 30 + name_length + extra_length, info.compress_size


def flip_member_byte(archive: Path, name: str) -> None:
    """Flip every bit of the byte in the middle of member *name*'s stored data, as a
    damaged disk or transfer would."""
    start, length = member_data_span(archive, name)
    data = bytearray(archive.read_bytes())
    data[start + length // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
