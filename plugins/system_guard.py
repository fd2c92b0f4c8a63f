"""Refuse installs that would change a Python the user did not mean to change.

This plugin is essential: ``-p no:system_guard`` is refused, and only its own
flags relax it (DESIGN.md, "Guard rules"):

* ``--system`` (or ``ROOST_SYSTEM=1``): yes, install into this non-venv Python.
* ``--break-system-packages`` (or ``ROOST_BREAK_SYSTEM_PACKAGES=1``, or pip's
  ``PIP_BREAK_SYSTEM_PACKAGES=1``): install even where the distributor marked the
  Python as externally managed (PEP 668). It implies ``--system``, as it does in pip.

``--target``, ``--prefix`` and ``--root`` name an explicit location, which is
never refused (except ``--user`` together with ``--target``/``--prefix``).
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping, Sequence

import click

from roost.hookspecs import hookimpl
from roost.types import Options, Refusal, Scheme, Target

PLUGIN = "system_guard"
_TRUE = {"1", "true", "yes", "on", "y", "t"}

VENV_USER_REFUSED = (
    "Can not perform a '--user' install. User site-packages are not visible in this virtualenv."
)
USER_SITE_DISABLED = "User site-packages are disabled for this Python."
#: Commands that change an environment, and how a refusal names what they do.
GUARDED_COMMANDS = {
    "install": "install into",
    "sync": "install into",
    "uninstall": "remove packages from",
}


@hookimpl
def roost_add_options(command: str) -> Sequence[click.Option]:
    """``--system`` and ``--break-system-packages`` for the commands that change an
    environment (``install``, ``sync``, ``uninstall``)."""
    if command not in GUARDED_COMMANDS:
        return []
    return [
        click.Option(
            ["--system", "system"],
            is_flag=True,
            default=False,
            help="Allow installing into a Python that is not a virtual environment "
            "(also ROOST_SYSTEM=1).",
        ),
        click.Option(
            ["--break-system-packages", "break_system_packages"],
            is_flag=True,
            default=False,
            help="Install even into a Python its distributor marked as externally managed "
            "(PEP 668); implies --system (also ROOST_BREAK_SYSTEM_PACKAGES=1 or "
            "PIP_BREAK_SYSTEM_PACKAGES=1).",
        ),
    ]


def _env_flag(environ: Mapping[str, str], *names: str) -> bool:
    # --isolated (pip's meaning: no environment variables) marks the run this way.
    if environ.get("_ROOST_ISOLATED"):
        return False
    return any(environ.get(name, "").strip().lower() in _TRUE for name in names)


def message_languages(environ: Mapping[str, str]) -> list[str]:
    """``Error-<lang>`` keys to try, most specific first, then ``Error``.

    The language is the first set of ``LC_ALL``, ``LC_MESSAGES`` and ``LANG``
    (POSIX precedence); ``de_DE.UTF-8`` gives ``Error-de_DE``, ``Error-de-DE``,
    ``Error-de``.
    """
    keys: list[str] = []
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            lang = value.split(".", 1)[0].split("@", 1)[0]
            if lang and lang not in {"C", "POSIX"}:
                keys.append(f"Error-{lang}")
                if "_" in lang:
                    keys.append(f"Error-{lang.replace('_', '-')}")
                base = lang.replace("-", "_").split("_", 1)[0]
                if base != lang:
                    keys.append(f"Error-{base}")
            break
    keys.append("Error")
    return keys


def default_marker_message(prefix: str) -> str:
    """What PEP 668 says to show when the marker has no usable ``Error`` key."""
    return (
        f"The Python environment under {prefix} is managed externally and must not be "
        "changed by hand. Use the tools of whoever distributes this Python installation "
        "to manage its packages instead."
    )


def marker_message(path: str, *, prefix: str, environ: Mapping[str, str]) -> str:
    """The distributor's message from an ``EXTERNALLY-MANAGED`` file (an INI file)."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
        section = parser["externally-managed"]
    except (KeyError, OSError, UnicodeDecodeError, configparser.Error):
        return default_marker_message(prefix)
    for key in message_languages(environ):
        value = section.get(key)
        if value and value.strip():
            return value.strip()
    return default_marker_message(prefix)


def _create_venv_remedy(target: Target) -> str:
    return (
        f"create a virtual environment and install into it: {target.executable} -m venv "
        ".venv, then run roost from that directory (or pass --python .venv)"
    )


def check(target: Target, options: Options, environ: Mapping[str, str]) -> list[Refusal]:
    """Every refusal for installing into *target* with *options* (the guard table)."""
    user = options.flag("user")
    explicit = [
        flag
        for flag, name in (("--target", "target_dir"), ("--prefix", "prefix"))
        if options.get(name)
    ]
    if user and explicit:
        conflict = " and ".join(explicit)
        return [
            Refusal(
                PLUGIN,
                f"--user cannot be combined with {conflict}: they name different install "
                "locations.",
                (
                    f"drop --user to install into {conflict}",
                    f"drop {conflict} to install into the user site",
                ),
            )
        ]
    if explicit or options.get("root"):
        return []  # the user named the location; nothing of the environment's is touched
    breaking = options.flag("break_system_packages") or _env_flag(
        environ, "ROOST_BREAK_SYSTEM_PACKAGES", "PIP_BREAK_SYSTEM_PACKAGES"
    )
    system = options.flag("system") or _env_flag(environ, "ROOST_SYSTEM") or breaking

    if user:
        if target.is_venv and not target.system_site_packages:
            return [
                Refusal(
                    PLUGIN,
                    VENV_USER_REFUSED,
                    (
                        f"drop --user to install into the virtual environment {target.prefix}",
                        "recreate the virtual environment with --system-site-packages",
                    ),
                )
            ]
        if not target.user_site_enabled:
            return [
                Refusal(
                    PLUGIN,
                    f"{USER_SITE_DISABLED} ({target.executable} runs with user site-packages "
                    "off: -s, PYTHONNOUSERSITE or a venv)",
                    (
                        "unset PYTHONNOUSERSITE (and do not run the interpreter with -s)",
                        _create_venv_remedy(target),
                        "install into an explicit location with --prefix DIR or --target DIR",
                    ),
                )
            ]
    if target.is_venv:
        return []

    if not user and not system and options.command == "uninstall":
        return [
            Refusal(
                PLUGIN,
                f"{target.executable} is not a virtual environment; roost does not remove "
                "packages from a system Python unless asked to.",
                (
                    "remove them from this Python anyway with --system"
                    + (" --break-system-packages" if target.externally_managed else ""),
                    "use the tools of whoever installed this Python to manage its packages",
                ),
            )
        ]
    if not user and not system:
        remedies = [
            "install for your user only with --user",
            _create_venv_remedy(target),
            "install into this Python anyway with --system",
        ]
        if target.externally_managed:
            remedies = [
                _create_venv_remedy(target),
                "install for your user only with --user --break-system-packages",
                "install into this Python anyway with --system --break-system-packages",
            ]
        managed = (
            " and its distributor marked it as externally managed (PEP 668)"
            if target.externally_managed
            else ""
        )
        return [
            Refusal(
                PLUGIN,
                f"{target.executable} is not a virtual environment{managed}; roost does not "
                "install into a system Python unless asked to.",
                tuple(remedies),
            )
        ]
    if target.externally_managed and not breaking:
        message = marker_message(target.externally_managed, prefix=target.prefix, environ=environ)
        where = "the user site of " if user else ""
        return [
            Refusal(
                PLUGIN,
                f"{where}{target.executable} is externally managed "
                f"({target.externally_managed}):\n{message}",
                (
                    _create_venv_remedy(target),
                    "install anyway with --break-system-packages, at the risk of breaking "
                    "packages the distributor manages",
                ),
            )
        ]
    return []


@hookimpl
def roost_check_install(target: Target, scheme: Scheme, options: Options) -> Sequence[Refusal]:
    """Apply the guard table; reads ``ROOST_SYSTEM``, ``ROOST_BREAK_SYSTEM_PACKAGES``
    and ``PIP_BREAK_SYSTEM_PACKAGES`` from the environment."""
    return check(target, options, os.environ)
