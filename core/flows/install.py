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

from roost.errors import ConfigError, InstallError
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
    from roost.resolve.candidates import Policy
    from roost.resolve.requirement_line import ParsedRequirement
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
    if not inputs.requirements:
        return  # requirements files that name nothing: nothing to do, as with pip
    request = InstallRequest.from_gathered(inputs)
    foreign = for_another_machine(inputs.params, request)
    # Made before sources are built: pip's lines name them as the user wrote them.
    lines = InstallLines(request.requirements, out)
    helpers = Helpers.start(request, out)
    if helpers.placer is not None:
        invocation.on_close(helpers.placer.close)
    here = load_target(invocation, inputs.params, request.settings)
    target = here
    if foreign:
        from roost.target.foreign import foreign_target

        target = foreign_target(
            here,
            platforms=inputs.params.get("platforms") or (),
            python_version=inputs.params.get("python_version"),
            implementation=inputs.params.get("implementation"),
            abis=inputs.params.get("abis") or (),
        )
        out.detail(f"resolving for Python {target.full_version}, tags like {target.tags[0]}")
    scheme = choose_scheme(manager, target, request)
    out.detail(f"target: {target.executable} (Python {target.full_version})")
    out.detail(f"scheme: {scheme.name}: {scheme.purelib}")
    recover_interrupted(request, scheme, out)
    sources = index_sources(manager, request.settings, request.requirements, out, target=here)
    scratch = Path(tempfile.mkdtemp(prefix="roost-build-"))
    with session(manager, request.settings, sources, target, params=inputs.params, out=out) as net:
        try:
            # Sources are built before anything is locked or resolved; the guard has
            # already said yes to the target.
            builder = lazy_builder(
                request, manager=manager, target=target, net=net, out=out, scratch=scratch
            )
            request = build_stage(request, inputs.params, builder=builder, fetcher=net.fetcher)
            # Another machine's sdists cannot be built here (pip asks for
            # --only-binary=:all: or --no-deps then): only wheels are candidates.
            sdists = None if foreign else SourceDistributions(builder, net.fetcher, scratch)
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
    if request.warn_conflicts:
        from roost.flows.check import warn_after_install

        warn_after_install(
            done, target, scheme, explicit_location=request.explicit_location, out=out
        )
    lines.installed(done)


#: The options that describe another machine, as the command line spells them.
FOREIGN_OPTIONS = "--platform, --python-version, --implementation and --abi"


def for_another_machine(params: dict[str, Any], request: InstallRequest) -> bool:
    """Whether the install resolves for another machine, once pip's conditions hold:
    nothing may need building here (``--only-binary=:all:`` without ``--no-binary``,
    or ``--no-deps``), and nothing is installed into this environment (``--target``,
    or ``--dry-run``).

    :raises ConfigError: one of them does not hold.
    """
    if not check_nothing_built_for_foreign(params, request.policy):
        return False
    if not request.dry_run and not params.get("target_dir"):
        raise ConfigError(
            f"{FOREIGN_OPTIONS} describe another machine: what is resolved for it can go "
            "only into a --target DIR (or be shown with --dry-run), not into this "
            "environment"
        )
    refuse_sources(request.requirements)
    return True


def check_nothing_built_for_foreign(params: dict[str, Any], policy: Policy) -> bool:
    """Whether *params* describe another machine (install's and download's check, as
    pip's): then nothing may need building here, so ``--only-binary=:all:`` without
    ``--no-binary``, or ``--no-deps``, must be given.

    :raises ConfigError: they describe one, and neither is given.
    """
    if not any(
        params.get(key) for key in ("platforms", "python_version", "implementation", "abis")
    ):
        return False
    if not policy.no_deps and (policy.only_binary != {"*"} or policy.no_binary):
        raise ConfigError(
            f"{FOREIGN_OPTIONS} describe another machine, and sources cannot be built "
            "here for it: add --only-binary=:all: (and no --no-binary), or --no-deps"
        )
    return True


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


def refuse_sources(requirements: list[ParsedRequirement]) -> None:
    from roost.flows.builds import needs_build

    for parsed in requirements:
        if needs_build(parsed):
            raise ConfigError(
                f"{parsed.origin}: {parsed.line} must be built to learn its dependencies, "
                "and a build runs for this machine, not for the --platform, "
                "--python-version, --implementation or --abi asked for. Leave those "
                "options out, or name a wheel."
            )
