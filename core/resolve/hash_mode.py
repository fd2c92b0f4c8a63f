"""Hash-checking mode, with pip's rules.

On with ``--require-hashes``, or by any ``--hash`` in a requirements file. Then every
requirement must be pinned to one version with ``==`` (or ``===``) and every
distribution to be installed, dependencies included, must have a ``--hash`` that its
file matches. Hashes an index publishes do not count: the point is that the user, not
the index, vouches for the bytes. ``md5``, ``sha1`` and ``sha224`` are refused where
``--hash`` is parsed (:mod:`roost.resolve.reqfile`). A file from the cache is hashed again on
every use. All problems are reported together, each with the hash the file really has,
so the fix can be pasted into the requirements file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from roost.errors import HashMismatchError

if TYPE_CHECKING:
    from roost.resolve.candidates import Candidate
    from roost.resolve.requirement_line import ParsedRequirement
    from roost.store.fetch import Fetcher

WEAK_HASHES = frozenset({"md5", "sha1", "sha224"})
_TURNED_ON = (
    "(Hash-checking mode is on because of --require-hashes, or because a requirements "
    "file gives a --hash for some requirement.)"
)


def is_pinned(parsed: ParsedRequirement) -> bool:
    """Whether *parsed* names exactly one version (or one file)."""
    if parsed.url is not None:
        return True
    if parsed.requirement is None:
        return False
    specs = list(parsed.requirement.specifier)
    return len(specs) == 1 and specs[0].operator in {"==", "==="} and "*" not in specs[0].version


def check_pinned(requirements: Sequence[ParsedRequirement]) -> None:
    """Refuse requirements that are not pinned with ``==``, or that use a weak hash."""
    weak = [
        f"  {r.line} ({r.origin}): {algorithm}"
        for r in requirements
        for algorithm in r.hashes
        if algorithm in WEAK_HASHES
    ]
    if weak:
        raise HashMismatchError(
            "these requirements use a hash algorithm too weak for hash-checking mode; "
            "use sha256, sha384 or sha512:\n" + "\n".join(weak)
        )
    loose = [f"  {r.line} ({r.origin})" for r in requirements if not is_pinned(r)]
    if loose:
        raise HashMismatchError(
            "in hash-checking mode every requirement must be pinned to one version with "
            "==; these are not:\n" + "\n".join(loose) + "\n" + _TURNED_ON
        )


def check_hashed(todo: Sequence[Candidate], fetcher: Fetcher) -> None:
    """Refuse to install any distribution that has no ``--hash``; show the hash it has."""
    missing = []
    for candidate in todo:
        if candidate.file is None:
            continue
        link = candidate.file.link
        if fetcher.pinned.get(link.url):
            continue
        digest = fetcher.wheel_sha256(link)
        missing.append(
            f"    {canonicalize_name(candidate.name)}=={candidate.version} "
            f"--hash=sha256:{digest}\n      (file {link.filename})"
        )
    if missing:
        raise HashMismatchError(
            "hash-checking mode needs a --hash for every distribution it installs, "
            "dependencies included, and these have none. The files downloaded for them "
            "have the hashes shown; add lines like these to your requirements file once "
            "you trust those files:\n" + "\n".join(missing) + "\n" + _TURNED_ON
        )
