"""Reusable click options, and config-backed defaults for every option.

As with pip, any option can also come from a setting with its long name
(``ROOST_NO_DEPS=1``, ``no-deps = true`` in roost's config, ``PIP_NO_DEPS``). A
switch's setting must be a boolean pip accepts (yes/no, true/false, on/off, 1/0):
anything else is an error naming where it was set, as pip makes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from roost.types import Settings

F = TypeVar("F", bound=Callable[..., Any])


def long_name(param: click.Parameter) -> str | None:
    """The option's settings key: its first long name (``--no-deps`` of
    ``--no-deps/--no-dependencies``), so aliases added later do not move the key."""
    names = [o for o in getattr(param, "opts", []) if o.startswith("--")]
    return names[0][2:] if names else None


_TRUE = frozenset({"1", "y", "yes", "t", "true", "on"})
_FALSE = frozenset({"0", "n", "no", "f", "false", "off"})


def setting_bool(value: str | None) -> bool:
    """A switch's setting read as pip's strtobool reads it.

    :raises click.BadParameter: the value is not a boolean pip accepts.
    """
    text = (value or "").strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise click.BadParameter(
        f"{value!r} is not a valid boolean: use yes/no, true/false, on/off or 1/0"
    )


def python_option(f: F) -> F:
    return click.option(
        "--python",
        metavar="PYTHON",
        help="Interpreter or virtual environment to act on (default: $VIRTUAL_ENV, "
        "a .venv here or above, then python3 on PATH).",
    )(f)


def index_options(f: F) -> F:
    decorators = [
        click.option("-i", "--index-url", metavar="URL", help="Base URL of a simple index."),
        click.option(
            "--extra-index-url",
            metavar="URL",
            multiple=True,
            help="More simple indexes, asked after --index-url.",
        ),
        click.option(
            "-f",
            "--find-links",
            metavar="URL",
            multiple=True,
            help="A folder or HTML page listing distribution files.",
        ),
        click.option(
            "--no-index", is_flag=True, help="Ignore every index; use --find-links only."
        ),
        click.option(
            "--index-strategy",
            type=click.Choice(["first-index", "unsafe-best-match"]),
            help="first-index (default): a project comes only from the first index that "
            "has it. unsafe-best-match: merge every index (dependency confusion risk).",
        ),
        click.option("--proxy", metavar="URL", help="Proxy for every connection."),
        click.option(
            "--trusted-host",
            metavar="HOST",
            multiple=True,
            help="Allow plain http and unverified TLS for HOST[:PORT].",
        ),
        click.option("--timeout", type=float, metavar="SECONDS", help="Network timeout."),
        click.option("--retries", type=int, metavar="N", help="Retries per request (default 5)."),
        click.option(
            "--refresh",
            is_flag=True,
            help="Ask the index about every cached page, even those its max-age says "
            "are still fresh.",
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def requirement_file_options(help: str, *, constraints: bool = True) -> Callable[[F], F]:
    """``-r/--requirement FILE`` (and ``-c/--constraint FILE``), pip's spelling."""

    def decorate(f: F) -> F:
        if constraints:
            f = click.option(
                "-c",
                "--constraint",
                "constraint_files",
                multiple=True,
                metavar="FILE",
                help="Constrain versions with a constraints file.",
            )(f)
        return click.option(
            "-r",
            "--requirement",
            "requirement_files",
            multiple=True,
            metavar="FILE",
            help=help,
        )(f)

    return decorate


def build_options(f: F) -> F:
    """How sources are built: isolation, its check, and backend config settings (pip's)."""
    decorators = [
        click.option(
            "--no-build-isolation",
            "no_build_isolation",
            is_flag=True,
            help="Build in the target interpreter as it is, instead of a fresh venv holding "
            "only build-system.requires (which must then be installed already).",
        ),
        click.option(
            "--check-build-dependencies",
            is_flag=True,
            help="With --no-build-isolation: fail when what a build needs is missing.",
        ),
        click.option(
            "-C",
            "--config-settings",
            "config_settings",
            multiple=True,
            metavar="KEY=VALUE",
            help="Pass KEY=VALUE to the build backend (repeat a key for a list).",
        ),
        click.option(
            "--max-builds",
            type=click.IntRange(min=1),
            metavar="N",
            help="Build at most N sources at once (default: the CPU count).",
        ),
        click.option(
            "--build-constraint",
            "build_constraints",
            multiple=True,
            metavar="FILE",
            help="Constrain what build environments install (repeatable). As in pip 26.2, -c "
            "does not reach them and this does not reach the install; with --require-hashes, "
            "build dependencies must be pinned with == and hashed here.",
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def foreign_target_options(f: F) -> F:
    """``--platform``, ``--python-version``, ``--implementation`` and ``--abi``: resolve
    for another machine (pip's names; ``download``, and ``install`` with ``--target``
    or ``--dry-run``)."""
    return _foreign_target(f, several=False)


def locked_target_options(f: F) -> F:
    """The same four options for ``roost lock``, where ``--python-version`` repeats too:
    every Python given is combined with every ``--platform`` into an environment."""
    return _foreign_target(f, several=True)


def _foreign_target(f: F, *, several: bool) -> F:
    """One declaration of the foreign target options; *several*: a lock's, whose
    ``--python-version`` (key ``python_versions``) and ``--platform`` each name one
    environment's value, where install and download resolve for one machine."""
    if several:
        version = click.option(
            "--python-version",
            "python_versions",
            multiple=True,
            metavar="VERSION",
            help="Lock for this Python (repeatable): 3.12, 312 or 3.12.1.",
        )
        platform_help = (
            "Lock for this wheel platform (repeatable), e.g. manylinux2014_x86_64; "
            "every platform is combined with every --python-version."
        )
    else:
        version = click.option(
            "--python-version",
            metavar="VERSION",
            help="Python version to resolve for: 3.12, 312 or 3.12.1.",
        )
        platform_help = (
            "Wheel platform tag to resolve for (repeatable), e.g. manylinux2014_x86_64."
        )
    decorators = [
        click.option(
            "--platform", "platforms", multiple=True, metavar="PLATFORM", help=platform_help
        ),
        version,
        click.option("--implementation", metavar="IMPL", help="cp, pp, ip, jy or py."),
        click.option("--abi", "abis", multiple=True, metavar="ABI", help="ABI tag (repeatable)."),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def ignore_requires_python_option(f: F) -> F:
    """``--ignore-requires-python``: candidates' Requires-Python is not checked (pip's)."""
    return click.option(
        "--ignore-requires-python",
        is_flag=True,
        help="Take distributions whose Requires-Python excludes the target Python.",
    )(f)


def hash_mode_options(f: F) -> F:
    """``--require-hashes`` and ``--no-require-hashes``, with pip's meaning."""
    f = click.option(
        "--no-require-hashes",
        is_flag=True,
        help="A --hash in a requirements file does not turn hash-checking mode on (the "
        "files it names are still checked against it).",
    )(f)
    return click.option(
        "--require-hashes",
        is_flag=True,
        help="Hash-checking mode: every requirement pinned with == and given a --hash "
        "(also on when a requirements file has any --hash).",
    )(f)


def src_option(f: F) -> F:
    """``--src DIR``: where ``-e`` checks VCS URLs out (pip's option, ``PIP_SRC`` too)."""
    return click.option(
        "--src",
        "src",
        metavar="DIR",
        help="Where -e checks VCS URLs out, each into DIR/<name> (default: <venv>/src "
        "for a virtual environment, else ./src).",
    )(f)


def cache_options(f: F) -> F:
    """``--cache-dir DIR`` and ``--no-cache-dir`` (also ``--no-cache``, uv's spelling)."""
    f = click.option("--no-cache-dir", "--no-cache", is_flag=True, help="Use no cache.")(f)
    return click.option("--cache-dir", metavar="DIR", help="Cache directory.")(f)


def environment_filter_options(f: F) -> F:
    """``-l/--local``, ``--user`` and ``--path``: which installed distributions to show."""
    decorators = [
        click.option(
            "-l",
            "--local",
            is_flag=True,
            help="In a venv with system site-packages, only its own.",
        ),
        click.option("--user", "user", is_flag=True, help="Only the user site's distributions."),
        click.option(
            "--path",
            multiple=True,
            metavar="DIR",
            help="Only distributions in DIR (repeatable) instead of the target's sys.path.",
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def explicit_values(ctx: click.Context) -> dict[str, str | tuple[str, ...] | bool | None]:
    """Options given on the command line, keyed by long name, for the settings layer."""
    values: dict[str, str | tuple[str, ...] | bool | None] = {}
    for param in ctx.command.params:
        name = long_name(param)
        if name is None or param.name is None:
            continue
        if ctx.get_parameter_source(param.name) is not ParameterSource.COMMANDLINE:
            continue
        value = ctx.params.get(param.name)
        if isinstance(value, (tuple, list)):
            values[name] = tuple(str(v) for v in value)
        elif isinstance(value, bool):
            values[name] = value
        elif value is not None:
            values[name] = str(value)
    return values


def apply_setting_defaults(ctx: click.Context, settings: Settings) -> dict[str, Any]:
    """Fill options not given on the command line from *settings*; return all values."""
    params: dict[str, Any] = dict(ctx.params)
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name is None:
            continue
        if ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE:
            continue
        key = long_name(param)
        if key is None or settings.lookup(key) is None:
            continue
        origin = settings.origin(key)
        try:
            if param.is_flag and not param.count:
                params[param.name] = setting_bool(settings.get(key))
            elif param.multiple:
                params[param.name] = tuple(
                    param.type.convert(v, param, ctx) for v in settings.get_list(key)
                )
            else:
                params[param.name] = param.type.convert(settings.get(key), param, ctx)
        except click.BadParameter as exc:
            raise click.BadParameter(f"{exc.message} (set in {origin})", param=param) from None
    return params


def environment_write_options(f: F) -> F:
    """How a command that writes an environment waits for its lock and places files:
    ``--lock-timeout`` and ``--link-mode`` (install and sync)."""
    decorators = [
        click.option(
            "--lock-timeout",
            type=click.FloatRange(min=0),
            metavar="SECONDS",
            help="Give up if another roost run keeps the environment locked this long.",
        ),
        click.option(
            "--link-mode",
            type=click.Choice(["hardlink", "copy", "symlink"]),
            help="How files come from the cache's unpacked wheels: hard links (the default; "
            "copies when the cache is on another filesystem), copies, or symlinks.",
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def refresh_package_option(f: F) -> F:
    """``--refresh-package NAMES``: revalidate the cached index pages of these projects
    (pip 26.3's option; ``:all:`` is ``--refresh``)."""
    return click.option(
        "--refresh-package",
        "refresh_package",
        multiple=True,
        metavar="NAMES",
        help="Ask the index again about the cached pages of these projects (names with "
        "commas, :all: for every project, :none: clears), even while fresh.",
    )(f)


def pip_resolving_options(f: F) -> F:
    """pip 26.3's ``--requirements-from-script``, ``--use-pep517`` and
    ``--refresh-package``, for every resolving command (install, download, wheel, lock)."""
    f = refresh_package_option(f)
    f = click.option(
        "--use-pep517",
        "use_pep517",
        is_flag=True,
        help="Accepted for pip's command lines: roost always builds with PEP 517, as "
        "pip 26.3 does.",
    )(f)
    return click.option(
        "--requirements-from-script",
        "requirements_from_script",
        multiple=True,
        metavar="SCRIPT",
        help="Add the dependencies of SCRIPT's inline metadata (PEP 723 '# /// script' "
        "block); its requires-python must admit the target's Python.",
    )(f)
