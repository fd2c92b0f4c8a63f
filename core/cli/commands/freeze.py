"""``roost freeze``: installed distributions in requirements format, as ``pip freeze``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import click

from roost.cli.options import environment_filter_options, python_option
from roost.resolve.reqfile import without_comment
from roost.util.output import Output

if TYPE_CHECKING:
    from pathlib import Path

    from roost.build.vcs import Backend
    from roost.target.installed import InstalledDist
    from roost.types import Target

#: pip's comment rule: ``#`` at the start of a line or after whitespace.
_EGG_RE = re.compile(r"[#&]egg=([^&]*)")
#: Lines of a ``-r`` file that are copied through once, as pip copies them.
_OPTION_PREFIXES = (
    "-r",
    "--requirement",
    "-f",
    "--find-links",
    "-i",
    "--index-url",
    "--pre",
    "--trusted-host",
    "--process-dependency-links",
    "--extra-index-url",
    "--use-feature",
)
#: The line that separates a ``-r`` file's entries from the rest: pip's, word for word,
#: since CI jobs diff roost's freeze against pip's (and tools look for this line).
ADDED_HEADER = "## The following requirements were added by pip freeze:"


def dev_packages(target: Target) -> frozenset[str]:
    """What freeze hides without ``--all``: pip, and before 3.12 the build tools too.

    pip ≥ 23.1 decides by the Python it runs on, which with ``--python`` is the
    target, so roost asks the target's version.
    """
    if target.version[:2] < (3, 12):
        return frozenset({"pip", "setuptools", "distribute", "wheel"})
    return frozenset({"pip"})


def requirement_line(dist: InstalledDist, warn: Callable[[str], None] = lambda _: None) -> str:
    """How freeze writes one distribution (possibly several lines, for editables)."""
    from packaging.version import InvalidVersion, Version

    from roost.flows.environment import direct_url, editable_location

    editable = editable_location(dist)
    if editable is not None:
        comments, reference = editable_reference(dist, editable, warn)
        return "\n".join([*comments, f"-e {reference}"])
    data = direct_url(dist)
    if data is None:
        try:
            Version(dist.version)
        except InvalidVersion:
            return f"{dist.name}==={dist.version}"
        return _pinned(dist)
    fragments = []
    vcs = data.get("vcs_info")
    if isinstance(vcs, dict):
        reference = f"{vcs.get('vcs')}+{data['url']}@{vcs.get('commit_id')}"
    else:
        reference = data["url"]
        archive = data.get("archive_info")
        if isinstance(archive, dict) and isinstance(archive.get("hash"), str):
            fragments.append(archive["hash"])
    if isinstance(data.get("subdirectory"), str):
        fragments.append("subdirectory=" + data["subdirectory"])
    if fragments:
        reference += "#" + "&".join(fragments)
    return f"{dist.name} @ {reference}"


def _project_subdirectory(location: str, repo_root: str) -> str | None:
    """Where the project (pyproject.toml or setup.py) holding *location* is, relative
    to the repository root; None at the root or when there is none (pip's rule)."""
    import os

    current = location
    while not any(
        os.path.isfile(os.path.join(current, f)) for f in ("pyproject.toml", "setup.py")
    ):
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
    if os.path.samefile(repo_root, current):
        return None
    return os.path.relpath(current, repo_root)


def _repository_of(location: str) -> tuple[Backend, Path] | None:
    """The VCS whose working copy holds *location*, and its root; with several (a git
    repository inside a Mercurial one), the innermost, as pip picks."""
    import os
    from pathlib import Path

    from roost.build.vcs import BACKENDS

    here = Path(location)

    def spelled_here(root: Path) -> Path:
        # Clients answer with the real path; the same folder as an ancestor of
        # *location* keeps relative paths short when a symlink leads there.
        same = (p for p in (here, *here.parents) if p.exists() and os.path.samefile(p, root))
        return next(same, root)

    found = [(b, spelled_here(r)) for b in BACKENDS.values() if (r := b.root(here)) is not None]
    return max(found, key=lambda item: len(str(item[1])), default=None)


def editable_reference(
    dist: InstalledDist, location: str, warn: Callable[[str], None] = lambda _: None
) -> tuple[list[str], str]:
    """Comment lines and the ``-e`` argument for an editable install, as pip writes them.

    A checkout with a remote becomes ``<vcs>+URL@REVISION#egg=NAME`` (git's commit, the
    Mercurial node, the Subversion revision, the Bazaar revno; ``&subdirectory=`` for
    a project below a git or Mercurial root); anything else stays a path, with a
    comment saying why.
    """
    import os
    import urllib.parse
    from pathlib import Path

    from roost.build.vcs import ClientFailed, ClientMissing, NoRemote

    location = os.path.normcase(os.path.abspath(location))
    pinned = _pinned(dist)
    found = _repository_of(location)
    if found is None:
        return [f"# Editable install with no version control ({pinned})"], location
    backend, root = found
    # pip's names for the VCS in these comments are its backend classes' names.
    title = type(backend).__name__
    try:
        url = backend.remote_url(Path(location), location)
        revision = backend.commit_id(Path(location), location)
    except NoRemote as exc:
        if exc.url is None:
            return [f"# Editable {title} install with no remote ({pinned})"], location
        return [
            f"# Editable {title} install ({pinned}) with either a deleted local remote or "
            "invalid URI:",
            f"# '{exc.url}'",
        ], location
    except ClientMissing:
        warn(
            f"cannot tell the revision of the editable source in {location} "
            f"({backend.name} is not on PATH)"
        )
        return [], location
    except ClientFailed as exc:
        warn(f"cannot tell where the editable source in {location} comes from: {exc.message}")
        return ["## !! Could not determine repository location"], location
    if not url.lower().startswith((f"{backend.name}:", f"{backend.name}+")):
        url = f"{backend.name}+{url}"
    reference = f"{url}@{urllib.parse.quote(revision, '/')}#egg={dist.name.replace('-', '_')}"
    # Only git and Mercurial find their root from a folder below it (as in pip).
    subdirectory = (
        _project_subdirectory(location, str(root)) if backend.name in ("git", "hg") else None
    )
    if subdirectory:
        reference += f"&subdirectory={subdirectory}"
    return [], reference


def _pinned(dist: InstalledDist) -> str:
    from roost.flows.environment import display_version

    return f"{dist.name}=={display_version(dist)}"


def _line_name(line: str, origin: str) -> str | None:
    """The project a ``-r`` file line names, or None when it names none."""
    from roost.resolve.requirement_line import parse_requirement_line

    text = without_comment(line).strip()
    if text.startswith(("-e", "--editable")):
        match = _EGG_RE.search(text)
        return match.group(1) if match else None
    parsed = parse_requirement_line(text, origin)
    return parsed.requirement.name if parsed.requirement is not None else None


def freeze_lines(
    dists: Sequence[InstalledDist],
    *,
    requirement_files: Sequence[str] = (),
    skip: Iterable[str] = (),
    exclude_editable: bool = False,
    warn: Callable[[str], None] = lambda _: None,
) -> Iterator[str]:
    """The lines ``roost freeze`` prints, in pip's order.

    With *requirement_files*, their lines come first in their order (comments and
    the options pip copies are kept, each distinct one once), then
    :data:`ADDED_HEADER` and everything else installed.
    """
    from packaging.utils import canonicalize_name

    from roost.flows.environment import editable_location

    remaining: dict[str, InstalledDist] = {}
    for dist in dists:
        if exclude_editable and editable_location(dist) is not None:
            continue
        remaining[dist.key] = dist
    if requirement_files:
        emitted: set[str] = set()
        seen_in: dict[str, list[str]] = {}
        for path in requirement_files:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
            for number, line in enumerate(lines, 1):
                stripped = line.strip()
                if not stripped or stripped.startswith("#") or line.startswith(_OPTION_PREFIXES):
                    kept = line.rstrip()
                    if kept not in emitted:
                        emitted.add(kept)
                        yield kept
                    continue
                name = _line_name(line, f"{path}:{number}")
                if name is None:
                    warn(
                        f"skipping line {number} of {path}: it does not say which project "
                        f"it installs (add #egg=NAME to the URL): {stripped}"
                    )
                    continue
                key: str = canonicalize_name(name)
                files = seen_in.setdefault(key, [])
                if key in remaining:
                    yield requirement_line(remaining.pop(key), warn)
                elif not files:
                    warn(
                        f"Requirement file [{path}] contains "
                        f"{without_comment(line).strip()}, but package {name!r} "
                        "is not installed"
                    )
                files.append(path)
        for key, files in seen_in.items():
            if len(files) > 1:
                warn(
                    f"Requirement {key} included multiple times [{', '.join(sorted(set(files)))}]"
                )
        yield ADDED_HEADER
    skipped: set[str] = {canonicalize_name(name) for name in skip}
    for dist in sorted(remaining.values(), key=lambda d: d.name.lower()):
        if dist.key not in skipped:
            yield requirement_line(dist, warn)


def freeze_command() -> click.Command:
    @click.command("freeze")
    @click.option(
        "-r",
        "--requirement",
        "requirement_files",
        multiple=True,
        metavar="FILE",
        help="Keep the order and comments of FILE; list the rest after it (repeatable).",
    )
    @environment_filter_options
    @click.option(
        "--all",
        "freeze_all",
        is_flag=True,
        help="Also list pip (and, before Python 3.12, setuptools, wheel and distribute).",
    )
    @click.option("--exclude-editable", is_flag=True, help="Leave editable installs out.")
    @click.option("--exclude", multiple=True, metavar="NAME", help="Leave NAME out (repeatable).")
    @python_option
    @click.pass_context
    def freeze(ctx: click.Context, /, **_: Any) -> None:
        """Print installed distributions in requirements format."""
        from roost.cli.invocation import invocation
        from roost.flows.environment import (
            STDLIB_NAMES,
            check_path_option,
            distributions,
            load_context,
        )

        out = ctx.find_object(Output) or Output()
        context = load_context(invocation(ctx, "freeze"))
        params = context.params
        check_path_option(params)
        skip = set(STDLIB_NAMES) | set(params["exclude"])
        if not params["freeze_all"]:
            skip |= dev_packages(context.target)
        dists = distributions(
            context.target,
            paths=params["path"],
            user_only=params["user"],
            local_only=params["local"],
            skip=(),
        )
        for line in freeze_lines(
            dists,
            requirement_files=params["requirement_files"],
            skip=skip,
            exclude_editable=params["exclude_editable"],
            warn=out.warning,
        ):
            click.echo(line)

    return freeze
