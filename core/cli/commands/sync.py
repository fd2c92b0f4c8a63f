"""``roost sync``: make the environment exactly what a lock file or requirements files
name (the steps are :mod:`roost.flows.sync`)."""

from __future__ import annotations

from typing import Any

import click

from roost.cli.options import (
    build_options,
    cache_options,
    environment_write_options,
    index_options,
    python_option,
)


def sync_command() -> click.Command:
    @click.command("sync")
    # Named as install's -r values, so the requirements files are read as install
    # reads them (roost.flows.gather).
    @click.argument("requirement_files", nargs=-1, required=True, metavar="FILE...")
    @python_option
    @index_options
    @click.option(
        "--dry-run",
        is_flag=True,
        help="Say what would be installed and removed, change nothing; exit 1 when "
        "anything would change, 0 when the environment is already that set.",
    )
    @environment_write_options
    @build_options
    @cache_options
    @click.pass_context
    def sync(ctx: click.Context, /, requirement_files: tuple[str, ...], **_: Any) -> None:
        """Make the environment exactly FILE: a pylock.toml, or requirements files whose
        lines are the whole set (installed as written, no dependencies resolved).
        Installs, upgrades, downgrades and removes in one transaction; pip (and
        setuptools and wheel below Python 3.12) and roost itself are kept."""
        from roost.cli.invocation import invocation
        from roost.flows.sync import run_sync

        given = invocation(ctx, "sync")
        changed = run_sync(given, requirement_files)
        if ctx.params.get("dry_run") and changed:
            ctx.exit(1)

    return sync
