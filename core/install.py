"""Execute an install plan: validate every wheel, then one transaction under a lock.

Files of a version being replaced, and any file a new wheel overwrites, are moved
aside rather than deleted, so a failure part-way puts the environment back exactly
as it was.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from roost import journal
from roost.errors import InstallError
from roost.installed import InstalledDist
from roost.placement import PlacementFailed
from roost.types import InstalledDistribution, InstallEvent, Scheme, Target

if TYPE_CHECKING:
    from concurrent.futures import Future

    from roost.placement import Placer
    from roost.unpacked import Expected, UnpackedStore, UnpackedWheel


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


class Transaction:
    """Undo log for one install or uninstall: what was created, what was moved aside.

    Every change is written to a journal (:mod:`roost.journal`) before it is made, so
    a run killed part-way is undone by the next one (:func:`recover_environment`).
    """

    def __init__(self, anchor: Path, description: str = "roost transaction") -> None:
        anchor.mkdir(parents=True, exist_ok=True)
        # Same filesystem as the environment, so moving aside is a rename.
        self.backup = Path(tempfile.mkdtemp(prefix=journal.BACKUP_PREFIX, dir=anchor))
        self.journal = journal.begin(self.backup / journal.JOURNAL_NAME, description)
        #: Every path this transaction created (or is about to), as a string.
        self.created: set[str] = set()
        #: Directories this transaction made (as strings): everything below one is new,
        #: and undoing the journalled ``mkdir`` of its topmost ancestor removes it all.
        self.fresh: set[str] = set()
        self.moved: list[tuple[Path, Path]] = []

    def note(self, text: str) -> None:
        """Record a step for the message a recovery prints."""
        self.journal.write("note", what=text)

    def make_parents(self, path: Path | str) -> None:
        """Create the missing parents of *path*, journalling only the topmost one."""
        missing = []
        fresh = self.fresh
        parent = os.path.dirname(path)
        while parent not in fresh:
            above = os.path.dirname(parent)
            # A directory this transaction made holds only what it wrote, so a folder
            # inside one that is not in `fresh` is not there yet: no need to look.
            if above not in fresh and os.path.lexists(parent):
                break
            missing.append(parent)
            parent = above
        if not missing:
            return
        if parent not in self.fresh:
            # Not fsynced: after a power loss, at worst an empty directory is left.
            self.journal.write("mkdir", path=missing[-1])
        for directory in reversed(missing):
            os.mkdir(directory)
            self.fresh.add(directory)

    def in_fresh_dir(self, path: Path | str) -> bool:
        """Whether *path* lies in a directory this transaction made (nothing to journal)."""
        return os.path.dirname(path) in self.fresh

    def move_aside(self, path: Path) -> None:
        if not os.path.lexists(path):
            return
        slot = self.backup / str(len(self.moved))
        self.journal.write("move", sync=True, path=str(path), slot=str(slot))
        os.replace(path, slot)
        self.moved.append((path, slot))

    def move_all(self, paths: Sequence[Path]) -> None:
        """Move every existing path in *paths* aside, with one fsync of the journal."""
        todo = [path for path in dict.fromkeys(paths) if os.path.lexists(path)]
        slots = [self.backup / str(len(self.moved) + i) for i in range(len(todo))]
        for number, (path, slot) in enumerate(zip(todo, slots, strict=True), 1):
            self.journal.write("move", sync=number == len(todo), path=str(path), slot=str(slot))
        for path, slot in zip(todo, slots, strict=True):
            os.replace(path, slot)
            self.moved.append((path, slot))

    def add_created(self, path: Path | str, *, fresh: bool | None = None) -> None:
        """Say that *path* is about to be created (call before writing it).

        A path inside a directory this transaction made is not journalled: undoing that
        directory's ``mkdir`` removes it (one journal line per file was a tenth of a
        warm install's time). *fresh* says so when the caller knows already.
        """
        if not (self.in_fresh_dir(path) if fresh is None else fresh):
            self.journal.write("create", path=str(path))
        self.created.add(str(path))

    def rollback(self) -> None:
        """Undo every change; keep the backups (for the next run) if that fails."""
        self.journal.close()
        logged = {e.get("path") for e in self.journal.entries if e["op"] == "create"}
        for path in self.created:
            if path not in logged and os.path.lexists(path) and not os.path.isdir(path):
                os.unlink(path)
        report = journal.undo(self.journal.entries)
        if report.failures:
            raise InstallError(
                "undoing the changes failed for: "
                + "; ".join(report.failures)
                + f". The backups are kept in {self.backup}; the next roost run on this "
                "environment finishes the roll back."
            )
        shutil.rmtree(self.backup, ignore_errors=True)

    def commit(self) -> None:
        self.journal.write("commit", sync=True)
        self.journal.close()
        shutil.rmtree(self.backup, ignore_errors=True)


def recover_environment(scheme: Scheme, log: Callable[[str], None]) -> int:
    """Roll back (or finish) transactions an earlier run left behind; hold the lock."""
    return journal.recover([Path(scheme.purelib), Path(scheme.platlib)], log)


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
    # The .dist-info goes first, so a half-removed distribution is invisible rather
    # than listed but broken.
    doomed: list[Path] = [dist.dist_info] if dist.dist_info.exists() else []
    for path in dist.record_paths():
        if not _inside(path, roots):
            refused.append(path)
            continue
        if dist.dist_info in path.parents:
            continue
        if path.suffix == ".py":
            cache = path.parent / "__pycache__"
            if cache.is_dir():
                doomed.extend(cache.glob(f"{path.stem}.*.pyc"))
        doomed.append(path)
    tx.move_all(doomed)
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
    """Refuse a wheel that is unsafe or does not match its RECORD or metadata.

    Runs before anything is written: :func:`roost.wheel_check.check_wheel`, then
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
    from roost.wheel_check import check_unpacked, check_wheel

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
    from roost.unpacked import RecordMismatch

    if item.entry is not None:
        check_names(item, item.entry)
        return item.entry
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
    3, 2.7 s with 4). With two or more CPUs one :class:`~roost.unpack_helper.UnpackHelper`
    process takes a wheel whenever it is free, and the threads do the rest
    (jupyter's 97 wheels: 1.78 s -> 1.37 s inside an install); it starts only when a
    wheel really needs unpacking.

    Before there is a plan, :meth:`early` unpacks wheels the resolver has pinned, in
    the helper only, so the resolver's process keeps its CPU. Each wheel is unpacked
    once: whoever starts on a sha256 first claims it, and a plan's wheel that is being
    unpacked early waits for that and takes its result or its failure.
    """

    def __init__(self, store: UnpackedStore, log: Callable[[str], None] = lambda _: None):
        from concurrent.futures import ThreadPoolExecutor

        from roost.unpack_helper import UnpackHelper

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


class _Signalled(BaseException):
    """A termination signal arrived during the transaction."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class InstallInterrupted(InstallError):
    """The install was interrupted (SIGINT) and rolled back."""

    exit_code = 130


class InstallTerminated(InstallInterrupted):
    """The install was stopped by SIGTERM or SIGHUP and rolled back."""

    exit_code = 143


@contextlib.contextmanager
def _signals(*, shield: bool = False) -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into an exception (or, with *shield*, ignore them and SIGINT).

    SIGXFSZ is ignored so a file-size limit fails a write (EFBIG) and is rolled back,
    instead of killing the process mid-transaction.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_signal(signum: int, _frame: object) -> None:
        raise _Signalled(signum)

    handler: Any = signal.SIG_IGN if shield else raise_signal
    names = ["SIGTERM", "SIGHUP"] + (["SIGINT"] if shield else [])
    previous = {}
    for name in names:
        if hasattr(signal, name):
            number = getattr(signal, name)
            previous[number] = signal.signal(number, handler)
    if hasattr(signal, "SIGXFSZ"):
        previous[signal.SIGXFSZ] = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def _failure(exc: BaseException, step: str) -> InstallError:
    """The one error a user sees for a failed, rolled back transaction."""
    undone = "every change was undone and the environment is as it was before."
    if isinstance(exc, _Signalled):
        return InstallTerminated(f"interrupted by {exc} while {step}; {undone}")
    if isinstance(exc, KeyboardInterrupt):
        return InstallInterrupted(f"interrupted (SIGINT) while {step}; {undone}")
    if isinstance(exc, InstallError):
        return InstallError(f"{exc.message}\n{undone[0].upper()}{undone[1:]}")
    hint = ""
    if isinstance(exc, OSError) and exc.errno in {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}:
        hint = " The disk is full (or a file size limit was reached): free some space."
    return InstallError(f"{step} failed: {type(exc).__name__}: {exc}; {undone}{hint}")


def install_plan(
    plan: Sequence[PlanItem],
    target: Target,
    scheme: Scheme,
    *,
    log: Callable[[str], None] = lambda _: None,
    event: Callable[[InstallEvent], None] = lambda _: None,
    link_mode: str | None = None,
    unpacked: Sequence[UnpackedWheel | None] | None = None,
    placer: Placer | None = None,
) -> list[InstalledDistribution]:
    """Install every item or none. The caller holds the environment's lock.

    Each wheel's METADATA must agree with the metadata the resolver used
    (``PlanItem.index_metadata``). *unpacked* holds each wheel's entry in the store
    of unpacked wheels (:class:`Unpacker` made them, before the transaction; None for
    a wheel the store could not take): its files are placed by *link_mode*
    (``hardlink``, the default, falling back to copying; ``copy``; ``symlink``).
    Without a store (*unpacked* None) each wheel is checked, then decompressed
    straight into the environment. *placer* places the store's files (the caller's,
    with its helper process already started, see :func:`new_placer`; by default one
    that places them in-process); the caller closes it.
    """
    if unpacked is None and link_mode == "symlink":
        raise InstallError(
            "--link-mode symlink needs the cache (the links point into it): "
            "drop --no-cache-dir or choose another link mode"
        )
    entries: Sequence[UnpackedWheel | None]
    if unpacked is None:
        for item in plan:
            validate_wheel(item)
        entries = [None] * len(plan)
    else:
        entries = unpacked
    if placer is None:
        placer = new_placer(link_mode, log, helper=False)
    labels = ", ".join(f"{item.name} {item.version}" for item in plan)
    step = "preparing the install"
    done: list[InstalledDistribution] = []
    tx: Transaction | None = None
    refused: list[Path] = []
    with _signals():
        try:
            tx = Transaction(Path(scheme.purelib), f"install of {labels}")
            total = len(plan)
            for number, item in enumerate(plan, 1):
                if item.replaces is not None:
                    old = f"{item.replaces.name} {item.replaces.version}"
                    # What is being placed may land where the old files are.
                    placer.sync()
                    step = f"removing {old}"
                    log(f"  Removing {old}")
                    tx.note(f"remove {old}")
                    event(
                        InstallEvent(
                            "remove", item.replaces.name, item.replaces.version, number, total
                        )
                    )
                    refused += remove_distribution(item.replaces, scheme, tx)
                step = f"installing {item.label}"
                placer.step(step)
                tx.note(f"install {item.name} {item.version}")
                event(InstallEvent("install", item.name, str(item.version), number, total))
                done.append(
                    _install_one(
                        item, target, scheme, tx, entry=entries[number - 1], placer=placer
                    )
                )
                event(InstallEvent("installed", item.name, str(item.version), number, total))
            step = "finishing the install"
            placer.sync()
            tx.commit()
        except BaseException as exc:
            with _signals(shield=True):
                # The helper stops first: nothing may be placed while undoing.
                placer.close()
                if tx is not None:
                    tx.rollback()
            cause: BaseException = exc
            if isinstance(exc, PlacementFailed):
                cause, step = exc.error, exc.step or step
            raise _failure(cause, step) from (cause if isinstance(cause, Exception) else None)
    for path in refused:
        log(f"WARNING: left {path} alone: it is outside the environment")
    removed = [original for original, _slot in tx.moved]
    prune_empty_dirs(removed, scheme_roots(scheme))
    return done


def new_placer(link_mode: str | None, log: Callable[[str], None], *, helper: bool) -> Placer:
    """A :class:`~roost.placement.Placer` for *link_mode* (default ``hardlink``), with a
    helper process when *helper* and there are two CPUs or more."""
    from roost.linker import Linker
    from roost.placement import Placer

    linker = Linker(link_mode or "hardlink", log)
    return Placer(linker, helper=helper and (os.cpu_count() or 1) > 1)


def _install_one(
    item: PlanItem,
    target: Target,
    scheme: Scheme,
    tx: Transaction,
    *,
    entry: UnpackedWheel | None = None,
    placer: Placer | None = None,
) -> InstalledDistribution:
    from installer import install
    from installer.sources import WheelFile

    from roost.destination import StoreDestination, TransactionalDestination, install_unpacked

    paths = scheme.as_dict()
    paths["headers"] = os.path.join(scheme.headers, item.name)
    metadata = {"INSTALLER": b"roost\n"}
    if item.requested:
        metadata["REQUESTED"] = b""
    if item.direct_url is not None:
        metadata["direct_url.json"] = json.dumps(item.direct_url).encode()
    label = item.label
    # One staging area for every wheel (each .dist-info leaves it when complete): each
    # directory removed at commit costs milliseconds on a journalling filesystem.
    stage = tx.backup / "stage"
    if entry is not None and placer is not None:
        linking = StoreDestination(
            placer=placer,
            tx=tx,
            label=label,
            dist_info_dir=entry.dist_info_dir,
            stage=stage,
            scheme_dict=paths,
            interpreter=target.executable,
        )
        stage.mkdir(parents=True, exist_ok=True)
        install_unpacked(entry, linking, metadata)
        return _installed(item, scheme, linking.written)
    if placer is not None:
        # Written here, straight from the archive: what the helper still has to place
        # for earlier wheels must be there first (two wheels may ship one path).
        placer.sync()
    with WheelFile.open(item.archive()) as source:
        destination = TransactionalDestination(
            tx=tx,
            label=label,
            dist_info_dir=source.dist_info_dir,
            stage=stage,
            scheme_dict=paths,
            interpreter=target.executable,
        )
        destination.stage.mkdir(parents=True, exist_ok=True)
        install(source, destination, metadata)
    return _installed(item, scheme, destination.written)


def _installed(item: PlanItem, scheme: Scheme, written: list[str]) -> InstalledDistribution:
    inside = os.path.normpath(os.path.abspath(scheme.scripts)) + os.sep
    # String tests, not os.path.dirname per written file (12,000 for jupyter, ~10 ms).
    scripts = tuple(
        rest
        for p in written
        if p.startswith(inside) and "/" not in (rest := p[len(inside) :]) and os.sep not in rest
    )
    return InstalledDistribution(
        name=item.name,
        version=str(item.version),
        files=tuple(written),
        scripts=scripts,
        requested=item.requested,
    )
