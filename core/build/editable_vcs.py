"""Editable VCS installs: the checkout kept in ``<src>/<name>``, as pip keeps it.

A checkout of the same repository already there is updated to the URL's revision;
anything else in its place is an error, never overwritten.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from packaging.utils import InvalidName, canonicalize_name

from roost.build.vcs import (
    Checkout,
    ClientFailed,
    NoRemote,
    VcsUrl,
    parse_vcs_url,
    unquoted_url,
)
from roost.errors import BuildError
from roost.types import redact_url

#: Editable checkouts of one run go one at a time: two ``-e`` lines may share a folder.
_EDITABLE_LOCK = threading.Lock()


def editable_checkout(url: str, *, src_dir: Path, name: str | None) -> Checkout:
    """Check *url* out into ``<src_dir>/<name>`` for an editable install, as pip does: a
    checkout of the same repository already there is updated to the URL's revision."""
    source = parse_vcs_url(url)
    backend, shown = source.backend, source.shown
    name = name or source.params.get("egg")
    if not name:
        raise BuildError(
            f"{shown}: an editable install of a VCS URL needs the project's name, which "
            "names its checkout folder; add #egg=NAME to the URL, or write -e 'NAME @ URL'"
        )
    try:
        folder = canonicalize_name(name, validate=True)
    except InvalidName:
        raise BuildError(f"{shown}: {name!r} is not a project name") from None
    dest = src_dir / folder
    with _EDITABLE_LOCK:
        if dest.is_dir() and not dest.is_symlink() and any(dest.iterdir()):
            _check_same_repository(source, dest)
            backend.update(source, dest)
            return Checkout(dest, source)
        if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
            raise BuildError(f"{shown}: {dest} is in the way of the checkout; move it away")
        src_dir.mkdir(parents=True, exist_ok=True)
        try:
            backend.clone(source, dest)
        except BaseException:
            # A half-made checkout would be mistaken for a real one next time.
            shutil.rmtree(dest, ignore_errors=True)
            raise
    return Checkout(dest, source)


def _check_same_repository(source: VcsUrl, dest: Path) -> None:
    backend, shown = source.backend, source.shown
    where = "pick another folder with --src, or move it away"
    if not (dest / backend.marker).exists():
        raise BuildError(
            f"{shown}: {dest} already exists and is not a {backend.title} checkout; {where}"
        )
    try:
        existing: str | None = backend.remote_url(dest, shown)
    except (NoRemote, ClientFailed):
        existing = None
    # pip's comparison: unquoted, without a trailing slash.
    if existing is None or unquoted_url(existing) != unquoted_url(source.repository):
        came_from = "an unknown repository" if existing is None else redact_url(existing)
        raise BuildError(
            f"{shown}: {dest} is a {backend.title} checkout of {came_from}, not of "
            f"{redact_url(source.repository)}; {where}"
        )
