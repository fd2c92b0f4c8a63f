"""``roost lock``: resolve, and write what was chosen as a PEP 751 ``pylock.toml``.

For the target interpreter's environment, or for several at once (``--python-version``
and ``--platform``, repeatable: every combination of them). Pins of the lock being
rewritten are kept unless ``-U`` or ``-P NAME`` asks for newer; ``--check`` only says
whether the lock is up to date (exit 1 when not), for CI.
"""

from __future__ import annotations

from typing import Any

import click

from roost.cli.options import (
    build_options,
    cache_options,
    hash_mode_options,
    ignore_requires_python_option,
    index_options,
    locked_target_options,
    pip_resolving_options,
    python_option,
    requirement_file_options,
    src_option,
)
from roost.cli.release_options import only_deps_option, release_options


def lock_command() -> click.Command:
    @click.command("lock")
    @click.argument("requirements", nargs=-1)
    @click.option(
        "-e",
        "--editable",
        "editables",
        multiple=True,
        metavar="PATH/URL",
        help="Lock a local project directory as editable, or a VCS URL checked out into "
        "--src (locked as that checkout's directory).",
    )
    @requirement_file_options("Lock what a requirements file lists.")
    @pip_resolving_options
    @click.option(
        "--group",
        "groups",
        multiple=True,
        metavar="[PATH:]NAME",
        help="Lock a PEP 735 dependency group of ./pyproject.toml (or of PATH) too "
        "(repeatable); the groups locked are the lock's default groups.",
    )
    @click.option(
        "-o",
        "--output",
        metavar="FILE",
        help="Where to write the lock (default ./pylock.toml, or ./requirements.txt "
        "with --format requirements.txt); - for stdout.",
    )
    @click.option(
        "--format",
        "format",
        type=click.Choice(["pylock.toml", "requirements.txt"]),
        default="pylock.toml",
        show_default=True,
        help="PEP 751 pylock.toml, or pip-compile's requirements format.",
    )
    @click.option(
        "--generate-hashes",
        is_flag=True,
        help="With --format requirements.txt: a --hash line for every file of each pin.",
    )
    @click.option(
        "--check",
        is_flag=True,
        help="Write nothing; exit 1 (saying what differs) when the lock is not what "
        "locking again would write.",
    )
    @click.option(
        "-U", "--upgrade", is_flag=True, help="Ignore the existing lock's pins: newest of all."
    )
    @click.option(
        "-P",
        "--upgrade-package",
        "upgrade_packages",
        multiple=True,
        metavar="NAME",
        help="Let NAME move to its newest version, keeping the other pins (repeatable).",
    )
    @locked_target_options
    @click.option(
        "--only-binary",
        "only_binary",
        multiple=True,
        metavar="FORMAT",
        help="Projects (:all:, or names) that must come as wheels: the lock names none "
        "of their sdists.",
    )
    @click.option(
        "--no-binary",
        "no_binary",
        multiple=True,
        metavar="FORMAT",
        help="Projects (:all:, or names) that must come as sdists: the lock names none "
        "of their wheels.",
    )
    @click.option("--prefer-binary", is_flag=True, help="Prefer an older wheel to a newer sdist.")
    @ignore_requires_python_option
    @hash_mode_options
    @click.option(
        "--no-deps",
        "--no-dependencies",
        is_flag=True,
        help="Lock only what is named, no dependencies.",
    )
    @only_deps_option
    @click.option("--pre", is_flag=True, help="Allow pre-releases.")
    @release_options
    @cache_options
    @python_option
    @index_options
    @build_options
    @src_option
    @click.pass_context
    def lock(ctx: click.Context, /, **_: Any) -> None:
        """Resolve requirements and write the result as a lock file (PEP 751)."""
        from roost.cli.invocation import invocation
        from roost.flows.lock import run_lock

        run_lock(invocation(ctx, "lock"))

    return lock
