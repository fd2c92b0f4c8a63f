"""``roost install``: resolve, download, and install into the target environment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from roost.cli.options import (
    build_options,
    cache_options,
    environment_write_options,
    foreign_target_options,
    hash_mode_options,
    ignore_requires_python_option,
    index_options,
    pip_resolving_options,
    python_option,
    requirement_file_options,
    src_option,
)
from roost.cli.release_options import group_options, release_options
from roost.errors import RoostError


def install_command() -> click.Command:
    @click.command("install")
    @click.argument("requirements", nargs=-1)
    @click.option(
        "-e",
        "--editable",
        "editables",
        multiple=True,
        metavar="PATH/URL",
        help="Install a local project in editable mode (PEP 660): its code is used "
        "from where it is. PATH may end in [extras]; a VCS URL (git+, hg+, svn+, bzr+, "
        "with #egg=NAME) is checked out into --src first.",
    )
    @requirement_file_options("Install from a requirements file (pip's format).")
    @pip_resolving_options
    @python_option
    @index_options
    @click.option("-U", "--upgrade", is_flag=True, help="Upgrade named packages to the newest.")
    @click.option(
        "--upgrade-strategy",
        type=click.Choice(["only-if-needed", "eager"]),
        default="only-if-needed",
        show_default=True,
        help="With -U: upgrade dependencies only when needed, or always (eager).",
    )
    @click.option("--force-reinstall", is_flag=True, help="Reinstall even if up to date.")
    @click.option(
        "-I",
        "--ignore-installed",
        is_flag=True,
        help="Install even what is already installed, without removing it first "
        "(e.g. --user copies of packages the base Python has).",
    )
    @click.option(
        "--no-deps", "--no-dependencies", is_flag=True, help="Do not install dependencies."
    )
    @click.option("--pre", is_flag=True, help="Allow pre-release and development versions.")
    @release_options
    @group_options
    @click.option("--dry-run", is_flag=True, help="Resolve and report, install nothing.")
    @hash_mode_options
    @foreign_target_options
    @ignore_requires_python_option
    @click.option(
        "--no-warn-conflicts",
        is_flag=True,
        help="Do not warn when the install leaves installed distributions with "
        "requirements they do not meet.",
    )
    @environment_write_options
    @click.option(
        "--report",
        metavar="FILE",
        help="Write pip's installation report (JSON, version 1) to FILE; - for stdout.",
    )
    @click.option(
        "--only-binary",
        "only_binary",
        multiple=True,
        metavar="FORMAT",
        help="Projects (:all:, or names) that must come as wheels: their sdists are never "
        "built (local directories and URLs you name still are, as with pip).",
    )
    @click.option(
        "--no-binary",
        "no_binary",
        multiple=True,
        metavar="FORMAT",
        help="Projects (:all:, or names) that must be built from their sdists, never "
        "taken as wheels.",
    )
    @click.option(
        "--prefer-binary",
        is_flag=True,
        help="Take an older wheel rather than build a newer sdist.",
    )
    @build_options
    @src_option
    @cache_options
    @click.pass_context
    def install(ctx: click.Context, /, **_: Any) -> None:
        """Install packages: names, requirement specifiers, wheels, project directories,
        archives and VCS URLs (built with their PEP 517 backend)."""
        from roost.cli.invocation import invocation
        from roost.flows.install import run_install

        given = invocation(ctx, "install")
        if not _names_something(ctx.params):
            # Requirements files may come from settings (PIP_REQUIREMENT) as well.
            params = given.params_for(given.settings())
            if not _names_something(params):
                raise _nothing_to_install(params.get("find_links") or ())
        from roost.flows.lock_install import maybe_install_lock

        if maybe_install_lock(given):  # -r pylock.toml: exactly the lock, not resolved
            return
        run_install(given)

    return install


def _names_something(params: dict[str, Any]) -> bool:
    return any(
        params.get(key)
        for key in (
            "requirements",
            "editables",
            "requirement_files",
            "groups",
            "requirements_from_script",
        )
    )


def _nothing_to_install(find_links: Sequence[str]) -> RoostError:
    """pip's error (exit status 1) for an install given nothing to install."""
    if find_links:
        hint = f'maybe you meant "roost install {" ".join(find_links)}"?'
    else:
        hint = 'see "roost help install"'
    return RoostError(f"You must give at least one requirement to install ({hint})")
