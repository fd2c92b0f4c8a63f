"""``roost install``: resolve, download, and install into the target environment."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click

from roost.options import explicit_values, index_options, python_option
from roost.output import Output


def install_command() -> click.Command:
    @click.command("install")
    @click.argument("requirements", nargs=-1)
    @click.option(
        "-r",
        "--requirement",
        "requirement_files",
        multiple=True,
        metavar="FILE",
        help="Install from a requirements file (pip's format).",
    )
    @click.option(
        "-c",
        "--constraint",
        "constraint_files",
        multiple=True,
        metavar="FILE",
        help="Constrain versions with a constraints file.",
    )
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
    @click.option("--no-deps", is_flag=True, help="Do not install dependencies.")
    @click.option("--pre", is_flag=True, help="Allow pre-release and development versions.")
    @click.option("--dry-run", is_flag=True, help="Resolve and report, install nothing.")
    @click.option(
        "--require-hashes",
        is_flag=True,
        help="Hash-checking mode: every requirement pinned with == and given a --hash "
        "(also on when a requirements file has any --hash).",
    )
    @click.option(
        "--lock-timeout",
        type=click.FloatRange(min=0),
        metavar="SECONDS",
        help="Give up if another roost run keeps the environment locked this long.",
    )
    @click.option("--cache-dir", metavar="DIR", help="Cache directory.")
    @click.option("--no-cache-dir", is_flag=True, help="Use no cache.")
    @click.pass_context
    def install(ctx: click.Context, /, **_: Any) -> None:
        """Install packages (names, requirement specifiers, wheel paths or URLs)."""
        from roost.install_flow import run_install

        run_install(ctx, ctx.find_object(Output) or Output())

    return install


def settings_for(ctx: click.Context, command: str, extra_layers: tuple[Any, ...] = ()) -> Any:
    from roost.config import build_settings
    from roost.types import Settings

    manager = ctx.meta["roost.manager"]
    settings = build_settings(command, explicit_values(ctx), manager)
    if extra_layers:
        settings = Settings(tuple(extra_layers) + settings.layers)
    return settings


def work_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="roost-"))


def cwd() -> Path:
    return Path(os.getcwd())
