"""Reading a ``pylock.toml`` and choosing, by the spec's installation rules, the one
file (or source) of each package that a target installs.

:mod:`packaging.pylock` validates the file and selects (``Pylock.select``: lock
version, ``requires-python``, ``environments``, markers, extras, dependency groups,
the wheel that fits the target's tags, else the sdist). This module turns what it
says into roost's words: errors that name the lock file and what does not fit, and
:class:`LockedFile` records with absolute URLs (paths in a lock are relative to the
lock's folder) that the install flow makes into candidates. Nothing here resolves
or fetches: a lock names exactly the files to install.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from roost.errors import NoMatchingDistribution, RequirementError
from roost.types import NormalizedName, Target, redact_url

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

if TYPE_CHECKING:
    from packaging.pylock import Package, Pylock

#: A lock larger than this is refused unread: real locks are kilobytes to a few MiB.
MAX_LOCK_BYTES = 32 * 1024 * 1024
#: The lock-version roost was written for; a newer minor version is read with a warning.
KNOWN_LOCK_VERSION = Version("1.0")
#: Hash algorithms roost verifies files with; a file needs one of them.
CHECKED_HASHES = ("sha256", "sha384", "sha512")
_EXTRAS = re.compile(r"^(?P<path>.+?)\[(?P<extras>[^\]]*)\]$")


@dataclass(frozen=True)
class LockRequest:
    """One ``-r pylock.toml[extras]`` (or ``roost sync`` argument) and its groups."""

    path: Path
    extras: tuple[str, ...] = ()
    #: None: the lock's ``default-groups``.
    groups: tuple[str, ...] | None = None


@dataclass(frozen=True)
class LockedFile:
    """What one selected package installs: a file (wheel, sdist, archive) or a source
    (a VCS commit, a directory)."""

    name: NormalizedName
    #: None for a VCS, directory or archive entry that does not say (the build tells).
    version: Version | None
    #: ``"wheel"``, ``"sdist"``, ``"archive"``, ``"vcs"`` or ``"directory"``.
    kind: str
    #: Absolute: an http(s) URL, or a ``file://`` URL for a path in the lock.
    url: str
    filename: str = ""
    hashes: Mapping[str, str] = field(default_factory=dict)
    size: int | None = None
    #: The ``index`` the package came from (a simple API URL), when the lock says.
    index: str | None = None
    upload_time: str | None = None
    requires_python: str | None = None
    editable: bool = False
    subdirectory: str | None = None
    vcs_type: str | None = None
    commit_id: str | None = None

    @property
    def direct(self) -> bool:
        """A direct reference: installed with ``direct_url.json``, as pip records one."""
        return self.kind in ("vcs", "directory", "archive")

    def requirement_url(self) -> str:
        """The URL a requirement line would name for a direct entry (what building
        takes): ``git+URL@COMMIT#subdirectory=...``, a directory's or archive's URL."""
        url = f"{self.vcs_type}+{self.url}@{self.commit_id}" if self.kind == "vcs" else self.url
        if self.subdirectory and self.kind != "directory":
            url += f"#subdirectory={self.subdirectory}"
        return url


def is_lock_path(text: str) -> bool:
    """Whether the ``-r`` value *text* (extras allowed) names a ``pylock.toml``."""
    from packaging.pylock import is_valid_pylock_path

    match = _EXTRAS.match(text)
    path = match.group("path") if match else text
    return is_valid_pylock_path(Path(path))


def lock_request(text: str, groups: Sequence[str] | None = None) -> LockRequest:
    """``pylock.toml`` or ``pylock.toml[a,b]`` (with ``--group`` values) as a request."""
    match = _EXTRAS.match(text)
    if match is None:
        return LockRequest(Path(text), (), None if groups is None else tuple(groups))
    extras = tuple(e.strip() for e in match.group("extras").split(",") if e.strip())
    return LockRequest(
        Path(match.group("path")), extras, None if groups is None else tuple(groups)
    )


def read_lock(path: Path) -> tuple[Pylock, list[str]]:
    """The validated lock at *path*, and warnings (a newer minor lock-version).

    :raises RequirementError: unreadable, not TOML, not a valid lock, or a
        lock-version whose major version roost does not know.
    """
    from packaging.pylock import Pylock, PylockValidationError

    shown = str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_LOCK_BYTES + 1)
    except OSError as exc:
        raise RequirementError(
            f"cannot read the lock file {shown}: {exc.strerror or exc}"
        ) from None
    if len(data) > MAX_LOCK_BYTES:
        raise RequirementError(
            f"the lock file {shown} is larger than {MAX_LOCK_BYTES // (1024 * 1024)} MiB; "
            "roost refuses to read it"
        )
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RequirementError(f"{shown} is not a valid TOML file: {exc}") from None
    warnings = _version_warnings(document, shown)
    try:
        with _quiet_packaging():
            lock = Pylock.from_dict(document)
    except PylockValidationError as exc:
        raise RequirementError(f"{shown} is not a valid pylock.toml (PEP 751): {exc}") from None
    except (TypeError, ValueError) as exc:
        # A value packaging's own parsers refuse (a bad version or marker string).
        raise RequirementError(f"{shown} is not a valid pylock.toml (PEP 751): {exc}") from None
    return lock, warnings


def _version_warnings(document: Mapping[str, Any], shown: str) -> list[str]:
    """The spec's rule for ``lock-version``: refuse an unknown major version, warn on a
    newer minor one."""
    text = document.get("lock-version")
    if not isinstance(text, str):
        raise RequirementError(f"{shown} is not a valid pylock.toml: it has no lock-version")
    try:
        version = Version(text)
    except InvalidVersion:
        raise RequirementError(f"{shown}: lock-version {text!r} is not a version") from None
    if version.major != KNOWN_LOCK_VERSION.major or version.is_prerelease:
        raise RequirementError(
            f"{shown} has lock-version {text}; roost reads lock-version "
            f"{KNOWN_LOCK_VERSION.major}.x only. Use a roost that knows this lock format."
        )
    if version > KNOWN_LOCK_VERSION:
        return [
            f"{shown} has lock-version {text}, newer than the {KNOWN_LOCK_VERSION} roost "
            "knows; installing what this version of the format says (newer fields are "
            "ignored)"
        ]
    return []


@contextmanager
def _quiet_packaging() -> Iterator[None]:
    """packaging logs its own minor-version warning; roost says it in its own words."""
    logger = logging.getLogger("packaging.pylock")
    previous = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = previous


def select_files(lock: Pylock, request: LockRequest, target: Target) -> list[LockedFile]:
    """What *target* installs from *lock*, by the spec's rules, in lock order.

    :raises NoMatchingDistribution: the lock does not fit the target (its
        ``requires-python``, ``environments``, a package's ``requires-python``, or a
        package with no wheel for the target's tags and no sdist), saying which and why.
    :raises RequirementError: an extra or group the lock does not declare, or a file
        with no hash roost can check.
    """
    from packaging.pylock import PylockSelectError
    from packaging.tags import Tag

    shown = str(request.path)
    _check_declared(lock, request, shown)
    tags = [Tag(*tag.split("-", 2)) for tag in target.tags]
    where = f"{target.executable} (Python {target.full_version})"
    chosen: list[LockedFile] = []
    try:
        for package, entry in lock.select(
            environment=dict(target.markers),  # type: ignore[arg-type]
            tags=tags,
            extras=request.extras,
            dependency_groups=request.groups,
        ):
            chosen.append(_locked(package, entry, request.path.parent, shown))
    except PylockSelectError as exc:
        detail = _why_not(lock, str(exc), target)
        raise NoMatchingDistribution(
            f"{shown} does not fit {where}: {exc}{detail}. Nothing was changed."
        ) from None
    return chosen


def _check_declared(lock: Pylock, request: LockRequest, shown: str) -> None:
    """Extras and groups must be ones the lock declares (packaging 26.1 does not check)."""
    declared = {canonicalize_name(e) for e in lock.extras or ()}
    unknown = sorted({canonicalize_name(e) for e in request.extras} - declared)
    if unknown:
        offered = ", ".join(sorted(declared)) or "none"
        raise RequirementError(
            f"{shown} declares no extra {', '.join(unknown)} (its extras: {offered})"
        )
    groups = {
        canonicalize_name(g)
        for g in (*(lock.dependency_groups or ()), *(lock.default_groups or ()))
    }
    missing = sorted({canonicalize_name(g) for g in request.groups or ()} - groups)
    if missing:
        offered = ", ".join(sorted(groups)) or "none"
        raise RequirementError(
            f"{shown} declares no dependency group {', '.join(missing)} (its groups: {offered})"
        )


def _why_not(lock: Pylock, message: str, target: Target) -> str:
    """More than packaging says: the lock's environments, or a package's wheel tags."""
    if "environments" in message and lock.environments:
        listed = "; ".join(str(m) for m in lock.environments)
        return f" (the lock's environments: {listed})"
    match = re.search(r"package '([^']+)'", message)
    if match is None or "No wheel" not in message:
        return ""
    for package in lock.packages:
        if package.name == match.group(1) and package.wheels:
            tags = sorted({_tag_text(w.filename) for w in package.wheels})
            best = target.tags[0] if target.tags else "none"
            return f" (its wheels are tagged {', '.join(tags)}; the target's best tag is {best})"
    return ""


def _tag_text(filename: str) -> str:
    return "-".join(filename[: -len(".whl")].split("-")[-3:])


def _locked(package: Package, entry: object, folder: Path, shown: str) -> LockedFile:
    """One selected entry as a :class:`LockedFile` with an absolute URL."""
    from packaging.pylock import (
        PackageArchive,
        PackageDirectory,
        PackageSdist,
        PackageVcs,
        PackageWheel,
    )

    name = NormalizedName(canonicalize_name(package.name))
    common: dict[str, Any] = {
        "name": name,
        "version": package.version,
        "index": package.index,
        "requires_python": None
        if package.requires_python is None
        else str(package.requires_python),
    }
    where = f"{shown}: package {name}"
    if isinstance(entry, (PackageWheel, PackageSdist)):
        kind = "wheel" if isinstance(entry, PackageWheel) else "sdist"
        filename = entry.filename
        if common["version"] is None:
            common["version"] = (
                parse_wheel_filename(filename)[1]
                if kind == "wheel"
                else parse_sdist_filename(filename)[1]
            )
        return LockedFile(
            kind=kind,
            url=_file_url(entry.url, entry.path, folder, where),
            filename=filename,
            hashes=_checked_hashes(entry.hashes, f"{where} ({filename})"),
            size=entry.size,
            upload_time=None if entry.upload_time is None else entry.upload_time.isoformat(),
            **common,
        )
    if isinstance(entry, PackageArchive):
        url = _file_url(entry.url, entry.path, folder, where)
        return LockedFile(
            kind="archive",
            url=url,
            filename=url.rstrip("/").rsplit("/", 1)[-1],
            hashes=_checked_hashes(entry.hashes, f"{where} (archive)"),
            size=entry.size,
            subdirectory=entry.subdirectory,
            **common,
        )
    if isinstance(entry, PackageVcs):
        if entry.type not in ("git", "hg", "svn", "bzr"):
            raise RequirementError(f"{where}: version control system {entry.type!r} is unknown")
        return LockedFile(
            kind="vcs",
            url=_file_url(
                entry.url, entry.path, folder, where, ("http", "https", "file", "ssh", "git")
            ),
            subdirectory=entry.subdirectory,
            vcs_type=entry.type,
            commit_id=entry.commit_id,
            **common,
        )
    if isinstance(entry, PackageDirectory):
        path = folder / entry.path
        if entry.subdirectory:
            path = path / entry.subdirectory
        return LockedFile(
            kind="directory",
            url=Path(os.path.abspath(path)).as_uri(),
            editable=bool(entry.editable),
            **common,
        )
    raise RequirementError(f"{where}: an entry roost does not know ({type(entry).__name__})")


def _file_url(
    url: str | None,
    path: str | None,
    folder: Path,
    where: str,
    schemes: tuple[str, ...] = ("http", "https", "file"),
) -> str:
    """The lock's ``url``, else its ``path`` (relative to the lock's folder) as a URL."""
    if url:
        scheme = url.partition(":")[0].lower()
        if scheme not in schemes:
            raise RequirementError(
                f"{where}: {redact_url(url)} uses a URL scheme roost does not take here"
            )
        return url
    if path:
        return Path(os.path.abspath(folder / path)).as_uri()
    raise RequirementError(f"{where}: the entry has neither url nor path")


def _checked_hashes(hashes: Mapping[str, str], where: str) -> dict[str, str]:
    """The hashes roost verifies; a file with none of them is refused."""
    usable = {k.lower(): str(v).lower() for k, v in hashes.items() if k.lower() in CHECKED_HASHES}
    if not usable:
        given = ", ".join(sorted(hashes)) or "none"
        raise RequirementError(
            f"{where}: the lock gives no {', '.join(CHECKED_HASHES)} hash (it gives: "
            f"{given}); roost installs only files it can verify"
        )
    return usable
