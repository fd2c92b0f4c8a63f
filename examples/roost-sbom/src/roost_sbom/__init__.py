"""roost-sbom: a CycloneDX SBOM of the environment after every ``roost install``, and
``roost sbom`` to print one on demand.

roost imports this module on every start, to build its command line: it imports only
click and roost's hook marker, and everything else when an SBOM is actually made.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from roost import hookimpl

if TYPE_CHECKING:
    from roost.types import InstalledDistribution, Options, Scheme, Target

__all__ = ["roost_add_commands", "roost_add_options", "roost_post_install"]


@hookimpl
def roost_add_options(command: str) -> Sequence[click.Option]:
    """``--sbom FILE`` and ``--no-sbom`` for ``roost install``."""
    if command != "install":
        return []
    return [
        click.Option(
            # --sbom-path names the setting (ROOST_SBOM_PATH, sbom-path in roost's config)
            # whether roost takes an option's first long name or its longest.
            ["--sbom-path", "--sbom", "sbom_path"],
            metavar="FILE",
            help="Write the environment's CycloneDX SBOM to FILE (XML for *.xml, else JSON) "
            "instead of <environment>/sbom.cdx.json.",
        ),
        click.Option(
            ["--no-sbom", "no_sbom"],
            is_flag=True,
            default=False,
            help="Write no SBOM after this install.",
        ),
    ]


@hookimpl
def roost_add_commands() -> Sequence[click.Command]:
    """``roost sbom``."""
    from roost_sbom.command import sbom_command

    return [sbom_command()]


@hookimpl
def roost_post_install(
    target: Target,
    scheme: Scheme,
    installed: Sequence[InstalledDistribution],
    options: Options,
) -> None:
    """Write the SBOM of the environment just installed into; a failure is a warning,
    never a failed install (the packages are in place by now)."""
    # roost's own installs (into a temporary build environment) carry options of their
    # own, without this plugin's: they are not the user's environment.
    if "no_sbom" not in options.values or options.flag("no_sbom"):
        return
    try:
        from roost_sbom.after_install import write_after_install

        write_after_install(target, scheme, options)
    except Exception as exc:  # the last line of defence: see the docstring
        from roost_sbom.messages import warn

        warn(f"roost-sbom: no SBOM was written ({type(exc).__name__}: {exc})")
