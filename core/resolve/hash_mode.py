"""Hash-checking mode, with pip's rules.

On with ``--require-hashes``, or by any ``--hash`` in a requirements file. Then every
requirement must be pinned to one version with ``==`` (or ``===``) and every
distribution to be installed, dependencies included, must have a ``--hash`` that its
file matches. Hashes an index publishes do not count: the point is that the user, not
the index, vouches for the bytes. ``md5``, ``sha1`` and ``sha224`` are refused where
``--hash`` is parsed (:mod:`roost.resolve.reqfile`). A file from the cache is hashed again on
every use. All problems are reported together, each with the hash the file really has,
so the fix can be pasted into the requirements file.

Sources follow the same rule: an archive (or an index sdist) is checked before it is
unpacked or built, a directory or a VCS checkout has no hash and is refused, and what a
build environment installs must be pinned and hashed by ``--build-constraint`` lines
(uv's ``--require-build-hashes``).
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from roost.errors import HashMismatchError
from roost.types import file_url_path, redact_url

if TYPE_CHECKING:
    from roost.resolve.candidates import Candidate
    from roost.resolve.requirement_line import ParsedRequirement
    from roost.store.fetch import Fetcher

WEAK_HASHES = frozenset({"md5", "sha1", "sha224"})
STRONG_HASHES = ("sha256", "sha384", "sha512")
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
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


def fragment_hashes(url: str) -> dict[str, str]:
    """The strong hashes a URL's own fragment gives (``#sha256=...``)."""
    fragment = url.partition("#")[2]
    return {
        name: value
        for name, value in urllib.parse.parse_qsl(fragment)
        if name in STRONG_HASHES and value
    }


def _unhashable(parsed: ParsedRequirement) -> str | None:
    """Why hash-checking mode cannot check the source *parsed* names, or None."""
    if parsed.url is None or parsed.constraint:
        return None
    base = parsed.url.partition("#")[0]
    if base.lower().startswith(_VCS_PREFIXES):
        return (
            "a version control URL: a checkout has no hash to check. Install an sdist "
            "or wheel of that revision with a --hash instead"
        )
    parts = urllib.parse.urlsplit(base)
    local = file_url_path(base) if parts.scheme.lower() == "file" else None
    if parsed.editable or (local is not None and os.path.isdir(local)):
        return (
            "a project directory: a folder has no hash to check. Build an sdist or wheel "
            "of it and install that with a --hash instead"
        )
    if parts.path.lower().endswith(".whl") or parsed.hashes or fragment_hashes(parsed.url):
        # Wheels are held to their --hash with the rest of the plan (check_hashed).
        return None
    digest = "<the sha256 of the file you trust>"
    if local is not None and os.path.isfile(local):
        from pathlib import Path

        from roost.net.hashing import file_hashes

        digest = file_hashes(Path(local))["sha256"]
    where = (
        "write it in a requirements file with"
        if parsed.origin == "command line"
        else "add to its line"
    )
    return (
        "an archive without a --hash (an archive is checked before it is unpacked or "
        f"built): {where} --hash=sha256:{digest}"
    )


def check_sources(requirements: Sequence[ParsedRequirement]) -> None:
    """Refuse, before anything is fetched or built, the sources hash-checking mode cannot
    check: directories, editables, VCS URLs, and archives without a ``--hash``."""
    problems = []
    for parsed in requirements:
        why = _unhashable(parsed)
        if why is not None:
            shown = parsed.line
            if parsed.editable and not shown.startswith("-e"):
                shown = f"-e {shown}"
            problems.append(f"  {shown} ({parsed.origin}) is {why}.")
    if problems:
        raise HashMismatchError(
            "hash-checking mode cannot verify these requirements, so nothing was built "
            "or installed:\n" + "\n".join(problems) + "\n" + _TURNED_ON
        )


def unvouched_source(display: str, sha256: str | None) -> HashMismatchError:
    """The refusal to build (or prepare the metadata of) a source no ``--hash`` vouched for."""
    if sha256 is None:
        return HashMismatchError(
            f"hash-checking mode: {display} has no hash to check (a directory or a "
            "checkout), so roost will not build it.\n" + _TURNED_ON
        )
    from packaging.utils import InvalidSdistFilename, parse_sdist_filename

    filename = urllib.parse.unquote(urllib.parse.urlsplit(display).path.rsplit("/", 1)[-1])
    try:
        name, version = parse_sdist_filename(filename)
        line = f"{name}=={version} --hash=sha256:{sha256}"
    except InvalidSdistFilename:
        line = f"--hash=sha256:{sha256} (on the line that brings {filename})"
    return HashMismatchError(
        f"hash-checking mode: {redact_url(display)} has no --hash, so roost will neither "
        "build it nor run its build backend. The file downloaded for it has the hash "
        f"shown; add this to your requirements file once you trust that file:\n    {line}"
        "\n" + _TURNED_ON
    )


def _build_pins(
    constraints: Sequence[ParsedRequirement],
) -> dict[str, tuple[bool, dict[str, tuple[str, ...]], list[ParsedRequirement]]]:
    """Per project: whether a build constraint pins it with ``==``, the ``--hash``
    values its lines give (any one may match), and the lines."""
    found: dict[str, tuple[bool, dict[str, tuple[str, ...]], list[ParsedRequirement]]] = {}
    for line in constraints:
        if line.requirement is None:
            continue
        key = canonicalize_name(line.requirement.name)
        pinned, hashes, lines = found.get(key, (False, {}, []))
        for algorithm, values in line.hashes.items():
            hashes[algorithm] = (*hashes.get(algorithm, ()), *values)
        found[key] = (pinned or is_pinned(line), hashes, [*lines, line])
    return found


def _matches(actual: Mapping[str, str], hashes: Mapping[str, tuple[str, ...]]) -> bool:
    return any(
        actual[name].lower() in {v.lower() for v in values} for name, values in hashes.items()
    )


def check_build_hashes(
    todo: Sequence[Candidate],
    constraints: Sequence[ParsedRequirement],
    fetcher: Fetcher,
    *,
    required: bool,
    why: str,
) -> None:
    """What a build environment is about to install, held to the build constraints.

    A file whose project has a build constraint with ``--hash`` must match one of
    those hashes. In hash-checking mode (*required*) every file must have such a
    constraint, pinned with ``==``; the error lists each one that has not, with a line
    to paste into a build constraints file.
    """
    from roost.net.hashing import file_hashes

    pins = _build_pins(constraints)
    missing = []
    to_verify = []
    for candidate in todo:
        if candidate.file is None:
            continue
        link = candidate.file.link
        name = canonicalize_name(candidate.name)
        pinned, hashes, lines = pins.get(name, (False, {}, []))
        if required and not (pinned and hashes):
            if not lines:
                reason = f"no build constraint names {name}"
            elif not pinned:
                reason = "its build constraint is not pinned with ==: " + ", ".join(
                    f"{line.line} ({line.origin})" for line in lines
                )
            else:
                reason = "its build constraint has no --hash: " + ", ".join(
                    f"{line.line} ({line.origin})" for line in lines
                )
            missing.append(
                f"    {name}=={candidate.version} --hash=sha256:{fetcher.wheel_sha256(link)}"
                f"\n      ({reason})"
            )
        elif hashes:
            # Checked as the file arrives, if it has not arrived yet.
            fetcher.pinned[link.url] = hashes
            index_sha256 = link.hashes.get("sha256", "").lower()
            if index_sha256 not in {v.lower() for v in hashes.get("sha256", ())}:
                # The file may have arrived (for its metadata) before it was pinned; a
                # file the index's sha256 was checked on and that the user's sha256
                # equals needs no second look, any other only its bytes can tell.
                to_verify.append((candidate, hashes))
    if missing:
        raise HashMismatchError(
            f"hash-checking mode is on, so what a build environment installs must be pinned "
            "with == and hashed by a build constraint, and these distributions for the "
            f"build's {why} are not. The files downloaded for them have the hashes shown; "
            "put lines like these in a file given with --build-constraint FILE (or "
            "PIP_BUILD_CONSTRAINT) once you trust those files:\n"
            + "\n".join(missing)
            + "\n"
            + _TURNED_ON
        )
    for candidate, hashes in to_verify:
        assert candidate.file is not None
        path = fetcher.wheel(candidate.file.link).result()
        actual = file_hashes(path, tuple(hashes))
        if not _matches(actual, hashes):
            wanted = "\n".join(
                f"    expected {n}:{v}" for n, values in hashes.items() for v in values
            )
            got = "\n".join(f"         got {n}:{h}" for n, h in actual.items())
            raise HashMismatchError(
                f"{candidate.file.link.filename} (for the build's {why}) does not match any "
                f"--hash its build constraint gives:\n{wanted}\n{got}\nNothing was "
                "installed. If you updated the version, update the hash too; otherwise "
                "someone may have tampered with the file: examine it before trusting it."
            )
