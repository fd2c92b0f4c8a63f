"""What an install was asked to do: the typed request, read once from options and settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from roost.build import BuildOptions
from roost.errors import ConfigError
from roost.types import Options, Settings

if TYPE_CHECKING:
    from roost.flows.gather import Gathered
    from roost.resolve.candidates import Policy
    from roost.resolve.reqfile import RequirementsFile
    from roost.resolve.requirement_line import ParsedRequirement


@dataclass(frozen=True)
class InstallRequest:
    """What ``roost install`` was asked to do, read once from the options and settings."""

    settings: Settings
    options: Options
    requirements: list[ParsedRequirement]
    policy: Policy
    #: Hash-checking mode: ``--require-hashes``, or any ``--hash`` in a file.
    hashed: bool
    dry_run: bool
    ignore_installed: bool
    #: ``--report`` (a path, or ``-`` for stdout).
    report: str | None
    link_mode: str | None
    #: Any of ``--target``, ``--prefix``, ``--root``: only that location counts.
    explicit_location: bool
    root: str | None
    lock_timeout: float | None
    #: How sources are built (``--no-build-isolation``, ``-C``, ...).
    build: BuildOptions = field(default_factory=BuildOptions)
    #: ``direct_url.json`` of wheels built from sources, by the wheel's URL.
    direct_urls: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    #: ``--build-constraint`` lines: they (not ``-c``) constrain build environments.
    build_constraints: tuple[ParsedRequirement, ...] = ()
    #: Warn about installed distributions the install leaves with unmet requirements
    #: (pip's default; off with ``--no-warn-conflicts`` or ``--no-deps``).
    warn_conflicts: bool = True

    @classmethod
    def from_gathered(cls, inputs: Gathered) -> InstallRequest:
        """The request of any resolving command (options it lacks take their defaults)."""
        from roost.flows.builds import read_build_constraints
        from roost.flows.groups import only_deps
        from roost.resolve.candidates import Policy, binary_policy
        from roost.resolve.plan import constraint_map
        from roost.resolve.release_policy import choices_from_params, cutoff_from_params

        params = inputs.params
        hashed = require_hashes(params, inputs.settings, inputs.files)
        if hashed:
            from roost.resolve.hash_mode import check_sources

            check_sources(inputs.requirements)
        return cls(
            settings=inputs.settings,
            options=Options("install", params),
            requirements=inputs.requirements,
            policy=Policy(
                upgrade=bool(params.get("upgrade")),
                eager=bool(params.get("upgrade")) and params.get("upgrade_strategy") == "eager",
                force_reinstall=bool(params.get("force_reinstall")),
                pre=bool(params.get("pre")),
                no_deps=bool(params.get("no_deps")),
                constraints=constraint_map(inputs.constraints),
                no_binary=binary_policy(params.get("no_binary", ())),
                only_binary=binary_policy(params.get("only_binary", ())),
                prefer_binary=bool(params.get("prefer_binary")),
                ignore_requires_python=bool(params.get("ignore_requires_python")),
                releases=choices_from_params(params),
                uploaded_before=cutoff_from_params(params),
                only_deps=only_deps(params),
            ),
            hashed=hashed,
            dry_run=bool(params.get("dry_run")),
            ignore_installed=bool(params.get("ignore_installed")),
            report=params.get("report"),
            link_mode=params.get("link_mode"),
            explicit_location=bool(
                params.get("target_dir") or params.get("prefix") or params.get("root")
            ),
            root=params.get("root"),
            lock_timeout=params.get("lock_timeout"),
            build=BuildOptions(
                isolation=not params.get("no_build_isolation"),
                check_build_dependencies=bool(params.get("check_build_dependencies")),
                settings=inputs.settings,
            ),
            build_constraints=read_build_constraints(params, inputs.settings),
            warn_conflicts=not params.get("no_warn_conflicts") and not params.get("no_deps"),
        )


def require_hashes(
    params: dict[str, Any], settings: Settings, files: list[RequirementsFile]
) -> bool:
    """Hash-checking mode: ``--require-hashes``, or any ``--hash`` in a requirements file.

    ``--no-require-hashes`` keeps a ``--hash`` from turning the mode on (the file it
    names is still checked against it); with ``--require-hashes`` set anywhere as well
    (command line, settings, a file's own line) the two contradict each other, and
    that is an error, as in pip.

    :raises ConfigError: both are set.
    """
    asked = bool(params.get("require_hashes")) or settings.get_bool("require-hashes")
    if params.get("no_require_hashes") or settings.get_bool("no-require-hashes"):
        if asked:
            where = settings.origin("require-hashes") or "the command line"
            raise ConfigError(
                f"--require-hashes (from {where}) and --no-require-hashes ask for "
                "hash-checking mode both on and off: drop one of them"
            )
        return False
    return asked or any(f.require_hashes for f in files)
