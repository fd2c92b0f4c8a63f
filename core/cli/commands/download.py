"""``roost download``: resolve like install, and save the files into a folder.

Wheels, and sdists where no wheel fits (built only to learn their dependencies), as
pip saves them; an archive or VCS URL is saved too (a VCS checkout as a zip). With
``--platform``, ``--python-version``, ``--implementation`` and ``--abi`` it resolves
for another machine (the first stage of a multi-stage build often runs elsewhere);
as with pip, that needs ``--only-binary=:all:`` or ``--no-deps``, since nothing can be
built for that machine here.
"""

from __future__ import annotations

from typing import Any

import click

from roost.cli.options import (
    build_options,
    cache_options,
    foreign_target_options,
    hash_mode_options,
    ignore_requires_python_option,
    index_options,
    pip_resolving_options,
    python_option,
    requirement_file_options,
)
from roost.cli.release_options import group_options, release_options


def download_command() -> click.Command:
    @click.command("download")
    @click.argument("requirements", nargs=-1)
    @requirement_file_options("Download from a requirements file.")
    @pip_resolving_options
    @click.option(
        "-d",
        "--dest",
        "--destination-dir",
        "--destination-directory",
        "dest",
        default=".",
        metavar="DIR",
        show_default=True,
        help="Where to save the files.",
    )
    @foreign_target_options
    @ignore_requires_python_option
    @hash_mode_options
    @click.option(
        "--only-binary",
        "only_binary",
        multiple=True,
        metavar="FORMAT",
        help="Projects (:all:, or names) that must come as wheels: their sdists are never "
        "downloaded (:none: clears the list).",
    )
    @click.option(
        "--no-binary",
        "no_binary",
        multiple=True,
        metavar="FORMAT",
        help="Projects (:all:, or names) that must come as sdists, never as wheels "
        "(:none: clears the list).",
    )
    @click.option(
        "--prefer-binary",
        is_flag=True,
        help="Prefer an older wheel to a newer sdist.",
    )
    @click.option(
        "--no-deps", "--no-dependencies", is_flag=True, help="Do not download dependencies."
    )
    @click.option("--pre", is_flag=True, help="Allow pre-releases.")
    @release_options
    @group_options
    @cache_options
    @python_option
    @index_options
    @build_options
    @click.pass_context
    def download(ctx: click.Context, /, **_: Any) -> None:
        """Download wheels, sdists and sources (and their dependencies) into a folder."""
        from roost.cli.invocation import invocation
        from roost.flows.download import run_download

        run_download(invocation(ctx, "download"))

    return download
