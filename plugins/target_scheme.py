"""``--target DIR`` and ``--prefix DIR``: install into a location the user names.

``--root`` is only declared here; the core re-roots whatever scheme was chosen
(``Scheme.rerooted``), so it combines with every other scheme plugin.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import click

from roost.hookspecs import hookimpl
from roost.types import Options, Scheme, Target

_DIR = click.Path(file_okay=False, dir_okay=True, path_type=str)


@hookimpl
def roost_add_options(command: str) -> Sequence[click.Option]:
    """``--target``, ``--prefix`` and ``--root`` for ``install`` and ``sync``."""
    if command not in {"install", "sync"}:
        return []
    return [
        click.Option(
            ["-t", "--target", "target_dir"],
            type=_DIR,
            metavar="DIR",
            help="Install packages flat into DIR (scripts in DIR/bin), not into an environment.",
        ),
        click.Option(
            ["--prefix", "prefix"],
            type=_DIR,
            metavar="DIR",
            help="Install with the target interpreter's layout under DIR "
            "(DIR/lib/pythonX.Y/site-packages, DIR/bin, ...).",
        ),
        click.Option(
            ["--root", "root"],
            type=_DIR,
            metavar="DIR",
            help="Install everything relative to DIR, as if DIR were '/' (for staging images).",
        ),
    ]


def target_dir_scheme(directory: str) -> Scheme:
    """The flat layout of ``--target DIR``: libraries in DIR, scripts in DIR/bin, as pip."""
    base = os.path.abspath(directory)
    return Scheme(
        purelib=base,
        platlib=base,
        data=base,
        scripts=os.path.join(base, "bin"),
        # pip lays --target out with the posix_home scheme, whose headers dir is this.
        headers=os.path.join(base, "include", "python"),
        name="target",
    )


def prefix_scheme(target: Target, directory: str) -> Scheme:
    """The target's own prefix layout filled with DIR (Debian's ``posix_local`` included)."""
    return target.scheme_from_template(
        target.prefix_template, base=os.path.abspath(directory), name="prefix"
    )


@hookimpl(tryfirst=True)
def roost_select_scheme(target: Target, options: Options) -> Scheme | None:
    """``--target`` wins over ``--prefix``; the guard refuses either with ``--user``."""
    target_dir = options.get("target_dir")
    if target_dir:
        return target_dir_scheme(str(target_dir))
    prefix = options.get("prefix")
    if prefix:
        return prefix_scheme(target, str(prefix))
    return None
