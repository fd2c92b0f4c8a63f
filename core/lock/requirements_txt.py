"""A lock written in pip-compile's format: ``name==version``, with ``--hash`` lines.

For the tools that read requirements files only. Each index package is pinned with
``==`` and, with hashes, followed by the sha256 of every file the lock lists for it (its
wheels and sdist), so ``pip install --require-hashes -r`` takes exactly those. Sources
are written as pip writes them: ``-e path`` for an editable directory, ``name @ URL``
for the rest. A package that only some locked environments need gets the part of its
marker about environments as a ``; marker`` suffix; dependency groups have no place in
this format, and every group locked is written.
"""

from __future__ import annotations

import os
from pathlib import Path

from roost.lock.document import Lock, LockedFile, LockedPackage


def dumps_requirements(lock: Lock, *, hashes: bool, lock_dir: Path, header: str) -> str:
    """The requirements file of *lock*, its paths made absolute from *lock_dir*."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for package in sorted(lock.packages, key=LockedPackage.sort_key):
        line = _line(package, lock_dir)
        if package.environment_marker:
            line += f" ; {package.environment_marker}"
        digests = sorted(_sha256s(package)) if hashes else []
        if digests:
            lines.append(line + " \\")
            body = [f"    --hash=sha256:{digest}" for digest in digests]
            lines.append(" \\\n".join(body))
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def _line(package: LockedPackage, lock_dir: Path) -> str:
    if package.directory is not None:
        path = _absolute(package.directory.path, lock_dir)
        if package.directory.editable:
            return f"-e {path}"
        return f"{package.name} @ {Path(path).as_uri()}"
    if package.vcs is not None:
        vcs = package.vcs
        where = vcs.url or Path(_absolute(vcs.path or ".", lock_dir)).as_uri()
        line = f"{package.name} @ {vcs.type}+{where}@{vcs.commit_id}"
        if vcs.subdirectory:
            line += f"#subdirectory={vcs.subdirectory}"
        return line
    if package.archive is not None:
        archive = package.archive
        where = archive.url or Path(_absolute(archive.path or ".", lock_dir)).as_uri()
        line = f"{package.name} @ {where}"
        if package.archive_subdirectory:
            line += f"#subdirectory={package.archive_subdirectory}"
        return line
    return f"{package.name}=={package.version}"


def _absolute(path: str, lock_dir: Path) -> str:
    return os.path.normpath(lock_dir / path)


def _sha256s(package: LockedPackage) -> set[str]:
    files: list[LockedFile] = list(package.wheels)
    if package.sdist is not None:
        files.append(package.sdist)
    if package.archive is not None:
        files.append(package.archive)
    return {f.hashes["sha256"] for f in files if "sha256" in f.hashes}
