"""The options that choose which releases and requirements a resolving command takes:
``--all-releases``/``--only-final``, ``--uploaded-prior-to``/``--exclude-newer``,
``--group`` and ``--only-deps`` (pip 26's, and uv's ``--exclude-newer``).

Their values are read where they are used (:mod:`roost.resolve.release_policy`,
:mod:`roost.flows.groups`); settings (``PIP_UPLOADED_PRIOR_TO``, ...) fill them as
for every option.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def release_options(f: F) -> F:
    """``--all-releases``, ``--only-final``, ``--uploaded-prior-to``, ``--exclude-newer``."""
    decorators = [
        click.option(
            "--all-releases",
            "all_releases",
            multiple=True,
            metavar="NAMES",
            help="Allow pre-releases of these projects (:all:, :none: clears, or names "
            "with commas). Not with --pre.",
        ),
        click.option(
            "--only-final",
            "only_final",
            multiple=True,
            metavar="NAMES",
            help="Only final releases of these projects, even where a specifier names a "
            "pre-release (:all:, :none:, or names). Not with --pre.",
        ),
        click.option(
            "--uploaded-prior-to",
            metavar="WHEN",
            help="Only files uploaded before WHEN: an ISO 8601 date and time (local time "
            "without a zone), or a duration before now (P7D, PT12H, '1 week'). Needs "
            "indexes that give upload times (PEP 700).",
        ),
        click.option(
            "--exclude-newer",
            metavar="WHEN",
            help="uv's spelling of --uploaded-prior-to; a bare date (2024-03-01) "
            "includes that day.",
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def only_deps_option(f: F) -> F:
    """``--only-deps`` (``--only-dependencies``) alone, for ``roost lock``, whose
    ``--group`` says more than install's."""
    return click.option(
        "--only-deps",
        "--only-dependencies",
        "only_deps",
        is_flag=True,
        help="Only the dependencies of the named requirements, not the requirements "
        "themselves (not with --no-deps, -r or --group).",
    )(f)


def group_options(f: F) -> F:
    """``--group [PATH:]GROUP`` and ``--only-deps``."""
    f = only_deps_option(f)
    return click.option(
        "--group",
        "groups",
        multiple=True,
        metavar="[PATH:]GROUP",
        help="Add the requirements of a PEP 735 dependency group of PATH (default "
        "./pyproject.toml); repeatable.",
    )(f)
