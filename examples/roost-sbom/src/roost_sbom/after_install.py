"""The SBOM written after ``roost install``: where it goes, what it describes, and why a
failure to write it never fails the install."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from roost_sbom.messages import detail, warn
from roost_sbom.writing import DEFAULT_NAME, format_for, write_atomically

if TYPE_CHECKING:
    from roost.types import Options, Scheme, Target


def sbom_path(scheme: Scheme, options: Options) -> Path:
    """``--sbom FILE`` (or the ``sbom-path`` setting), else ``sbom.cdx.json`` in the
    scheme's base directory: a scheme's ``data`` directory is its base (``sys.prefix``
    of a venv, ``--target DIR``, ``--prefix DIR``, the user base with ``--user``, each
    under ``--root`` when given)."""
    chosen = options.get("sbom_path")
    if chosen:
        return Path(os.path.abspath(os.path.expanduser(str(chosen))))
    return Path(scheme.data) / DEFAULT_NAME


def _same(left: str, right: str) -> bool:
    return os.path.normcase(os.path.realpath(left)) == os.path.normcase(os.path.realpath(right))


def described_paths(target: Target, scheme: Scheme) -> tuple[str, ...]:
    """Where the distributions described live: nothing (the interpreter's whole
    ``sys.path``) for its own scheme, else the scheme's library directories, since an
    install with ``--target``, ``--prefix``, ``--user`` or ``--root`` is an environment
    of its own."""
    own = target.default_scheme
    if _same(scheme.purelib, own.purelib) and _same(scheme.platlib, own.platlib):
        return ()
    if _same(scheme.purelib, scheme.platlib):
        return (scheme.purelib,)
    return (scheme.purelib, scheme.platlib)


def write_after_install(target: Target, scheme: Scheme, options: Options) -> None:
    """Describe the environment *scheme* belongs to and write the SBOM; report any
    failure as a warning."""
    from roost_sbom.document import build, serialize
    from roost_sbom.environment import ProbeError, read_environment

    path = sbom_path(scheme, options)
    try:
        environment = read_environment(target.executable, described_paths(target, scheme))
    except ProbeError as exc:
        warn(f"roost-sbom: no SBOM was written to {path}: {exc.format_message()}")
        return
    text = serialize(build(environment), format_for(path))
    try:
        write_atomically(path, text)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
        warn(f"roost-sbom: could not write the SBOM to {path}: {reason}{where}")
        return
    detail(
        f"roost-sbom: wrote the SBOM of {len(environment.distributions)} distribution(s) to {path}"
    )
