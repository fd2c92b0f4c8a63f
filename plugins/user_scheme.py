"""``--user``: install into the user's site (``~/.local``, or ``$PYTHONUSERBASE``).

The paths come from the target interpreter itself, which already honours
``PYTHONUSERBASE``. After any install, this plugin also warns, as pip does, when
scripts landed in a directory that is not on ``PATH`` (``--no-warn-script-location``
silences it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence

import click

from roost.hookspecs import hookimpl
from roost.types import InstalledDistribution, Options, Scheme, Target


@hookimpl
def roost_add_options(command: str) -> Sequence[click.Option]:
    """``--user/--no-user`` and ``--no-warn-script-location`` for ``install`` and
    ``sync``."""
    if command not in {"install", "sync"}:
        return []
    return [
        # A switch, as pip's: --no-user turns off a --user that a setting gave
        # (PIP_USER, install.user in pip's config); both keep the settings key "user".
        click.Option(
            ["--user/--no-user", "user"],
            default=False,
            help="Install into the user site (~/.local, or $PYTHONUSERBASE) of the target "
            "interpreter (--no-user: not, whatever the settings say).",
        ),
        click.Option(
            ["--no-warn-script-location", "no_warn_script_location"],
            is_flag=True,
            default=False,
            help="Do not warn when scripts are installed into a directory not on PATH.",
        ),
    ]


@hookimpl
def roost_select_scheme(target: Target, options: Options) -> Scheme | None:
    """The target's user scheme when ``--user`` is given."""
    if options.flag("user"):
        return target.user_scheme
    return None


def _comparable(path: str) -> str:
    return os.path.normcase(os.path.realpath(os.path.expanduser(path))).rstrip(os.sep) or os.sep


def directories_on_path(path_variable: str, target: Target) -> set[str]:
    """Directories from which a script runs by name, comparable with :func:`_comparable`.

    The directory of the target interpreter counts too: scripts next to a venv's
    python are found by running them through the venv, activated or not.
    """
    found = {_comparable(entry) for entry in path_variable.split(os.pathsep) if entry}
    found.add(_comparable(os.path.dirname(target.executable)))
    return found


def scripts_not_on_path_message(
    scripts_dir: str, scripts: Iterable[str], *, path_variable: str, target: Target
) -> str | None:
    """The warning for *scripts* installed into *scripts_dir*, or None if it is on PATH."""
    names = sorted(set(scripts))
    if not names or _comparable(scripts_dir) in directories_on_path(path_variable, target):
        return None
    if len(names) == 1:
        what = f"The script {names[0]} is"
    else:
        what = f"The scripts {', '.join(names[:-1])} and {names[-1]} are"
    lines = [
        f"WARNING: {what} installed in '{scripts_dir}', which is not on PATH.",
        "Add this directory to PATH to run them by name, or pass "
        "--no-warn-script-location to silence this warning.",
    ]
    if any(entry.startswith("~") for entry in path_variable.split(os.pathsep)):
        lines.append(
            "Note: PATH has entries starting with '~', which some programs do not expand."
        )
    return "\n".join(lines)


@hookimpl
def roost_post_install(
    target: Target,
    scheme: Scheme,
    installed: Sequence[InstalledDistribution],
    options: Options,
) -> None:
    """Warn about scripts installed outside ``PATH`` (for every scheme but ``--target``
    and ``--prefix``, as pip does: their scripts are for another place or machine)."""
    if options.flag("no_warn_script_location"):
        return
    if options.get("target_dir") or options.get("prefix"):
        return
    scripts = [name for dist in installed for name in dist.scripts]
    message = scripts_not_on_path_message(
        scheme.scripts, scripts, path_variable=os.environ.get("PATH", ""), target=target
    )
    if message is not None:
        print(message, file=sys.stderr)
