"""Filling build environments with roost's own install stages, and checking them.

What a build asks for (``build-system.requires``, then ``get_requires_for_build_*``)
is resolved from the run's indexes, with its credentials, TLS and proxies, and
installed into the build's venv from the unpacked store, so a build environment costs
a few hard links once the backend has been fetched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from roost.build.builder import Builder
from roost.errors import BuildError
from roost.flows.stages import (
    Helpers,
    InstallRequest,
    fetch_stage,
    install_stage,
    installed_now,
    resolve_stage,
    still_to_install,
)
from roost.types import Options, Target
from roost.util.output import Output

if TYPE_CHECKING:
    from roost.flows.gather import Session
    from roost.manager import Manager


def make_builder(
    request: InstallRequest,
    *,
    manager: Manager,
    target: Target,
    net: Session,
    out: Output,
    scratch: Path,
) -> Builder:
    """A builder for *target*'s interpreter whose environments roost fills itself."""

    def installer(python: str, requirements: Sequence[str], why: str) -> None:
        install_for_build(
            python, requirements, why, request=request, manager=manager, net=net, out=out
        )

    from roost.build.wheel_cache import BuiltWheelCache
    from roost.util.cache import cache_root

    root = cache_root(request.settings)
    return Builder(
        manager,
        python=target.executable,
        scratch=scratch,
        installer=installer,
        check=lambda python, reqs, why: check_installed(python, reqs, why, request),
        options=request.build,
        log=out.detail,
        cache=None if root is None else BuiltWheelCache(root / "built"),
        tag=target.tags[0] if target.tags else "",
    )


def _target(python: str, request: InstallRequest) -> Target:
    from roost.target.interpreter import introspect
    from roost.util.cache import cache_root

    return introspect(python, cache_dir=cache_root(request.settings))


def install_for_build(
    python: str,
    requirements: Sequence[str],
    why: str,
    *,
    request: InstallRequest,
    manager: Manager,
    net: Session,
    out: Output,
) -> None:
    """Install *requirements* into the build venv of *python*, quietly, as one install."""
    from roost.flows.fetch_plan import unpacked_store
    from roost.resolve.candidates import Policy
    from roost.resolve.requirement_line import parse_requirement_line

    out.detail(f"installing the build's {why}: {', '.join(requirements)}")
    target = _target(python, request)
    scheme = target.default_scheme
    quiet = Output(verbose=out.verbose, quiet=max(out.quiet, 1))
    sub = replace(
        request,
        options=Options("install", {"progress_bar": "off"}),
        requirements=[parse_requirement_line(text, why) for text in requirements],
        policy=Policy(),
        hashed=False,
        dry_run=False,
        ignore_installed=False,
        report=None,
        explicit_location=False,
        root=None,
        direct_urls={},
    )
    helpers = Helpers(unpacked_store(request.settings), None)
    try:
        installed = installed_now(target, scheme, sub)
        resolution = resolve_stage(
            sub,
            net,
            target=target,
            installed=installed,
            helpers=helpers,
            manager=manager,
            out=quiet,
        )
        todo = still_to_install(resolution, sub, quiet)
        plan, unpacked = fetch_stage(
            sub,
            todo,
            resolution,
            net=net,
            installed=installed,
            scheme=scheme,
            helpers=helpers,
            manager=manager,
            out=quiet,
        )
        if plan:
            install_stage(
                sub,
                plan,
                unpacked,
                installed=installed,
                target=target,
                scheme=scheme,
                helpers=helpers,
                manager=manager,
                out=quiet,
            )
    finally:
        helpers.stop()


def check_installed(
    python: str, requirements: Sequence[str], why: str, request: InstallRequest
) -> None:
    """``--check-build-dependencies``: every requirement is met in *python* already."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    from roost.flows.environment import with_user_site
    from roost.target.installed import index, scan

    target = _target(python, request)
    found = index(scan(with_user_site(target)))
    missing = []
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise BuildError(f"the build's {why} holds an invalid requirement: {exc}") from None
        if requirement.marker is not None and not requirement.marker.evaluate(
            dict(target.markers)
        ):
            continue
        have = found.get(canonicalize_name(requirement.name))  # type: ignore[call-overload]
        if have is None or not requirement.specifier.contains(have.version, prereleases=True):
            missing.append(text if have is None else f"{text} (found {have.version})")
    if missing:
        raise BuildError(
            f"missing build dependencies ({why}): {', '.join(missing)}. Install them into "
            f"{python}, or drop --no-build-isolation."
        )
