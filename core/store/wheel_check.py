"""Check a wheel for anything unsafe or inconsistent before a byte of it is written.

A wheel is untrusted input. :func:`check_wheel` reads only the zip's directories, the
local file headers and the small ``.dist-info`` files, and refuses: member names that
could land outside the environment (``..``, absolute or drive paths, backslashes,
control characters, escapes through ``.data/<scheme>/``, unknown ``.data`` schemes),
duplicate members, local headers that disagree with the central directory (two zip
readers would then see two different wheels), zip bombs, entry points or scripts that
escape the scripts directory or shadow ``python``, data files or scripts that would
replace the environment's interpreter or ``pyvenv.cfg`` (the check that knows the
scheme's real paths is :mod:`roost.install.protected`'s, at install time), and metadata
whose name or version disagrees with the file name or with what the index served
(PEP 658). RECORD hashes,
sizes and files missing from RECORD are checked by ``installer``'s ``validate_record``.
"""

from __future__ import annotations

import configparser
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from roost.errors import InstallError
from roost.store.zip_member import LOCAL_HEADER, LOCAL_SIGNATURE, UTF8_NAME
from roost.util.core_metadata import first_field, header_fields

#: Control characters (C0 and DEL): never valid in a member or script name.
_CONTROL = re.compile("[\x00-\x1f\x7f]")

#: A member may expand to at most this many times its compressed size...
MAX_RATIO = 200
#: ...once it is bigger than this (small files of repeated bytes are common and harmless).
RATIO_FLOOR = 1 << 20
#: All members together may expand to at most this many bytes.
MAX_TOTAL = 1 << 30
DATA_SCHEMES = frozenset({"purelib", "platlib", "headers", "scripts", "data"})
#: The names an interpreter has in a scripts folder (``python3.12``, ``pythonw.exe``,
#: ``python3.13t``, ``pypy3``): no script or data file may take one.
INTERPRETER_NAME = re.compile(
    r"(python|pypy)(\d+(\.\d+)*)?(w|d|_d|t|m|dm)?(\.exe)?", re.IGNORECASE
)
#: Where the data scheme's root (a venv's root, a prefix) keeps its interpreters.
_BIN_DIRS = frozenset({"bin", "scripts"})
_ZIP64_SIZE = 0xFFFFFFFF


class UnsafeWheelError(InstallError):
    """A wheel failed a safety or consistency check; nothing was written."""


def check_wheel(
    path: Path,
    expected_name: str,
    expected_version: Version | str,
    metadata_text_from_index: str | None = None,
    *,
    max_ratio: float = MAX_RATIO,
    max_total: int = MAX_TOTAL,
    structure: bool = True,
) -> None:
    """Raise :class:`UnsafeWheelError` naming the first problems found in the wheel at *path*.

    ``structure=False`` skips the checks that depend only on the archive's bytes
    (members, headers, sizes, scripts): for a wheel whose identical bytes (same
    sha256) already passed them. Names and metadata are always checked, because
    what they are compared with comes from this run.
    """

    def problems() -> list[str]:
        return _problems(
            path,
            expected_name,
            version=str(expected_version),
            index_metadata=metadata_text_from_index,
            max_ratio=max_ratio,
            max_total=max_total,
            structure=structure,
        )

    _raise_problems(f"{expected_name} {expected_version} ({path.name})", problems)


def check_unpacked(
    tree: Path,
    filename: str,
    dist_info: str,
    *,
    expected: tuple[str, Version],
    metadata_text_from_index: str | None = None,
) -> None:
    """:func:`check_wheel` with ``structure=False`` for a wheel already unpacked at *tree*.

    The store entry was made from bytes that passed every archive check, so what is
    left is this run's part: the file name and the metadata against the expected
    project, version and the index's metadata file.
    """

    expected_name, want = expected

    def problems() -> list[str]:
        found = _filename_problems(filename, expected_name, want)
        if found:
            return found

        def read(member: str) -> bytes:
            try:
                return (tree / member).read_bytes()
            except FileNotFoundError:
                raise KeyError(member) from None

        return _metadata_problems(read, dist_info, expected_name, want, metadata_text_from_index)

    _raise_problems(f"{expected_name} {want} ({filename})", problems)


def _raise_problems(label: str, find: Callable[[], list[str]]) -> None:
    try:
        problems = find()
    except UnsafeWheelError:
        raise
    except Exception as exc:  # a malformed archive can make any parser raise anything
        problems = [f"it is not a readable wheel ({type(exc).__name__}: {exc})"]
    if problems:
        shown = problems[:5]
        more = f"\n  ... and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise UnsafeWheelError(
            f"refusing to install {label}:\n  "
            + "\n  ".join(shown)
            + more
            + "\nNothing was installed. The wheel is broken or was tampered with: report it "
            "to the package's maintainers or the index's owner."
        )


def _filename_problems(filename: str, name: str, want: Version) -> list[str]:
    try:
        file_name, file_version, _build, _tags = parse_wheel_filename(filename)
    except Exception as exc:
        return [f"{filename} is not a valid wheel file name ({exc})"]
    if canonicalize_name(file_name) != canonicalize_name(name) or file_version != want:
        return [f"the file name says {file_name} {file_version}"]
    return []


def _problems(
    path: Path,
    name: str,
    *,
    version: str,
    index_metadata: str | None,
    max_ratio: float,
    max_total: int,
    structure: bool = True,
) -> list[str]:
    want = Version(version)
    try:
        parse_wheel_filename(path.name)
    except Exception as exc:
        return [f"{path.name} is not a valid wheel file name ({exc})"]
    problems = _filename_problems(path.name, name, want)
    with open(path, "rb") as handle, zipfile.ZipFile(handle) as archive:
        infos = archive.infolist()
        if structure:
            problems += _member_problems(infos, name, want)
            problems += _header_problems(handle, infos)
            problems += _size_problems(infos, max_ratio, max_total)
        if problems:
            return problems
        dist_info = _dist_info(infos)
        if dist_info is None:
            return ["it has no single top-level .dist-info directory"]
        problems += _metadata_problems(archive.read, dist_info, name, want, index_metadata)
        if structure:
            problems += _script_problems(archive, dist_info, infos, name, want)
    return problems


def _member_problems(infos: list[zipfile.ZipInfo], name: str, version: Version) -> list[str]:
    problems = []
    seen: set[str] = set()
    for info in infos:
        member = info.filename
        shown = repr(member)
        if _CONTROL.search(member):
            problems.append(f"member {shown} has control characters in its name")
            continue
        key = member.rstrip("/")
        if key in seen:
            problems.append(f"member {shown} appears more than once")
        seen.add(key)
        if member.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", member):
            problems.append(f"member {shown} is an absolute path")
            continue
        if "\\" in member:
            problems.append(f"member {shown} has a backslash in its name")
            continue
        parts = key.split("/")
        if ".." in parts:
            problems.append(f"member {shown} has a '..' component (it would escape the target)")
            continue
        if any(part in {"", "."} for part in parts):
            problems.append(f"member {shown} has an empty or '.' path component")
            continue
        top = parts[0]
        if top.endswith(".data") and len(parts) > 1 and _is_own(top, ".data", name, version):
            if parts[1] not in DATA_SCHEMES:
                problems.append(
                    f"member {shown} uses the unknown .data scheme {parts[1]!r} "
                    f"(known: {', '.join(sorted(DATA_SCHEMES))})"
                )
            elif len(parts) < 3 and not member.endswith("/"):
                problems.append(f"member {shown} names a .data scheme but no file in it")
            elif what := _replaces(parts[1], [part.lower() for part in parts[2:]]):
                problems.append(f"member {shown} would replace the environment's {what}")
    return problems


def _replaces(scheme: str, parts: list[str]) -> str | None:
    """What a ``.data/<scheme>/<parts>`` member would replace that every environment
    needs to start, in any scheme: the data root is the venv's (or prefix's) root, with
    the interpreters in ``bin/`` or ``Scripts/``; CPython reads pyvenv.cfg there or one
    folder up. (Scripts, which land beside the interpreter, are checked by name with
    the entry points.)"""
    if scheme != "data":
        return None
    if parts == ["pyvenv.cfg"] or (
        len(parts) == 2 and parts[0] in _BIN_DIRS and parts[1] == "pyvenv.cfg"
    ):
        return "configuration (pyvenv.cfg)"
    if len(parts) == 2 and parts[0] in _BIN_DIRS and INTERPRETER_NAME.fullmatch(parts[1]):
        return f"interpreter ({'/'.join(parts)})"
    return None


def _header_problems(handle: object, infos: list[zipfile.ZipInfo]) -> list[str]:
    """Compare every local file header with its central directory entry."""
    import io

    assert isinstance(handle, io.BufferedReader)
    size = handle.seek(0, io.SEEK_END)
    problems = []
    for info in infos:
        shown = repr(info.filename)
        handle.seek(info.header_offset)
        raw = handle.read(LOCAL_HEADER.size)
        if len(raw) < LOCAL_HEADER.size:
            problems.append(f"member {shown}: its local header is cut short")
            continue
        (sig, _ver, flags, method, _t, _d, crc, csize, usize, nlen, elen) = LOCAL_HEADER.unpack(
            raw
        )
        if sig != LOCAL_SIGNATURE:
            problems.append(f"member {shown}: no local header where the directory points")
            continue
        local_name = handle.read(nlen).decode("utf-8" if flags & UTF8_NAME else "cp437", "replace")
        if local_name != info.orig_filename:
            problems.append(
                f"member {shown} is called {local_name!r} in its local header "
                "(the zip's two directories disagree)"
            )
            continue
        if method != info.compress_type:
            problems.append(f"member {shown}: local header and directory disagree on compression")
        sizes_known = not flags & 0x08 and _ZIP64_SIZE not in (csize, usize)
        if sizes_known and (csize, usize, crc) != (info.compress_size, info.file_size, info.CRC):
            problems.append(
                f"member {shown}: local header says {usize} bytes ({csize} compressed), "
                f"the directory says {info.file_size} ({info.compress_size} compressed)"
            )
        end = info.header_offset + LOCAL_HEADER.size + nlen + elen + info.compress_size
        if end > size:
            problems.append(f"member {shown} runs past the end of the file")
    return problems


def _size_problems(infos: list[zipfile.ZipInfo], max_ratio: float, max_total: int) -> list[str]:
    problems = []
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_FLOOR and info.file_size > max_ratio * max(
            info.compress_size, 1
        ):
            problems.append(
                f"member {info.filename!r} expands {info.compress_size} bytes into "
                f"{info.file_size} (more than {max_ratio:g} times: a zip bomb?)"
            )
    if total > max_total:
        problems.append(f"it expands to {total} bytes, more than the limit of {max_total}")
    return problems


def _is_own(top: str, suffix: str, name: str, version: Version) -> bool:
    stem = top[: -len(suffix)]
    dist, _, ver = stem.rpartition("-")
    try:
        return canonicalize_name(dist) == canonicalize_name(name) and Version(ver) == version
    except InvalidVersion:
        return False


def _dist_info(infos: list[zipfile.ZipInfo]) -> str | None:
    tops = {i.filename.split("/", 1)[0] for i in infos if "/" in i.filename}
    found = [top for top in tops if top.endswith(".dist-info")]
    return found[0] if len(found) == 1 else None


def _metadata_problems(
    read: Callable[[str], bytes],
    dist_info: str,
    name: str,
    version: Version,
    index_metadata: str | None,
) -> list[str]:
    if not _is_own(dist_info, ".dist-info", name, version):
        return [f"its metadata directory {dist_info!r} is not {name} {version}'s"]
    try:
        text = read(f"{dist_info}/METADATA").decode("utf-8")
    except KeyError:
        return [f"{dist_info}/METADATA is missing"]
    ours = header_fields(text)
    problems = []
    meta_name = first_field(ours, "name")
    meta_version = first_field(ours, "version")
    try:
        version_ok = Version(meta_version) == version
    except InvalidVersion:
        version_ok = False
    if canonicalize_name(meta_name) != canonicalize_name(name) or not version_ok:
        problems.append(
            f"{dist_info}/METADATA says {meta_name} {meta_version}, not {name} {version}"
        )
    if index_metadata is not None:
        theirs = header_fields(index_metadata)
        for field in ("Name", "Version", "Requires-Python", "Requires-Dist", "Provides-Extra"):
            a = sorted(ours.get(field.lower(), []))
            b = sorted(theirs.get(field.lower(), []))
            if a != b:
                problems.append(
                    f"{dist_info}/METADATA disagrees with the index's metadata file on "
                    f"{field}: {a or 'nothing'} in the wheel, {b or 'nothing'} from the index"
                )
    return problems


def _script_problems(
    archive: zipfile.ZipFile,
    dist_info: str,
    infos: list[zipfile.ZipInfo],
    name: str,
    version: Version,
) -> list[str]:
    #: (script name, how to name it in a message)
    names: list[tuple[str, str]] = []
    try:
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode("utf-8")
    except KeyError:
        entry_points = ""
    if entry_points:
        parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read_string(entry_points)
        except configparser.Error as exc:
            return [f"{dist_info}/entry_points.txt cannot be read: {exc}"]
        for section in ("console_scripts", "gui_scripts"):
            if parser.has_section(section):
                names += [(n, f"{section} entry point {n!r}") for n in parser.options(section)]
    for info in infos:
        parts = info.filename.split("/")
        if (
            len(parts) == 3
            and parts[0].endswith(".data")
            and parts[1] == "scripts"
            and _is_own(parts[0], ".data", name, version)
        ):
            names.append((parts[2], f"script {parts[2]!r} (member {info.filename!r})"))
    problems = []
    for script, shown in names:
        if not script or "/" in script or "\\" in script or script in {".", ".."}:
            problems.append(f"{shown} would be written outside the scripts directory")
        elif _CONTROL.search(script):
            problems.append(f"{shown} has control characters in its name")
        elif INTERPRETER_NAME.fullmatch(script):
            problems.append(f"{shown} would shadow the environment's interpreter")
        elif script.lower() == "pyvenv.cfg":
            # CPython reads pyvenv.cfg beside the interpreter first.
            problems.append(f"{shown} would replace the environment's configuration")
    return problems
