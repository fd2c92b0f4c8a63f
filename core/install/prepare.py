"""What is checked and unpacked before a transaction starts: plan items, wheel checks, unpacking.

Every wheel of a plan is validated (names, RECORD, hardening checks) and unpacked into
the store first, so nothing is written to the environment for a plan that would fail.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from roost.errors import InstallError
from roost.target.installed import InstalledDist

if TYPE_CHECKING:
    from concurrent.futures import Future

    from roost.store.unpack import Expected
    from roost.store.unpacked import UnpackedStore, UnpackedWheel


@dataclass(frozen=True)
class PlanItem:
    """One wheel to install: its archive, its store entry, or both."""

    name: str
    version: Version
    #: The wheel's file name.
    filename: str
    #: The verified archive; None when the store already holds the wheel unpacked
    #: (found by the sha256 the index gave, so it was never fetched).
    wheel: Path | None
    #: The archive's sha256, when known.
    sha256: str | None = None
    #: The store's unpacked copy, when found before fetching.
    entry: UnpackedWheel | None = None
    #: The installed distribution this replaces (removed by its RECORD), if any.
    replaces: InstalledDist | None = None
    requested: bool = False
    #: PEP 610 ``direct_url.json`` content for wheels named by path or URL.
    direct_url: dict[str, object] | None = None
    #: The metadata text the resolver used (PEP 658 file or range requests), which the
    #: wheel's METADATA must agree with; None when it was read from the wheel itself.
    index_metadata: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} {self.version} ({self.filename})"

    def archive(self) -> Path:
        """The wheel file (only items found unpacked in the store have none)."""
        if self.wheel is None:
            raise InstallError(f"{self.label}: the wheel file was not fetched")
        return self.wheel


def built_from_directory(item: PlanItem) -> bool:
    """Whether *item*'s wheel was built from a project directory (or is editable)."""
    return item.direct_url is not None and "dir_info" in item.direct_url


def validate_wheel(item: PlanItem) -> None:
    """Refuse a wheel that is unsafe or does not match its RECORD or metadata.

    Runs before anything is written: :func:`roost.store.wheel_check.check_wheel`, then
    ``installer``'s RECORD validation (hashes, sizes, files missing from RECORD).
    """
    from installer.sources import WheelFile

    check_names(item)
    try:
        with WheelFile.open(item.archive()) as source:
            source.validate_record()
    except Exception as exc:
        raise _refusal(item, exc) from None


def check_names(item: PlanItem, found: UnpackedWheel | None = None) -> None:
    """The checks of :func:`validate_wheel` that need no decompression.

    With *found*, the store entry of the wheel's sha256, they read its unpacked
    metadata: those bytes passed the archive checks when the entry was made.
    """
    from roost.store.wheel_check import check_unpacked, check_wheel

    try:
        name, version, _build, _tags = parse_wheel_filename(item.filename)
    except Exception as exc:
        raise InstallError(f"{item.filename}: not a valid wheel filename ({exc})") from None
    if found is not None:
        check_unpacked(
            found.tree,
            item.filename,
            found.dist_info_dir,
            expected=(name, version),
            metadata_text_from_index=item.index_metadata,
        )
    else:
        check_wheel(item.archive(), name, version, item.index_metadata)
    if canonicalize_name(name) != canonicalize_name(item.name) or version != item.version:
        raise InstallError(
            f"{item.filename} does not contain {item.name} {item.version} as expected"
        )


def _check_stored(item: PlanItem, entry: UnpackedWheel, store: UnpackedStore) -> None:
    """:func:`check_names` for a wheel found in the store before it was fetched.

    Its metadata is read before the placement helper has checked the entry by content;
    if the checks refuse it, the entry itself may be what is wrong (someone wrote the
    cache): then it is removed, so that the next run fetches the wheel again.
    """
    try:
        check_names(item, entry)
    except InstallError:
        if entry.intact():
            raise
        store.remove(entry.root)
        raise InstallError(
            f"the stored copy of {item.label} in {entry.root} is not what the wheel holds "
            "(someone else wrote the cache); it was removed. Nothing was installed: run "
            "the command again."
        ) from None


def _refusal(item: PlanItem, exc: BaseException) -> InstallError:
    return InstallError(f"refusing to install {item.label}: {exc}\nNothing was installed.")


def prepare(
    item: PlanItem,
    store: UnpackedStore,
    log: Callable[[str], None] = lambda _: None,
    ensure: Callable[[Path, str], UnpackedWheel] | None = None,
) -> UnpackedWheel | None:
    """Check one wheel and make sure the store has it unpacked (by *ensure*, the
    :class:`Unpacker`'s unpacking once per wheel, when given); its entry.

    A wheel already in the store (intact) was RECORD-checked when it was unpacked, so
    only :func:`check_names` runs again. A wheel the store cannot take (a full or
    read-only cache) gets None and is checked and installed from the archive as
    without a cache.
    """
    from roost.store.unpack import RecordMismatch

    if item.entry is not None:
        _check_stored(item, item.entry, store)
        return item.entry
    if built_from_directory(item):
        # Every install of a project directory builds it anew, into new bytes (build
        # dates, absolute paths): stored, each such wheel would stay in the store for
        # good, and none would ever be asked for again.
        validate_wheel(item)
        return None
    wheel = item.archive()
    digest, found = store.lookup(wheel, item.sha256)
    check_names(item, found)
    if found is not None:
        return found
    try:
        return store.ensure(wheel, digest) if ensure is None else ensure(wheel, digest)
    except RecordMismatch as exc:
        raise _refusal(item, exc) from None
    except InstallError:
        raise
    except OSError as exc:
        log(f"  cannot unpack {item.filename} into {store.root} ({exc}); not caching it")
        validate_wheel(item)
        return None
    except Exception as exc:  # installer's validation errors, broken archives
        raise _refusal(item, exc) from None


class Unpacker:
    """:func:`prepare` for each wheel of a plan as soon as it is handed over, on one
    thread per CPU, so wheels unpack while later ones still download.

    Unpacking is mostly Python per member, so threads of one process take turns on
    the GIL (97 wheels on 2 CPUs, zipfile's reader: 1.9 s with 2 threads, 2.1 s with
    3, 2.7 s with 4). With two or more CPUs one :class:`~roost.store.unpack_helper.UnpackHelper`
    process takes a wheel whenever it is free, and the threads do the rest
    (jupyter's 97 wheels: 1.78 s -> 1.37 s inside an install); it starts only when a
    wheel really needs unpacking.

    Before there is a plan, :meth:`early` unpacks wheels the resolver has pinned, in
    the helper only, so the resolver's process keeps its CPU. Each wheel is unpacked
    once: whoever starts on a sha256 first claims it, and a plan's wheel that is being
    unpacked early waits for that and takes its result or its failure.
    """

    def __init__(self, store: UnpackedStore, log: Callable[[str], None] = lambda _: None):
        import importlib
        from concurrent.futures import ThreadPoolExecutor

        from roost.store.unpack_helper import UnpackHelper

        # Imported whole here, before any thread of ours runs: a thread importing
        # installer's modules while another imports them too (the plan's checks, in
        # the main thread) can be handed a half-initialised module.
        importlib.import_module("installer.sources")

        self._store = store
        self._log = log
        workers = max(1, os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="roost-unpack")
        self._helper = UnpackHelper() if workers > 1 else None
        # One thread: it feeds the one helper, waiting for it while a plan's thread has it.
        self._early_pool = (
            None
            if self._helper is None
            else ThreadPoolExecutor(max_workers=1, thread_name_prefix="roost-early")
        )
        self._futures: list[Future[UnpackedWheel | None]] = []
        self._claims: dict[str, Future[UnpackedWheel]] = {}
        self._claims_lock = threading.Lock()

    def add(self, item: PlanItem) -> None:
        self._futures.append(self._pool.submit(self._prepare, item))

    def _prepare(self, item: PlanItem) -> UnpackedWheel | None:
        with self._claims_lock:
            claim = self._claims.get(item.sha256 or "") if item.entry is None else None
        if claim is not None:
            # Unpacked early (its archive checked): only the names are left to check.
            # A failure is met again below, with the refusal a plan's wheel gets.
            with contextlib.suppress(Exception):
                item = replace(item, entry=claim.result())
        return prepare(item, self._store, self._log, self._ensure)

    def early(
        self, download: Future[Path], digests: Mapping[Path, str], expected: Expected
    ) -> None:
        """Unpack the wheel *download* gives (whose sha256 *digests* will hold) into the
        store once it is here, before it is part of any plan, after the archive checks
        with *expected* (the store only ever holds wheels that passed them: a zip bomb
        is refused before it is written anywhere). A failure is dropped: the wheel may
        never be installed, and if it is, :meth:`add` meets the same failure. Without a
        helper (one CPU) the wheel only downloads early."""
        pool = self._early_pool
        if pool is None:
            return

        def start(done: Future[Path]) -> None:
            if done.cancelled() or done.exception() is not None:
                return
            wheel = done.result()
            # Shut down already (the run failed or finished): nothing to do.
            with contextlib.suppress(RuntimeError):
                pool.submit(self._ensure_early, wheel, digests[wheel], expected)

        download.add_done_callback(start)

    def made(self) -> dict[str, UnpackedWheel]:
        """The entries unpacked by this run so far, by sha256 (intact: just written)."""
        with self._claims_lock:
            claims = list(self._claims.items())
        return {
            digest: claim.result()
            for digest, claim in claims
            if claim.done() and claim.exception() is None
        }

    def _ensure(self, wheel: Path, digest: str) -> UnpackedWheel:
        """``store.ensure`` for *wheel*, or the result of whoever claimed *digest* first."""
        claim, mine = self._claim(digest)
        return self._unpack(claim, wheel, digest, wait=False) if mine else claim.result()

    def _ensure_early(self, wheel: Path, digest: str, expected: Expected) -> None:
        claim, mine = self._claim(digest)
        if mine:
            with contextlib.suppress(Exception):
                self._unpack(claim, wheel, digest, wait=True, expected=expected)

    def _claim(self, digest: str) -> tuple[Future[UnpackedWheel], bool]:
        from concurrent.futures import Future

        with self._claims_lock:
            claim = self._claims.get(digest)
            if claim is not None:
                return claim, False
            claim = self._claims[digest] = Future()
            return claim, True

    def _unpack(
        self,
        claim: Future[UnpackedWheel],
        wheel: Path,
        digest: str,
        *,
        wait: bool,
        expected: Expected | None = None,
    ) -> UnpackedWheel:
        try:
            made = self._store.ensure(wheel, digest, self._helper, wait=wait, expected=expected)
        except BaseException as exc:
            claim.set_exception(exc)
            raise
        claim.set_result(made)
        return made

    def cancel(self) -> None:
        """Drop what has not started; wait for what has (it only writes to the store)."""
        self._finish()

    def results(self) -> list[UnpackedWheel | None]:
        """Every entry, in the order handed over; the first failure in that order raised
        (the others are cancelled or finish; none is installed)."""
        try:
            return [future.result() for future in self._futures]
        finally:
            self._finish()

    def _finish(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._early_pool is not None:
            self._early_pool.shutdown(wait=True, cancel_futures=True)
        if self._helper is not None:
            self._helper.close()
