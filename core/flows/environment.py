"""What a read-only command (list, freeze, show, check) sees of the target environment.

pip run with ``--python`` reads the target interpreter's ``sys.path``; roost reads
the same directories, from the introspected target, without importing anything
from them. The facts pip derives from a distribution (editable or not, user site
or not, its active dependencies) live here so every command answers the same way.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click
from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from roost.flows.invocation import Invocation
from roost.target.installed import InstalledDist, scan
from roost.types import Scheme, Settings, Target, file_url_path

#: Names pip never reports (old stdlib back-ports that once had metadata).
STDLIB_NAMES = frozenset({"python", "wsgiref", "argparse"})


@dataclass(frozen=True)
class Context:
    """Settings, option values (with config defaults applied) and the target of a command."""

    settings: Settings
    params: dict[str, Any]
    target: Target


def load_context(invocation: Invocation) -> Context:
    """Settings and target of the command, found exactly as ``roost install`` finds them."""
    settings = invocation.settings()
    params = invocation.params_for(settings)
    return Context(settings, params, load_target(invocation, params, settings))


def load_target(invocation: Invocation, params: dict[str, Any], settings: Settings) -> Target:
    """The target interpreter, found and probed as every command finds it."""
    from roost.target.interpreter import find_target, introspect
    from roost.util.cache import cache_root

    python = params.get("python") or invocation.default_python
    executable = find_target(python, cwd=Path.cwd(), env=os.environ)
    root = cache_root(settings)
    return introspect(executable, cache_dir=root)


def check_path_option(params: dict[str, Any]) -> None:
    """``--path`` names the directories itself, so it cannot be narrowed further."""
    if params.get("path") and (params.get("user") or params.get("local")):
        raise click.UsageError("--path cannot be combined with --user or --local")


def search_paths(target: Target, paths: Sequence[str] = ()) -> list[str]:
    """The directories to read: ``--path`` values, else the target's ``sys.path``."""
    if paths:
        return [os.path.abspath(path) for path in paths]
    return with_user_site(target)


def with_user_site(target: Target) -> list[str]:
    """The target's ``sys.path``, with its user site if that exists now.

    Python puts the user site on ``sys.path`` only when the directory exists at
    start-up, so a description cached before the first ``--user`` install lacks
    it. It goes where ``site`` puts it: after a venv's own site-packages, else
    before the first site-packages directory.
    """
    paths = list(target.sys_path)
    user_site = target.user_site
    if not (target.user_site_enabled and user_site and os.path.isdir(user_site)):
        return paths
    if any(_real(entry) == _real(user_site) for entry in paths if entry):
        return paths
    if target.is_venv:
        own = [i for i, entry in enumerate(paths) if entry and _under(entry, target.prefix)]
        position = own[-1] + 1 if own else len(paths)
    else:
        sites = [
            i
            for i, entry in enumerate(paths)
            if os.path.basename(entry.rstrip(os.sep)) in ("site-packages", "dist-packages")
        ]
        position = sites[0] if sites else len(paths)
    paths.insert(position, user_site)
    return paths


def installed_view(target: Target, scheme: Scheme, explicit_location: bool) -> list[str]:
    """Directories whose distributions count as already installed for this install."""
    if explicit_location:
        return list(dict.fromkeys((scheme.purelib, scheme.platlib)))
    # The cached description of the target may predate its user site folder.
    paths = with_user_site(target)
    for extra in (scheme.purelib, scheme.platlib):
        if extra not in paths:
            paths.insert(0, extra)
    return paths


def _real(path: str | Path) -> str:
    return os.path.normcase(os.path.realpath(path))


def _under(path: str | Path, root: str | Path) -> bool:
    path_text, root_text = _real(path), _real(root)
    return path_text == root_text or path_text.startswith(root_text.rstrip(os.sep) + os.sep)


def in_user_site(dist: InstalledDist, target: Target) -> bool:
    """Whether *dist* is installed in the target's user site."""
    return bool(target.user_site) and _under(dist.location, target.user_site)


def is_local(dist: InstalledDist, target: Target) -> bool:
    """pip's ``--local``: inside the venv's prefix (always true outside a venv)."""
    return not target.is_venv or _under(dist.location, target.prefix)


def distributions(
    target: Target,
    *,
    paths: Sequence[str] = (),
    user_only: bool = False,
    local_only: bool = False,
    skip: Iterable[str] = STDLIB_NAMES,
) -> list[InstalledDist]:
    """Distributions visible to *target* (first of a name on the path wins), filtered."""
    skipped: set[str] = {canonicalize_name(name) for name in skip}
    found = []
    for dist in scan(search_paths(target, paths)):
        if dist.key in skipped:
            continue
        if user_only and not in_user_site(dist, target):
            continue
        if local_only and not is_local(dist, target):
            continue
        found.append(dist)
    return found


def direct_url(dist: InstalledDist) -> dict[str, Any] | None:
    """The PEP 610 ``direct_url.json`` of *dist*, or None when absent or unusable."""
    text = dist.read_text("direct_url.json")
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return None
    kinds = [key for key in ("archive_info", "dir_info", "vcs_info") if key in data]
    if len(kinds) != 1 or not isinstance(data[kinds[0]], dict):
        return None
    return data


def editable_location(dist: InstalledDist) -> str | None:
    """The project directory of an editable install (PEP 610 ``dir_info.editable``)."""
    data = direct_url(dist)
    if data is None:
        return None
    info = data.get("dir_info")
    if isinstance(info, dict) and info.get("editable") and data["url"].startswith("file:"):
        return file_url_path(data["url"])
    return None


def _marker_true(requirement: Requirement, environment: dict[str, str]) -> bool:
    if requirement.marker is None:
        return True
    try:
        return requirement.marker.evaluate(environment)
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return False


def active_requires(dist: InstalledDist, target: Target) -> list[Requirement]:
    """Requirements of *dist* without extras whose markers hold on *target*."""
    environment = {**target.markers, "extra": ""}
    return [req for req in dist.requires if _marker_true(req, environment)]


def display_version(dist: InstalledDist) -> str:
    """The version as pip prints it: normalised when it is a valid PEP 440 version."""
    parsed = dist.parsed_version
    return dist.version if parsed is None else str(parsed)


def exit_quietly(code: int) -> NoReturn:
    """End the command with exit status *code* and no further message.

    ``ctx.exit`` would be the click way, but ``roost.cli.main.main`` runs the group with
    ``standalone_mode=False`` and drops the status click returns for it.
    """
    raise SystemExit(code)
