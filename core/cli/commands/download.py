"""``roost download``: resolve like install, and save the wheels into a folder.

With ``--platform``, ``--python-version``, ``--implementation`` and ``--abi`` it
resolves for another machine (the first stage of a multi-stage build often runs
elsewhere). roost only ever uses wheels, so ``--only-binary=:all:`` is what it does
anyway and is accepted for pip compatibility.
"""

from __future__ import annotations

from typing import Any

import click

from roost.cli.options import (
    cache_options,
    index_options,
    python_option,
    requirement_file_options,
)


def download_command() -> click.Command:
    @click.command("download")
    @click.argument("requirements", nargs=-1)
    @requirement_file_options("Download from a requirements file.")
    @click.option(
        "-d",
        "--dest",
        "dest",
        default=".",
        metavar="DIR",
        show_default=True,
        help="Where to save the files.",
    )
    @click.option(
        "--platform",
        "platforms",
        multiple=True,
        metavar="PLATFORM",
        help="Wheel platform tag to download for (repeatable), e.g. manylinux2014_x86_64.",
    )
    @click.option(
        "--python-version",
        metavar="VERSION",
        help="Python version to download for: 3.12, 312 or 3.12.1.",
    )
    @click.option("--implementation", metavar="IMPL", help="cp, pp, ip, jy or py.")
    @click.option("--abi", "abis", multiple=True, metavar="ABI", help="ABI tag (repeatable).")
    @click.option(
        "--only-binary",
        "only_binary",
        multiple=True,
        metavar="FORMAT",
        help="roost uses wheels only; accepted for pip compatibility.",
    )
    @click.option(
        "--no-binary",
        "no_binary",
        multiple=True,
        metavar="FORMAT",
        help="Projects that must not come as wheels (roost then stops: it builds nothing).",
    )
    @click.option(
        "--prefer-binary",
        is_flag=True,
        help="Accepted for pip compatibility: roost uses wheels only.",
    )
    @click.option("--no-deps", is_flag=True, help="Do not download dependencies.")
    @click.option("--pre", is_flag=True, help="Allow pre-releases.")
    @cache_options
    @python_option
    @index_options
    @click.pass_context
    def download(ctx: click.Context, /, **_: Any) -> None:
        """Download wheels (and their dependencies) into a folder."""
        from roost.cli.invocation import invocation
        from roost.flows.download import run_download

        run_download(invocation(ctx, "download"))

    return download
