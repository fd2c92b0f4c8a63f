"""Execute an install plan: validate every wheel, then one transaction under a lock.

Files of a version being replaced, and any file a new wheel overwrites, are moved
aside rather than deleted, so a failure part-way puts the environment back exactly
as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from roost.errors import InstallError
from roost.installed import InstalledDist
from roost.types import InstalledDistribution, InstallEvent, Scheme, Target


@dataclass(frozen=True)
class PlanItem:
    """One wheel to install."""

    name: str
    version: Version
    wheel: Path
    #: The installed distribution this replaces (removed by its RECORD), if any.
    replaces: InstalledDist | None = None
    requested: bool = False
    #: PEP 610 ``direct_url.json`` content for wheels named by path or URL.
    direct_url: dict[str, object] | None = None


class Transaction:
    """Undo log for one install: what was created, what was moved aside."""

    def __init__(self, anchor: Path) -> None:
        anchor.mkdir(parents=True, exist_ok=True)
        # Same filesystem as the environment, so moving aside is a rename.
        self.backup = Path(tempfile.mkdtemp(prefix=".roost-tx-", dir=anchor))
        self.created: list[Path] = []
        self.created_dirs: list[Path] = []
        self.moved: list[tuple[Path, Path]] = []

    def make_parents(self, path: Path) -> None:
        missing = []
        parent = path.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for directory in reversed(missing):
            directory.mkdir()
            self.created_dirs.append(directory)

    def move_aside(self, path: Path) -> None:
        if not os.path.lexists(path):
            return
        slot = self.backup / str(len(self.moved))
        os.replace(path, slot)
        self.moved.append((path, slot))

    def rollback(self) -> None:
        for path in reversed(self.created):
            if os.path.lexists(path) and not path.is_dir():
                path.unlink()
        for directory in reversed(self.created_dirs):
            shutil.rmtree(directory, ignore_errors=True)
        for original, slot in reversed(self.moved):
            self.make_parents_quiet(original)
            os.replace(slot, original)
        shutil.rmtree(self.backup, ignore_errors=True)

    @staticmethod
    def make_parents_quiet(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)

    def commit(self) -> None:
        shutil.rmtree(self.backup, ignore_errors=True)


def scheme_roots(scheme: Scheme) -> list[Path]:
    return [Path(p) for p in dict.fromkeys(scheme.as_dict().values())]


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def remove_distribution(dist: InstalledDist, scheme: Scheme, tx: Transaction) -> list[Path]:
    """Move every file of *dist* aside (RECORD entries outside the scheme are left alone).

    Returns the paths it refused to touch, for a warning.
    """
    roots = [*scheme_roots(scheme), dist.location]
    refused: list[Path] = []
    for path in dist.record_paths():
        if not _inside(path, roots):
            refused.append(path)
            continue
        if path.suffix == ".py":
            cache = path.parent / "__pycache__"
            if cache.is_dir():
                for compiled in cache.glob(f"{path.stem}.*.pyc"):
                    tx.move_aside(compiled)
        if os.path.lexists(path):
            tx.move_aside(path)
    if dist.dist_info.exists():
        tx.move_aside(dist.dist_info)
    return refused


def prune_empty_dirs(paths: Sequence[Path], stop: Sequence[Path]) -> None:
    """Remove directories left empty by an uninstall, up to (not including) *stop*."""
    for path in sorted({p.parent for p in paths}, key=lambda p: len(p.parts), reverse=True):
        current = path
        while current not in stop and _inside(current, stop):
            pycache = current / "__pycache__"
            if pycache.is_dir() and not any(pycache.iterdir()):
                pycache.rmdir()
            try:
                current.rmdir()
            except OSError:
                break
            current = current.parent


def validate_wheel(item: PlanItem) -> None:
    """Refuse a wheel whose RECORD or metadata does not match it, before writing anything."""
    from installer.sources import WheelFile

    try:
        name, version, _build, _tags = parse_wheel_filename(item.wheel.name)
    except Exception as exc:
        raise InstallError(f"{item.wheel.name}: not a valid wheel filename ({exc})") from None
    try:
        with WheelFile.open(item.wheel) as source:
            source.validate_record()
    except Exception as exc:
        raise InstallError(f"{item.wheel.name} is not a valid wheel: {exc}") from None
    if canonicalize_name(name) != canonicalize_name(item.name) or version != item.version:
        raise InstallError(
            f"{item.wheel.name} does not contain {item.name} {item.version} as expected"
        )


def install_plan(
    plan: Sequence[PlanItem],
    target: Target,
    scheme: Scheme,
    *,
    log: Callable[[str], None] = lambda _: None,
    event: Callable[[InstallEvent], None] = lambda _: None,
) -> list[InstalledDistribution]:
    """Install every item or none. The caller holds the environment's lock."""
    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.records import RecordEntry
    from installer.sources import WheelFile
    from installer.utils import Scheme as FileScheme

    for item in plan:
        validate_wheel(item)
    tx = Transaction(Path(scheme.purelib))

    class Destination(SchemeDictionaryDestination):
        """installer's destination that tells the transaction about every write."""

        def write_to_fs(
            self, scheme: FileScheme, path: str, stream: BinaryIO, is_executable: bool
        ) -> RecordEntry:
            target_path = Path(self.scheme_dict[scheme]) / path
            tx.make_parents(target_path)
            tx.move_aside(target_path)
            tx.created.append(target_path)
            written.append(target_path)
            return super().write_to_fs(scheme, path, stream, is_executable)

    done: list[InstalledDistribution] = []
    try:
        total = len(plan)
        for number, item in enumerate(plan, 1):
            refused: list[Path] = []
            if item.replaces is not None:
                log(f"  Removing {item.replaces.name} {item.replaces.version}")
                event(
                    InstallEvent(
                        "remove", item.replaces.name, item.replaces.version, number, total
                    )
                )
                refused = remove_distribution(item.replaces, scheme, tx)
            written: list[Path] = []
            paths = scheme.as_dict()
            paths["headers"] = os.path.join(scheme.headers, item.name)
            destination = Destination(
                scheme_dict=paths,
                interpreter=target.executable,
                script_kind="posix",
                bytecode_optimization_levels=(),
                overwrite_existing=True,
            )
            metadata = {"INSTALLER": b"roost\n"}
            if item.requested:
                metadata["REQUESTED"] = b""
            if item.direct_url is not None:
                metadata["direct_url.json"] = json.dumps(item.direct_url).encode()
            event(InstallEvent("install", item.name, str(item.version), number, total))
            with WheelFile.open(item.wheel) as source:
                install(source, destination, metadata)
            event(InstallEvent("installed", item.name, str(item.version), number, total))
            scripts_dir = Path(scheme.scripts)
            done.append(
                InstalledDistribution(
                    name=item.name,
                    version=str(item.version),
                    files=tuple(str(p) for p in written),
                    scripts=tuple(p.name for p in written if p.parent == scripts_dir),
                    requested=item.requested,
                )
            )
            for path in refused:
                log(f"WARNING: left {path} alone: it is outside the environment")
    except BaseException as exc:
        tx.rollback()
        if isinstance(exc, InstallError):
            raise
        if isinstance(exc, Exception):
            raise InstallError(
                f"installing failed and every change was undone: {type(exc).__name__}: {exc}"
            ) from exc
        raise
    removed = [original for original, _slot in tx.moved]
    tx.commit()
    prune_empty_dirs(removed, scheme_roots(scheme))
    return done
