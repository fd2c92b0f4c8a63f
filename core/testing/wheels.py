"""Real, spec-valid wheels and sdists built from a small description, deterministically.

Every wheel holds ``{module}/__init__.py`` with ``__version__``, ``main()`` (prints
``"<name> <version>"``, so a console script's output can be checked) and ``gui()``,
and a ``.dist-info`` with METADATA, WHEEL, entry_points.txt (when there are entry
points) and a RECORD whose hashes and sizes are correct. Zip timestamps are fixed, so
one spec always gives the same bytes. :class:`WheelMaker` is the ``make_wheel`` fixture.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import itertools
import re
import tarfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

GENERATOR = "roost.testing 1.0"
DATA_SCHEMES = frozenset({"scripts", "data", "headers", "purelib", "platlib"})
# 1980-01-01 is the earliest time a zip file can hold.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# PEP 508's rule for a project name.
_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
# Fields the builder writes itself: each has a WheelSpec field (or is fixed).
_OWN_FIELDS = frozenset(
    {"metadata-version", "name", "version", "requires-dist", "requires-python", "provides-extra"}
)


@dataclass
class WheelSpec:
    """What a wheel contains; see the module docstring for what is always there.

    ``files`` are extra archive members by path (``pkg/data.json``); ``data`` are
    ``.data`` members keyed ``<scheme>/<path>``; ``entry_points`` maps a group
    (``roost``, ``pytest11``, ...) to ``{name: "module:attr"}``; ``fields`` are more
    METADATA fields (``{"Summary": "..."}``, a list repeats the field).
    """

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
    entry_points: dict[str, dict[str, str]] = field(default_factory=dict)
    fields: dict[str, str | list[str]] = field(default_factory=dict)

    @property
    def import_name(self) -> str:
        """The top-level package the wheel provides."""
        return self.module or canonicalize_name(self.name).replace("-", "_")

    @property
    def normalized_version(self) -> str:
        """The version as PEP 440 normalizes it (``01.0`` -> ``1.0``)."""
        return str(Version(self.version))


def escape_name(name: str) -> str:
    """A project name as wheel filenames and ``.dist-info`` directories spell it."""
    return re.sub(r"[-_.]+", "_", name).lower()


def expand_tag(tag: str) -> list[str]:
    """Expand a compressed tag set (``py2.py3-none-any``) into single tags, in order."""
    parts = tag.split("-")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"wheel tag {tag!r} is not INTERPRETER-ABI-PLATFORM")
    interpreters, abis, platforms = parts
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
    extra = {key.lower(): (key, value) for key, value in spec.fields.items()}
    clash = sorted(set(extra) & _OWN_FIELDS)
    if clash:
        raise ValueError(f"METADATA fields {clash} come from the spec's own attributes")
    _, summary = extra.pop("summary", ("Summary", f"Test distribution {spec.name}"))
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {spec.name}",
        f"Version: {spec.normalized_version}",
        f"Summary: {summary}",
    ]
    if spec.requires_python is not None:
        lines.append(f"Requires-Python: {spec.requires_python}")
    for key, value in extra.values():
        lines += [f"{key}: {item}" for item in ([value] if isinstance(value, str) else value)]
    lines += [f"Provides-Extra: {extra_name}" for extra_name in spec.extras]
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
    groups: dict[str, dict[str, str]] = {}
    for group, entries in (
        ("console_scripts", spec.console_scripts),
        ("gui_scripts", spec.gui_scripts),
        *sorted(spec.entry_points.items()),
    ):
        if entries:
            groups.setdefault(group, {}).update(entries)
    sections = [
        f"[{group}]\n"
        + "".join(f"{name} = {target}\n" for name, target in sorted(entries.items()))
        for group, entries in groups.items()
    ]
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
                f"data key {key!r} must be '<scheme>/<path>', scheme in {sorted(DATA_SCHEMES)}"
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
    members = wheel_contents(spec)
    dest.mkdir(parents=True, exist_ok=True)
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


def _field_name(keyword: str) -> str:
    """``home_page`` -> ``Home-Page`` (METADATA field names are case-insensitive)."""
    return "-".join(part.capitalize() for part in keyword.split("_"))


class WheelMaker:
    """The ``make_wheel`` fixture: ``make_wheel(name, version, ...)`` writes a wheel into
    :attr:`folder` (a ``roost-wheels`` folder in the test's ``tmp_path``) and returns its
    path."""

    def __init__(self, folder: Path) -> None:
        #: Where wheels go unless a call names another ``folder``.
        self.folder = folder

    def __call__(
        self,
        name: str,
        version: str,
        *,
        requires: Iterable[str] = (),
        tag: str = "py3-none-any",
        files: Mapping[str, str | bytes] | None = None,
        entry_points: Mapping[str, Mapping[str, str]] | None = None,
        requires_python: str | None = None,
        extras: Iterable[str] = (),
        data: Mapping[str, str | bytes] | None = None,
        module: str | None = None,
        folder: Path | None = None,
        **metadata: str | Sequence[str],
    ) -> Path:
        """Build the wheel of *name* *version* and return its path.

        ``requires``: Requires-Dist lines (PEP 508). ``tag``: the wheel's tag set.
        ``files``: more members by archive path. ``entry_points``: ``{group: {name:
        "module:attr"}}``, for instance ``{"roost": {"demo": "roost_demo_plugin"}}``.
        ``data``: ``.data`` members keyed ``<scheme>/<path>``. ``module``: the import
        name when it is not the project name's. Any other keyword is one more METADATA
        field, its ``_`` read as ``-`` (``summary="..."``, ``classifier=[...]``; a list
        repeats the field).
        """
        if not _NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid project name (PEP 508)")
        spec = WheelSpec(
            name,
            version,
            requires=list(requires),
            extras=list(extras),
            requires_python=requires_python,
            files=dict(files or {}),
            data=dict(data or {}),
            tag=tag,
            module=module,
            entry_points={group: dict(entries) for group, entries in (entry_points or {}).items()},
            fields={
                _field_name(key): value if isinstance(value, str) else list(value)
                for key, value in metadata.items()
            },
        )
        return build_wheel(spec, self.folder if folder is None else folder)
