"""``roost wheel``: pip's ``wheel``: build wheels of the requirements and their dependencies."""

from __future__ import annotations

from typing import Any

import click

from roost.cli.options import (
    build_options,
    cache_options,
    hash_mode_options,
    ignore_requires_python_option,
    index_options,
    pip_resolving_options,
    python_option,
    requirement_file_options,
    src_option,
)
from roost.cli.release_options import group_options, release_options


def wheel_command() -> click.Command:
    @click.command("wheel")
    @click.argument("requirements", nargs=-1)
    @click.option(
        "-e",
        "--editable",
        "editables",
        multiple=True,
        metavar="PATH/URL",
        help="Build an editable (PEP 660) wheel of a local project, or of a VCS URL "
        "checked out into --src.",
    )
    @requirement_file_options("Build wheels of the requirements in a requirements file.")
    @pip_resolving_options
    @click.option(
        "-w",
        "--wheel-dir",
        "wheel_dir",
        default=".",
        show_default=True,
        metavar="DIR",
        help="Where the wheels go.",
    )
    @click.option(
        "--no-deps",
        "--no-dependencies",
        is_flag=True,
        help="Only the named requirements, no dependencies.",
    )
    @click.option("--pre", is_flag=True, help="Allow pre-release and development versions.")
    @release_options
    @group_options
    @click.option(
        "--no-binary",
        "no_binary",
        multiple=True,
        metavar="FORMAT",
        help="Projects that must not come as wheels (:all:, or names).",
    )
    @click.option(
        "--only-binary",
        "only_binary",
        multiple=True,
        metavar="FORMAT",
        help="Projects (:all:, or names) that must come as wheels: their sdists are never "
        "built (directories, archives and VCS URLs you name still are, as with pip).",
    )
    @click.option(
        "--prefer-binary",
        is_flag=True,
        help="Take an older wheel rather than build a newer sdist.",
    )
    @hash_mode_options
    @ignore_requires_python_option
    @python_option
    @index_options
    @build_options
    @src_option
    @cache_options
    @click.pass_context
    def wheel(ctx: click.Context, /, **_: Any) -> None:
        """Build wheels (of directories, archives, VCS URLs) and save them with the
        wheels of their dependencies, for the target interpreter."""
        from roost.cli.invocation import invocation
        from roost.flows.wheel import run_wheel

        run_wheel(invocation(ctx, "wheel"))

    return wheel
