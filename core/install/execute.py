"""Execute an install plan: one transaction under the environment's lock, signals shielded.

A failure, a signal or a full disk part-way rolls the transaction back; the user sees
one error saying what failed and that every change was undone.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roost.errors import InstallError
from roost.install.placement import PlacementFailed
from roost.types import InstalledDistribution, InstallEvent, Scheme, Target

if TYPE_CHECKING:
    from roost.install.placement import Placer
    from roost.store.unpacked import UnpackedWheel
    from roost.target.installed import InstalledDist

from roost.install.prepare import PlanItem, validate_wheel
from roost.install.transaction import (
    Transaction,
    prune_empty_dirs,
    remove_distribution,
    scheme_roots,
)


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


def _failure(
    exc: BaseException, step: str, undo_failure: InstallError | None = None
) -> InstallError:
    """The one error a user sees for a failed transaction: every change undone, or
    (*undo_failure*) what could not be undone and where the backups are."""
    if undo_failure is None:
        undone = "every change was undone and the environment is as it was before."
    else:
        undone = f"then {undo_failure.message}"
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
    removals: Sequence[InstalledDist] = (),
) -> list[InstalledDistribution]:
    """Install every item or none, and remove every one of *removals* (``roost sync``:
    distributions the environment no longer holds) in the same transaction, first, so
    a failure anywhere puts them back too. The caller holds the environment's lock.

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
    labels = ", ".join(
        [f"{item.name} {item.version}" for item in plan]
        + [f"removal of {dist.name} {dist.version}" for dist in removals]
    )
    step = "preparing the install"
    done: list[InstalledDistribution] = []
    tx: Transaction | None = None
    refused: list[Path] = []
    with _signals():
        try:
            tx = Transaction(Path(scheme.purelib), f"install of {labels}")
            total = len(plan)
            for gone, dist in enumerate(removals, 1):
                old = f"{dist.name} {dist.version}"
                step = f"removing {old}"
                log(f"  Removing {old}")
                tx.note(f"remove {old}")
                event(InstallEvent("remove", dist.name, dist.version, gone, len(removals)))
                refused += remove_distribution(dist, scheme, tx)
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
            undo_failure: InstallError | None = None
            with _signals(shield=True):
                # The helper stops first: nothing may be placed while undoing.
                placer.close()
                if tx is not None:
                    try:
                        tx.rollback()
                    except InstallError as failed:
                        # Reported with the failure that caused it, not instead of it.
                        undo_failure = failed
            cause: BaseException = exc
            if isinstance(exc, PlacementFailed):
                cause, step = exc.error, exc.step or step
            raise _failure(cause, step, undo_failure) from (
                cause if isinstance(cause, Exception) else None
            )
    for path in refused:
        log(f"WARNING: left {path} alone: it is outside the environment")
    removed = [original for original, _slot in tx.moved]
    prune_empty_dirs(removed, scheme_roots(scheme))
    return done


def new_placer(link_mode: str | None, log: Callable[[str], None], *, helper: bool) -> Placer:
    """A :class:`~roost.install.placement.Placer` for *link_mode* (default ``hardlink``), with a
    helper process when *helper* and there are two CPUs or more."""
    from roost.install.placement import Placer
    from roost.store.linker import Linker

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

    from roost.install.destination import (
        StoreDestination,
        TransactionalDestination,
        install_unpacked,
    )

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
