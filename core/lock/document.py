"""A lock as roost writes it: small dataclasses, turned into PEP 751 TOML and back.

Pure: nothing here reads the network or runs a resolver. The flow
(:mod:`roost.flows.lock`) fills a :class:`Lock`; :func:`dumps` writes it with its
tables in the spec's order and its arrays sorted, so the same lock always gives the
same bytes; :func:`read_lock` reads an existing file (bounded), validated by
:mod:`packaging.pylock`.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from roost.errors import ConfigError

#: The one ``lock-version`` this writer writes (and the reader accepts up to 1.x).
LOCK_VERSION = "1.0"
CREATED_BY = "roost"
#: A lock read back larger than this is refused: lock files are text, and this is
#: thousands of packages with every wheel listed.
MAX_LOCK_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class LockedFile:
    """A wheel, an sdist or an archive: where it is, its size and hashes."""

    size: int
    hashes: Mapping[str, str]
    url: str | None = None
    #: Relative to the lock file's folder (or absolute when on another drive).
    path: str | None = None
    #: The file name, written for wheels and sdists (the spec's ``name``).
    name: str | None = None
    upload_time: datetime.datetime | None = None


@dataclass(frozen=True)
class LockedVcs:
    type: str
    commit_id: str
    url: str | None = None
    path: str | None = None
    requested_revision: str | None = None
    subdirectory: str | None = None


@dataclass(frozen=True)
class LockedDirectory:
    path: str
    editable: bool = False
    subdirectory: str | None = None


@dataclass(frozen=True)
class LockedPackage:
    """One ``[[packages]]`` entry: a project at one version, from one kind of source."""

    name: str
    #: None for a source tree, whose version can change under the lock (PEP 751).
    version: str | None
    marker: str | None = None
    requires_python: str | None = None
    #: The simple index URL it came from (index packages only).
    index: str | None = None
    wheels: tuple[LockedFile, ...] = ()
    sdist: LockedFile | None = None
    vcs: LockedVcs | None = None
    directory: LockedDirectory | None = None
    archive: LockedFile | None = None
    #: An archive's ``subdirectory`` (where in it the project is).
    archive_subdirectory: str | None = None
    #: Where it is needed, environments only (no groups): not written to the lock, but
    #: the ``; marker`` of the requirements-file format, which knows no groups.
    environment_marker: str | None = field(default=None, compare=False)

    def sort_key(self) -> tuple[str, int, Version | str, str]:
        try:
            return (self.name, 0, Version(self.version or ""), self.marker or "")
        except InvalidVersion:
            return (self.name, 1, self.version or "", self.marker or "")


@dataclass(frozen=True)
class Lock:
    environments: tuple[str, ...]
    requires_python: str | None
    packages: tuple[LockedPackage, ...]
    #: Dependency groups locked; all of them are the default ones.
    groups: tuple[str, ...] = ()
    created_by: str = CREATED_BY
    extras: tuple[str, ...] = field(default=())


def _file_table(file: LockedFile, *, named: bool) -> dict[str, Any]:
    table: dict[str, Any] = {}
    if named and file.name is not None:
        table["name"] = file.name
    if file.upload_time is not None:
        table["upload-time"] = file.upload_time
    if file.url is not None:
        table["url"] = file.url
    if file.path is not None:
        table["path"] = file.path
    table["size"] = file.size
    table["hashes"] = dict(sorted(file.hashes.items()))
    return table


def package_table(package: LockedPackage) -> dict[str, Any]:
    """*package* as its ``[[packages]]`` table, keys in the spec's order."""
    table: dict[str, Any] = {"name": package.name}
    if package.version is not None:
        table["version"] = package.version
    if package.marker is not None:
        table["marker"] = package.marker
    if package.requires_python is not None:
        table["requires-python"] = package.requires_python
    if package.vcs is not None:
        vcs = package.vcs
        table["vcs"] = _drop_none(
            {
                "type": vcs.type,
                "url": vcs.url,
                "path": vcs.path,
                "requested-revision": vcs.requested_revision,
                "commit-id": vcs.commit_id,
                "subdirectory": vcs.subdirectory,
            }
        )
    if package.directory is not None:
        directory = package.directory
        table["directory"] = _drop_none(
            {
                "path": directory.path,
                "editable": directory.editable,
                "subdirectory": directory.subdirectory,
            }
        )
    if package.archive is not None:
        archive = _file_table(package.archive, named=False)
        if package.archive_subdirectory is not None:
            archive["subdirectory"] = package.archive_subdirectory
        table["archive"] = archive
    if package.index is not None:
        table["index"] = package.index
    if package.sdist is not None:
        table["sdist"] = _file_table(package.sdist, named=True)
    if package.wheels:
        wheels = sorted(package.wheels, key=lambda w: (w.name or "", w.url or w.path or ""))
        table["wheels"] = [_file_table(w, named=True) for w in wheels]
    return table


def _drop_none(table: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in table.items() if value is not None}


def lock_table(lock: Lock) -> dict[str, Any]:
    """*lock* as the TOML document's table (what :mod:`packaging.pylock` reads)."""
    table: dict[str, Any] = {"lock-version": LOCK_VERSION}
    table["environments"] = list(lock.environments)
    if lock.requires_python is not None:
        table["requires-python"] = lock.requires_python
    table["extras"] = sorted(lock.extras)
    table["dependency-groups"] = sorted(lock.groups)
    table["default-groups"] = sorted(lock.groups)
    table["created-by"] = lock.created_by
    packages = sorted(lock.packages, key=LockedPackage.sort_key)
    table["packages"] = [package_table(p) for p in packages]
    return table


def dumps(lock: Lock) -> str:
    """The text of *lock*: the same lock gives the same bytes."""
    import tomli_w

    return tomli_w.dumps(lock_table(lock))


def read_lock(path: Path, *, limit: int = MAX_LOCK_BYTES) -> dict[str, Any]:
    """The TOML table of the lock at *path*, checked by :mod:`packaging.pylock`.

    :raises ConfigError: too large, not TOML, or not a valid PEP 751 lock.
    """
    from packaging.pylock import Pylock, PylockValidationError

    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read the lock file {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ConfigError(
            f"{path} is larger than {limit // (1024 * 1024)} MiB; a lock file that large is "
            "refused (is it a lock file?)"
        )
    table = parse_toml(data, str(path))
    try:
        Pylock.from_dict(table)
    except PylockValidationError as exc:
        raise ConfigError(f"{path} is not a valid PEP 751 lock file: {exc}") from None
    return table


def parse_toml(data: bytes, where: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    try:
        table: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
        return table
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}") from None


def pinned_versions(table: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """The versions an existing lock names, per package name (a name may have several:
    one per set of environments)."""
    found: dict[str, set[str]] = {}
    for package in table.get("packages", ()):
        if not isinstance(package, Mapping):
            continue
        name, version = package.get("name"), package.get("version")
        if isinstance(name, str) and isinstance(version, str):
            found.setdefault(name, set()).add(version)
    return {name: frozenset(versions) for name, versions in found.items()}


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What differs between two lock tables, one line each; empty when they are the
    same (``created-by`` aside)."""
    lines = []
    for key in sorted(set(old) | set(new)):
        if key in {"packages", "created-by"}:
            continue
        if old.get(key) != new.get(key):
            lines.append(f"{key}: {old.get(key)!r} -> {new.get(key)!r}")
    old_packages = _by_identity(old.get("packages", ()))
    new_packages = _by_identity(new.get("packages", ()))
    for ident in sorted(set(old_packages) | set(new_packages)):
        before, after = old_packages.get(ident), new_packages.get(ident)
        name, version, marker = ident
        shown = f"{name} {version or '(source tree)'}" + (f" ; {marker}" if marker else "")
        if before is None:
            lines.append(f"{shown}: would be added")
        elif after is None:
            lines.append(f"{shown}: would be removed")
        elif before != after:
            lines.append(f"{shown}: its files or sources differ")
    return lines


def _by_identity(packages: Sequence[Any]) -> dict[tuple[str, str, str], Any]:
    found: dict[tuple[str, str, str], Any] = {}
    for package in packages:
        if isinstance(package, Mapping):
            ident = (
                str(package.get("name", "")),
                str(package.get("version", "")),
                str(package.get("marker", "")),
            )
            found[ident] = package
    return found
