"""Build real, spec-valid wheels from a small description, deterministically.

Every wheel holds ``{module}/__init__.py`` with ``__version__``, ``main()`` (prints
``"<name> <version>"``, so a console script's output can be checked) and ``gui()``,
and a ``.dist-info`` with METADATA, WHEEL, entry_points.txt (when there are scripts)
and a RECORD whose hashes and sizes are correct. Zip timestamps are fixed, so one
spec always gives the same bytes.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import itertools
import re
import struct
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

GENERATOR = "roost-tests 1.0"
DATA_SCHEMES = frozenset({"scripts", "data", "headers", "purelib", "platlib"})
# 1980-01-01 is the earliest time a zip file can hold.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass
class WheelSpec:
    """What a test wheel contains; see the module docstring for what is always there."""

    name: str
    version: str
    requires: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    requires_python: str | None = None
    console_scripts: dict[str, str] = field(default_factory=dict)
    gui_scripts: dict[str, str] = field(default_factory=dict)
    files: dict[str, str | bytes] = field(default_factory=dict)
    data: dict[str, str | bytes] = field(default_factory=dict)
    tag: str = "py3-none-any"
    root_is_purelib: bool = True
    module: str | None = None
    build: str | None = None

    @property
    def import_name(self) -> str:
        """The top-level package the wheel provides."""
        return self.module or canonicalize_name(self.name).replace("-", "_")

    @property
    def normalized_version(self) -> str:
        return str(Version(self.version))


def escape_name(name: str) -> str:
    """A project name as wheel filenames and ``.dist-info`` directories spell it."""
    return re.sub(r"[-_.]+", "_", name).lower()


def expand_tag(tag: str) -> list[str]:
    """Expand a compressed tag set (``py2.py3-none-any``) into single tags, in order."""
    interpreters, abis, platforms = tag.split("-")
    return [
        f"{i}-{a}-{p}"
        for i, a, p in itertools.product(
            interpreters.split("."), abis.split("."), platforms.split(".")
        )
    ]


def wheel_filename(spec: WheelSpec) -> str:
    """The file name the binary distribution format gives *spec*'s wheel."""
    parts = [escape_name(spec.name), spec.normalized_version]
    if spec.build:
        parts.append(spec.build)
    parts.append(spec.tag)
    return "-".join(parts) + ".whl"


def dist_info_dir(spec: WheelSpec) -> str:
    """``{name}-{version}.dist-info`` for *spec*."""
    return f"{escape_name(spec.name)}-{spec.normalized_version}.dist-info"


def data_dir(spec: WheelSpec) -> str:
    """``{name}-{version}.data`` for *spec*."""
    return f"{escape_name(spec.name)}-{spec.normalized_version}.data"


def metadata_bytes(spec: WheelSpec) -> bytes:
    """The METADATA file of *spec*'s wheel (also what an index serves for PEP 658)."""
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {spec.name}",
        f"Version: {spec.normalized_version}",
        f"Summary: Test distribution {spec.name}",
    ]
    if spec.requires_python is not None:
        lines.append(f"Requires-Python: {spec.requires_python}")
    lines += [f"Provides-Extra: {extra}" for extra in spec.extras]
    lines += [f"Requires-Dist: {req}" for req in spec.requires]
    return ("\n".join(lines) + "\n\n").encode()


def _wheel_file(spec: WheelSpec) -> bytes:
    lines = [
        "Wheel-Version: 1.0",
        f"Generator: {GENERATOR}",
        f"Root-Is-Purelib: {'true' if spec.root_is_purelib else 'false'}",
    ]
    lines += [f"Tag: {tag}" for tag in expand_tag(spec.tag)]
    if spec.build:
        lines.append(f"Build: {spec.build}")
    return ("\n".join(lines) + "\n").encode()


def _entry_points(spec: WheelSpec) -> bytes | None:
    sections = []
    for group, scripts in (
        ("console_scripts", spec.console_scripts),
        ("gui_scripts", spec.gui_scripts),
    ):
        if scripts:
            body = "".join(f"{name} = {target}\n" for name, target in sorted(scripts.items()))
            sections.append(f"[{group}]\n{body}")
    return "\n".join(sections).encode() if sections else None


def _init_module(spec: WheelSpec) -> bytes:
    line = f"{spec.name} {spec.normalized_version}"
    return (
        f'__version__ = "{spec.normalized_version}"\n\n\n'
        f"def main():\n    print({line!r})\n    return 0\n\n\n"
        f"def gui():\n    print({(line + ' gui')!r})\n    return 0\n"
    ).encode()


def record_hash(content: bytes) -> str:
    """``sha256=<urlsafe base64, no padding>`` as RECORD writes it."""
    digest = hashlib.sha256(content).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def wheel_contents(spec: WheelSpec) -> dict[str, bytes]:
    """Every archive member of *spec*'s wheel except RECORD, in archive order."""

    def as_bytes(value: str | bytes) -> bytes:
        return value.encode() if isinstance(value, str) else value

    root: dict[str, bytes] = {f"{spec.import_name}/__init__.py": _init_module(spec)}
    root.update({path: as_bytes(content) for path, content in spec.files.items()})
    members = dict(sorted(root.items()))
    for key, content in sorted(spec.data.items()):
        scheme = key.split("/", 1)[0]
        if scheme not in DATA_SCHEMES or "/" not in key:
            raise ValueError(
                f"data key {key!r} must be '<scheme>/<path>', scheme in {DATA_SCHEMES}"
            )
        members[f"{data_dir(spec)}/{key}"] = as_bytes(content)
    info = dist_info_dir(spec)
    members[f"{info}/METADATA"] = metadata_bytes(spec)
    members[f"{info}/WHEEL"] = _wheel_file(spec)
    entry_points = _entry_points(spec)
    if entry_points is not None:
        members[f"{info}/entry_points.txt"] = entry_points
    return members


def build_wheel(spec: WheelSpec, dest: Path) -> Path:
    """Write *spec*'s wheel into the folder *dest* (created if missing); return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    members = wheel_contents(spec)
    record_path = f"{dist_info_dir(spec)}/RECORD"
    record = "".join(
        f"{path},{record_hash(content)},{len(content)}\n" for path, content in members.items()
    )
    members[record_path] = (record + f"{record_path},,\n").encode()
    target = dest / wheel_filename(spec)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, content in members.items():
            info = zipfile.ZipInfo(path, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            executable = path.startswith(f"{data_dir(spec)}/scripts/")
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            archive.writestr(info, content)
    return target


def build_sdist(name: str, version: str, dest: Path) -> Path:
    """Write a minimal, deterministic ``{name}-{version}.tar.gz`` with a PKG-INFO."""
    dest.mkdir(parents=True, exist_ok=True)
    spec = WheelSpec(name, version)
    stem = f"{escape_name(name)}-{spec.normalized_version}"
    members = {
        f"{stem}/PKG-INFO": metadata_bytes(spec),
        f"{stem}/pyproject.toml": (
            f'[project]\nname = "{name}"\nversion = "{spec.normalized_version}"\n'
        ).encode(),
        f"{stem}/{spec.import_name}/__init__.py": _init_module(spec),
    }
    target = dest / f"{stem}.tar.gz"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, content in members.items():
            info = tarfile.TarInfo(path)
            info.size = len(content)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(content))
    # mtime 0 so the same call always gives the same bytes.
    target.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    return target


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
