"""installer's destination, made transactional and careful about where it writes.

Every write is journalled before it happens; a file already at the target (or a
symlink planted there) is moved aside, never written through; a parent directory that
is a symlink leading out of the environment is refused; and the ``.dist-info``
directory is written into the transaction's staging area and renamed into place after
every other file, so a distribution is never visible half-installed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from installer.destinations import SchemeDictionaryDestination
from installer.records import Hash, RecordEntry
from installer.utils import Scheme as FileScheme
from installer.utils import copyfileobj_with_hashing, make_file_executable

from roost.errors import InstallError
from roost.install import Transaction


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
        self.written: list[Path] = []
        roots = list(scheme_dict.values())
        self._roots = [os.path.abspath(r) for r in roots] + [os.path.realpath(r) for r in roots]

    def write_to_fs(
        self, scheme: FileScheme, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        target = self._path_with_destdir(scheme, path)
        if path.split("/", 1)[0] == self.dist_info_dir:
            # Staged: the .dist-info appears in the environment only once complete.
            target = self.stage / scheme / path
            target.parent.mkdir(parents=True, exist_ok=True)
        else:
            self._refuse_symlinked_parents(scheme, target)
            self.tx.make_parents(target)
            self.tx.move_aside(target)
            self.tx.add_created(target)
            self.written.append(target)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(target, flags, 0o666)
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
        for staged_scheme in sorted(p.name for p in self.stage.iterdir()):
            staged = self.stage / staged_scheme / self.dist_info_dir
            if not staged.is_dir():
                continue
            final = Path(self.scheme_dict[staged_scheme]) / self.dist_info_dir
            self._refuse_symlinked_parents(FileScheme(staged_scheme), final)
            self.tx.make_parents(final)
            self.tx.move_aside(final)
            self.tx.add_created(final)
            os.replace(staged, final)
            self.written.extend(sorted(p for p in final.rglob("*") if p.is_file()))

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
