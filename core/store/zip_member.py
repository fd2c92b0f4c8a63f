"""A zip member's content read in one piece.

zipfile hands out a member through a ``ZipExtFile``: an object, a zlib decompressor
and a CRC update per read, about 40 µs a member before any inflating. For wheels of
thousands of small files that overhead and zlib's inflate were most of an unpack. Here
the central directory still comes from :class:`zipfile.ZipFile` (with its checks); a
member's local header is read and checked as zipfile checks it, and its data is
inflated in one call by libdeflate (about twice zlib's speed, and the GIL is released
meanwhile) into a buffer of the size the directory gives, then CRC-checked.

Members too big to hold whole, encrypted, or compressed other than by deflate get None
and are streamed through zipfile instead.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from typing import BinaryIO

from deflate import DeflateError, deflate_decompress

#: Bigger members are streamed: two unpacking threads each holding a member this size
#: (and its compressed bytes) stay well below pip's peak memory for the same install.
WHOLE_LIMIT = 4 << 20
#: A local file header (APPNOTE 4.3.7): signature, version, flags, method, time, date,
#: crc-32, compressed size, size, name length, extra field length.
LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
LOCAL_SIGNATURE = 0x04034B50
#: General purpose flag bits: encrypted, names in UTF-8.
_ENCRYPTED = 0x1
UTF8_NAME = 0x800


def read_whole(handle: BinaryIO, info: zipfile.ZipInfo) -> bytes | bytearray | None:
    """The content of member *info* of the archive open as *handle*, or None when it is
    to be streamed by zipfile instead. Raises :class:`zipfile.BadZipFile` when the
    member's local header, data or CRC-32 are not what the central directory says."""
    if (
        info.file_size > WHOLE_LIMIT
        # The directory's compressed size is what gets read: a member claiming a huge
        # one (up to the whole archive) is streamed, never read into memory at once.
        or info.compress_size > WHOLE_LIMIT
        or info.flag_bits & _ENCRYPTED
        or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
    ):
        return None
    handle.seek(info.header_offset)
    header = handle.read(LOCAL_HEADER.size)
    fields = LOCAL_HEADER.unpack(header) if len(header) == LOCAL_HEADER.size else None
    if fields is None or fields[0] != LOCAL_SIGNATURE:
        raise zipfile.BadZipFile(f"no local file header for {info.filename}")
    flags, name_length, extra_length = fields[2], fields[9], fields[10]
    name = handle.read(name_length).decode("utf-8" if flags & UTF8_NAME else "cp437")
    # A local name other than the directory's is how overlapping or spliced archives
    # show; zipfile refuses them, and so does this.
    if name != info.orig_filename:
        raise zipfile.BadZipFile(
            f"the local header of {info.orig_filename!r} names {name!r} instead"
        )
    handle.seek(extra_length, os.SEEK_CUR)
    raw = handle.read(info.compress_size)
    if len(raw) != info.compress_size:
        raise zipfile.BadZipFile(f"{info.filename} is truncated")
    data: bytes | bytearray = raw
    if info.compress_type == zipfile.ZIP_DEFLATED:
        try:
            data = deflate_decompress(raw, info.file_size)
        except DeflateError:
            raise zipfile.BadZipFile(
                f"{info.filename} is damaged: it does not inflate to {info.file_size} bytes"
            ) from None
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(
            f"{info.filename} is damaged: its CRC-32 or size is not the zip directory's"
        )
    return data
