"""``roost install``, in DESIGN's order: gather, target, scheme, guard, build, resolve,
fetch, install under the environment's lock, post-install hooks.

Each stage (:mod:`roost.flows.stages`) takes the previous stage's typed result and the
:class:`~roost.flows.stages.InstallRequest` made once from the command line.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roost.errors import InstallError
from roost.flows.request import InstallRequest
from roost.flows.stages import (
    VIEW_ATTEMPTS,
    EnvironmentChanged,
    Helpers,
    check_before_fetching,
    choose_scheme,
    recover_interrupted,
    resolve_and_install,
)

if TYPE_CHECKING:
    from roost.build.builder import Builder
    from roost.flows.gather import Session
    from roost.flows.invocation import Invocation
    from roost.manager import Manager
    from roost.store.fetch import Fetcher
    from roost.types import Target
    from roost.util.output import Output


def run_install(invocation: Invocation) -> None:
    """``roost install``: the stages, each fed by the one before."""
    from roost.flows.environment import load_target
    from roost.flows.gather import gather, index_sources, session
    from roost.flows.install_output import InstallLines
    from roost.flows.sdists import SourceDistributions

    manager, out = invocation.manager, invocation.out
    inputs = gather(invocation)
    request = InstallRequest.from_gathered(inputs)
    # Made before sources are built: pip's lines name them as the user wrote them.
    lines = InstallLines(request.requirements, out)
    helpers = Helpers.start(request, out)
    if helpers.placer is not None:
        invocation.on_close(helpers.placer.close)
    target = load_target(invocation, inputs.params, request.settings)
    scheme = choose_scheme(manager, target, request)
    out.detail(f"target: {target.executable} (Python {target.full_version})")
    out.detail(f"scheme: {scheme.name}: {scheme.purelib}")
    recover_interrupted(request, scheme, out)
    sources = index_sources(manager, request.settings, request.requirements, out, target=target)
    scratch = Path(tempfile.mkdtemp(prefix="roost-build-"))
    with session(manager, request.settings, sources, target, params=inputs.params, out=out) as net:
        try:
            # Sources are built before anything is locked or resolved; the guard has
            # already said yes to the target.
            builder = lazy_builder(
                request, manager=manager, target=target, net=net, out=out, scratch=scratch
            )
            request = build_stage(request, inputs.params, builder=builder, fetcher=net.fetcher)
            sdists = SourceDistributions(builder, net.fetcher, scratch)
            for _attempt in range(VIEW_ATTEMPTS):
                try:
                    done = resolve_and_install(
                        request,
                        net,
                        target=target,
                        scheme=scheme,
                        helpers=helpers,
                        manager=manager,
                        out=out,
                        sdists=sdists,
                        checked=lambda todo: check_before_fetching(
                            request, todo, net, target, out
                        ),
                        lines=lines,
                    )
                    break
                except EnvironmentChanged:
                    out.detail(
                        "another run changed the environment while this one resolved; "
                        "resolving again against what is installed now"
                    )
            else:
                raise InstallError(
                    f"the environment changed under this install {VIEW_ATTEMPTS} times "
                    "(other roost runs keep installing into it); nothing was changed by "
                    "this run. Try again when they are done."
                )
        finally:
            helpers.stop()
            shutil.rmtree(scratch, ignore_errors=True)
    if done is None:
        return
    manager.post_install(target, scheme, done, request.options)
    lines.installed(done)


def lazy_builder(
    request: InstallRequest,
    *,
    manager: Manager,
    target: Target,
    net: Session,
    out: Output,
    scratch: Path,
) -> Callable[[], Builder]:
    """The run's builder, made the first time something must be built: most installs
    build nothing, and need not import the build machinery (tarfile and friends)."""

    @functools.cache
    def builder() -> Builder:
        from roost.build.builder import src_folder
        from roost.flows.build_env import make_builder

        # -e of a VCS URL checks out into --src: pip's default is <venv>/src, else ./src.
        src = src_folder(request.options.get("src"), prefix=target.prefix, is_venv=target.is_venv)
        built = replace(request, build=replace(request.build, src_dir=str(src)))
        return make_builder(
            built, manager=manager, target=target, net=net, out=out, scratch=scratch
        )

    return builder


def build_stage(
    request: InstallRequest,
    params: dict[str, Any],
    *,
    builder: Callable[[], Builder],
    fetcher: Fetcher,
) -> InstallRequest:
    """*request* with every requirement that names a source built into a wheel."""
    from roost.flows.builds import build_sources, needs_build

    if not any(needs_build(parsed) for parsed in request.requirements):
        return request
    built = build_sources(
        request.requirements,
        builder=builder(),
        fetcher=fetcher,
        config_settings=params.get("config_settings", ()),
        max_builds=params.get("max_builds"),
    )
    return replace(
        request,
        requirements=built.requirements,
        direct_urls={**request.direct_urls, **built.direct_urls},
    )
