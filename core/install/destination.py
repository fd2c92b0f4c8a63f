"""installer's destination, made transactional and careful about where it writes.

Every write is journalled before it happens; a file already at the target (or a
symlink planted there) is moved aside, never written through; a parent directory that
is a symlink leading out of the environment is refused; and the ``.dist-info``
directory is written into the transaction's staging area and renamed into place after
every other file, so a distribution is never visible half-installed.
"""

from __future__ import annotations

import base64
import csv
import functools
import hashlib
import io
import os
import warnings
from collections.abc import Iterable, Sequence
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO

from installer.destinations import SchemeDictionaryDestination
from installer.records import Hash, RecordEntry
from installer.utils import (
    SCHEME_NAMES,
    copyfileobj_with_hashing,
    make_file_executable,
    parse_entrypoints,
)
from installer.utils import Scheme as FileScheme

from roost.errors import InstallError
from roost.install.placement import Placer
from roost.install.protected import GUARDED, protected
from roost.install.transaction import Transaction
from roost.store.linker import CREATE_NEW
from roost.store.unpacked import Member, UnpackedWheel

#: A RECORD row with the scheme its path is in: (scheme, path, hash, size).
Row = tuple[str, str, str, str]
#: Reading a store file: never through a symlink planted at its name.
_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)


def _inside(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


class TransactionalDestination(SchemeDictionaryDestination):
    """Writes one wheel's files under a :class:`Transaction`."""

    def __init__(
        self,
        *,
        tx: Transaction,
        label: str,
        dist_info_dir: str,
        stage: Path,
        scheme_dict: dict[str, str],
        interpreter: str,
    ) -> None:
        super().__init__(
            scheme_dict=scheme_dict,
            interpreter=interpreter,
            script_kind="posix",
            bytecode_optimization_levels=(),
            overwrite_existing=True,
        )
        self.tx = tx
        self.label = label
        self.dist_info_dir = dist_info_dir
        self.stage = stage
        #: Final paths of everything written, in order.
        self.written: list[str] = []
        #: (scheme, path) of every file put in the staged .dist-info.
        self._staged: list[tuple[str, str]] = []

    @functools.cached_property
    def _roots(self) -> list[str]:
        """The scheme's folders, as given and resolved; needed only once a symlinked
        parent turns up (resolving them for every wheel cost 40 ms on jupyter)."""
        roots = list(self.scheme_dict.values())
        return [os.path.abspath(r) for r in roots] + [os.path.realpath(r) for r in roots]

    def write_to_fs(
        self, scheme: FileScheme, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        target = self._path_with_destdir(scheme, path)
        if path.split("/", 1)[0] == self.dist_info_dir:
            # Staged: the .dist-info appears in the environment only once complete.
            target = self.stage / scheme / path
            target.parent.mkdir(parents=True, exist_ok=True)
            self._staged.append((scheme, path))
        else:
            if scheme in GUARDED:
                self._refuse_protected(scheme, path, str(target))
            self._refuse_symlinked_parents(scheme, target)
            self.tx.make_parents(target)
            self._before_replacing(str(target))
            self.tx.move_aside(target)
            self.tx.add_created(target)
            self.written.append(str(target))
        fd = os.open(target, CREATE_NEW, 0o666)
        with os.fdopen(fd, "wb") as handle:
            digest, size = copyfileobj_with_hashing(stream, handle, self.hash_algorithm)
        if is_executable:
            make_file_executable(target)
        return RecordEntry(path, Hash(self.hash_algorithm, digest), size)

    def finalize_installation(
        self,
        scheme: FileScheme,
        record_file_path: str,
        records: Iterable[tuple[FileScheme, RecordEntry]],
    ) -> None:
        super().finalize_installation(scheme, record_file_path, records)
        self._publish_dist_info()

    def _publish_dist_info(self) -> None:
        """Rename the staged .dist-info into place, after every other file of the wheel."""
        for staged_scheme in sorted({scheme for scheme, _path in self._staged}):
            staged = self.stage / staged_scheme / self.dist_info_dir
            final = Path(os.path.abspath(self.scheme_dict[staged_scheme])) / self.dist_info_dir
            self._refuse_symlinked_parents(FileScheme(staged_scheme), final)
            self.tx.make_parents(final)
            self._before_replacing(str(final))
            self.tx.move_aside(final)
            self.tx.add_created(final)
            self._rename(str(staged), str(final))
            # The files staged, in the order of their paths (not listed from the disk:
            # the rename may not have happened yet, see StoreDestination).
            inner = sorted(
                (path.partition("/")[2] for s, path in self._staged if s == staged_scheme),
                key=lambda path: path.split("/"),
            )
            self.written.extend(f"{final}/{path}" for path in inner)

    def _refuse_protected(self, scheme: str, path: str, target: str) -> None:
        """Refuse writing *path* of *scheme* to *target* if the environment needs the
        file there to start (:mod:`roost.install.protected`)."""
        why = protected(self.scheme_dict, self.interpreter).why(target)
        if why is None:
            return
        data_dir = self.dist_info_dir[: -len(".dist-info")] + ".data"
        # A script is a .data/scripts/ member or an entry point's.
        what = f"the script {path!r}" if scheme == "scripts" else f"{data_dir}/{scheme}/{path}"
        raise InstallError(
            f"refusing to install {self.label}: {what} would be written to {target}, {why}, "
            "which no wheel may replace (the environment must still start). The wheel is "
            "broken or hostile: report it to the package's maintainers."
        )

    def _before_replacing(self, target: str) -> None:
        """Called before *target* is moved aside and written (nothing to wait for here)."""

    def _rename(self, source: str, target: str) -> None:
        os.replace(source, target)

    def _refuse_symlinked_parents(self, scheme: FileScheme, target: Path) -> None:
        root = Path(os.path.abspath(self.scheme_dict[scheme]))
        current = root
        for part in target.relative_to(root).parts[:-1]:
            current = current / part
            if current.is_symlink() and not _inside(os.path.realpath(current), self._roots):
                raise InstallError(
                    f"refusing to install {self.label}: {current} is a symlink to "
                    f"{os.path.realpath(current)}, outside the environment, and writing "
                    f"{target.name} through it would change files elsewhere. Remove the "
                    "symlink and try again."
                )


class StoreDestination(TransactionalDestination):
    """A :class:`TransactionalDestination` that places regular files from the unpacked
    store (hard link, copy or symlink) instead of decompressing them again.

    The per-file checks are today's, done once per directory: no parent may be a
    symlink leading out of the environment, missing parents are journalled, an existing
    target is moved aside, and the target is journalled before it is created.
    """

    def __init__(
        self,
        *,
        placer: Placer,
        tx: Transaction,
        label: str,
        dist_info_dir: str,
        stage: Path,
        scheme_dict: dict[str, str],
        interpreter: str,
    ) -> None:
        super().__init__(
            tx=tx,
            label=label,
            dist_info_dir=dist_info_dir,
            stage=stage,
            scheme_dict=scheme_dict,
            interpreter=interpreter,
        )
        self.placer = placer
        self._ready_dirs: set[str] = set()
        self._safe_dirs: set[str] = set()
        self._root_prefixes = {
            s: os.path.abspath(p).rstrip(os.sep) + os.sep for s, p in self.scheme_dict.items()
        }
        self._dist_info_prefix = dist_info_dir + "/"

    def place(self, scheme: FileScheme, path: str, source: str, member: Member) -> Row:
        """Put the store file *source* at *path* in *scheme*; its RECORD row.

        Runs once per file of every wheel (12,000 times for jupyter), so it keeps to
        string operations where ``os.path`` would repeat work.
        """
        record = (scheme, path, "sha256=" + member.sha256, str(member.size))
        if path.startswith(self._dist_info_prefix):
            target = str(self.stage / scheme / path)
            parent = os.path.dirname(target)
            if parent not in self._ready_dirs:
                os.makedirs(parent, exist_ok=True)
                self._ready_dirs.add(parent)
            self._staged.append((scheme, path))
            self.placer.place(source, target, member.executable)
            return record
        prefix = self._root_prefixes[scheme]
        if "/." in f"/{path}" or "//" in path:
            # "." or ".." segments (a store member's name passed the archive checks, but
            # a .data/ path is relative to another root): resolve, then check.
            target = os.path.normpath(prefix + path)
            if not target.startswith(prefix):
                raise ValueError(f"Attempting to write {path} outside of the target directory")
        else:
            target = prefix + path
        if scheme in GUARDED:
            self._refuse_protected(scheme, path, target)
        parent = target.rpartition("/")[0]
        tx = self.tx
        if parent not in self._ready_dirs:
            self._check_parents(scheme, prefix[:-1], parent, target)
            tx.make_parents(target)
            self._ready_dirs.add(parent)
        fresh = parent in tx.fresh
        # A directory this transaction made holds only what it wrote: no need to look
        # there, unless this path was written already (a wheel may ship one path twice
        # through .data/, two wheels may share a file); then it is moved aside once it
        # is really there, as installer overwrites it.
        if not fresh or target in tx.created:
            self._before_replacing(target)
            tx.move_aside(Path(target))
        tx.add_created(target, fresh=fresh)
        self.written.append(target)
        self.placer.place(source, target, member.executable)
        return record

    def write_record(self, scheme: FileScheme, record_path: str, rows: list[Row]) -> None:
        """Write RECORD (*rows* and its own) as installer's ``finalize_installation``
        writes it, then publish the .dist-info.

        Rows are plain tuples: an installer ``RecordEntry`` per file, turned into a row
        again, was a tenth of a warm install.
        """
        base = self.scheme_dict[scheme]
        prefixes = {
            other: "" if other == scheme else os.path.relpath(path, start=base) + "/"
            for other, path in self.scheme_dict.items()
        }
        # Sorted by the path within its scheme, before the prefix, as installer sorts.
        ordered = sorted([*rows, (scheme, record_path, "", "")], key=itemgetter(1))
        text = io.StringIO(newline="")
        writer = csv.writer(text, delimiter=",", quotechar='"', lineterminator="\n")
        writer.writerows((prefixes[s] + path, digest, size) for s, path, digest, size in ordered)
        with io.BytesIO(text.getvalue().encode("utf-8")) as stream:
            self.write_to_fs(scheme, record_path, stream, is_executable=False)
        self._publish_dist_info()

    def _before_replacing(self, target: str) -> None:
        # A placement still under way may be about to create it.
        if target in self.tx.created:
            self.placer.sync()

    def _rename(self, source: str, target: str) -> None:
        # After the placements into the staged .dist-info, in order.
        self.placer.rename(source, target)

    def _check_parents(self, scheme: FileScheme, root: str, parent: str, target: str) -> None:
        """:meth:`_refuse_symlinked_parents`, each directory looked at once per wheel.

        Directories this transaction made are real ones, and so is everything above
        them (checked when they were made); a folder inside one of them that is not
        one of them does not exist yet. Neither needs a look.
        """
        fresh = self.tx.fresh
        current = parent
        pending = []
        while (
            current != root
            and current not in self._safe_dirs
            and current not in fresh
            and len(current) > len(root)
        ):
            pending.append(current)
            current = os.path.dirname(current)
        for directory in pending:
            if os.path.dirname(directory) not in fresh and os.path.islink(directory):
                self._refuse_symlinked_parents(scheme, Path(target))
        self._safe_dirs.update(pending)


def install_unpacked(
    entry: UnpackedWheel, destination: StoreDestination, additional: dict[str, bytes]
) -> None:
    """Install a store entry as ``installer.install`` installs the wheel it came from.

    Same files, same order, same RECORD: entry-point scripts first, then the members
    (``.data/<scheme>/`` to the scheme's path, ``scripts`` with their ``#!python``
    rewritten), then *additional* dist-info files, then RECORD.
    """
    checked = destination.placer.verified.get(str(entry.root))
    if checked is not None and checked != entry.manifest_sha256:
        raise InstallError(
            f"refusing to install {destination.label}: the store entry {entry.root} changed "
            "after it was read (another process writes the cache). Try again."
        )
    root_scheme = FileScheme("purelib" if entry.root_is_purelib else "platlib")
    record_path = f"{entry.dist_info_dir}/RECORD"
    written: list[Row] = []
    tree = str(entry.tree)
    entry_points = f"{entry.dist_info_dir}/entry_points.txt"
    found = next((m for m in entry.members if m.path == entry_points), None)
    if found is not None:
        text = _stored_bytes(tree, found, destination.label).decode("utf-8")
        for name, module, attr, section in parse_entrypoints(text):
            record = destination.write_script(name=name, module=module, attr=attr, section=section)
            written.append(("scripts", *record.to_row()))
    data_prefix = entry.data_dir + "/"
    for member in entry.members:
        path = member.path
        if path == record_path:
            continue
        if "__pycache__/" in path and "__pycache__" in path.split("/")[:-1]:
            warnings.warn(
                f"Skip installing {path}: files in a __pycache__ directory are a security "
                "risk and should not be in wheels.",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        scheme, inner = root_scheme, path
        if path.startswith(data_prefix):
            name, _, inner = path[len(data_prefix) :].partition("/")
            if name not in SCHEME_NAMES or not inner:
                raise InstallError(f"{path} is not contained in a valid .data subdirectory.")
            scheme = FileScheme(name)
        source = f"{tree}/{path}"
        if scheme == "scripts":
            # The shebang is per environment: written, never linked.
            with io.BytesIO(_stored_bytes(tree, member, destination.label)) as stream:
                record = destination.write_file(scheme, inner, stream, member.executable)
            written.append((scheme, *record.to_row()))
        else:
            written.append(destination.place(scheme, inner, source, member))
    for filename, contents in additional.items():
        with io.BytesIO(contents) as stream:
            record = destination.write_file(
                root_scheme, f"{entry.dist_info_dir}/{filename}", stream, False
            )
        written.append((root_scheme, *record.to_row()))
    destination.write_record(root_scheme, record_path, written)


def _stored_bytes(tree: str, member: Member, label: str) -> bytes:
    """The content of a store file this process reads (and does not link): checked
    against the manifest here, as read, since the file may have been replaced after
    the entry was checked."""
    with open(os.open(f"{tree}/{member.path}", _READ), "rb") as handle:
        data = handle.read()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
    if digest != member.sha256:
        raise InstallError(
            f"refusing to install {label}: {member.path} in the store changed after it "
            "was checked (another process writes the cache). Try again."
        )
    return data
