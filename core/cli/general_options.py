"""pip's general options: one table saying what roost does with each.

pip accepts its "General Options" (``pip help install`` lists them) on every command,
before or after the command name. roost does too. Each option here is one of:

* ``roost``: roost does what pip does (``-q``, ``--log``, ``--isolated``, ...);
* ``no-effect``: accepted and ignored, because pip's result would be the same as
  roost's without it (``--disable-pip-version-check``: roost never checks pip's
  version), with the reason in :attr:`GeneralOption.effect`;
* ``some values``: accepted where roost's behaviour equals pip's for that value and
  refused, with the reason, for the others (``--exists-action a`` is what roost
  always does; ``w`` is not).

A command that defines an option of the same name itself (``install --proxy``) keeps
its own, and then the table only lends it pip's spellings. docs/commands.md has the
same table for people ("General options"); tests/test_general_options.py checks both.
"""

from __future__ import annotations

from dataclasses import dataclass

#: What an option's value is: None for a switch, else how it is checked.
ValueKind = str  # "int" | "float" | "path" | "text" | "choice" | "count"


@dataclass(frozen=True)
class GeneralOption:
    """One of pip's general options (or an option pip has on most commands)."""

    #: pip's spellings, canonical first: long names, then short ones.
    names: tuple[str, ...]
    #: None for a switch, "count" for -v/-q, else what the value must be.
    value: ValueKind | None
    #: "roost", "no-effect" or "some values" (see the module docstring).
    kind: str
    #: What roost does with it, for --help and the docs.
    effect: str
    metavar: str = ""
    choices: tuple[str, ...] = ()
    #: The values roost refuses (``some values``), each with its reason.
    refused: tuple[tuple[str, str], ...] = ()
    #: The commands pip has it on; empty for every command.
    commands: tuple[str, ...] = ()
    #: Several values allowed (pip's ``append`` options).
    multiple: bool = False

    @property
    def key(self) -> str:
        """The settings key: the canonical long name without dashes."""
        return self.names[0][2:]

    @property
    def long_names(self) -> tuple[str, ...]:
        return tuple(name for name in self.names if name.startswith("--"))

    @property
    def short_names(self) -> tuple[str, ...]:
        return tuple(name for name in self.names if not name.startswith("--"))

    def applies_to(self, command: str) -> bool:
        return not self.commands or command in self.commands

    def refusal(self, value: str) -> str | None:
        """Why roost refuses *value* of this option, or None when it accepts it."""
        for refused, reason in self.refused:
            if value == refused:
                return reason
        return None


_NETWORK = "no effect where the command makes no network request"
#: Features pip 26.3 knows, and why each one's result is roost's already.
_FEATURES = (
    "fast-deps",
    "inprocess-build-deps",
    "venv-isolation",
    "truststore",
    "no-binary-enable-wheel-cache",
    "build-constraint",
)

GENERAL_OPTIONS: tuple[GeneralOption, ...] = (
    GeneralOption(
        ("--debug",),
        None,
        "roost",
        "As -vv, and a traceback with every error.",
    ),
    GeneralOption(
        ("--isolated",),
        None,
        "roost",
        "Ignore PIP_* and ROOST_* variables and the user's config files (pip's and "
        "roost's); PIP_CONFIG_FILE and ROOST_CONFIG_FILE are still read, as pip does.",
    ),
    GeneralOption(
        ("--require-virtualenv", "--require-venv"),
        None,
        "roost",
        "install, uninstall, download and wheel stop (exit 3) unless the target "
        "interpreter is a virtual environment; other commands ignore it, as pip's do.",
    ),
    GeneralOption(
        ("--python",),
        "text",
        "roost",
        "The interpreter or virtual environment to act on, before or after the command "
        "name; no effect on commands that look at no interpreter.",
        metavar="PYTHON",
    ),
    GeneralOption(
        ("--verbose", "-v"),
        "count",
        "roost",
        "More output, counted (-vv); tracebacks on errors. PIP_VERBOSE/ROOST_VERBOSE "
        "set a count (or yes/no), which each -v adds to.",
    ),
    GeneralOption(
        ("--quiet", "-q"),
        "count",
        "roost",
        "Less output, counted: -q hides progress and information, -qq warnings too. "
        "-q and -v cancel out, as in pip.",
    ),
    GeneralOption(
        ("--log", "--log-file", "--local-log"),
        "path",
        "roost",
        "Append everything roost reports, -v details included, with times, to PATH.",
        metavar="PATH",
    ),
    GeneralOption(
        ("--no-input",),
        None,
        "roost",
        "Never ask: a question (uninstall without -y) is an error instead.",
    ),
    GeneralOption(
        ("--keyring-provider",),
        "choice",
        "some values",
        "auto and import: roost asks the keyring package importable in its own "
        "environment (the keyring_auth plugin); disabled: it never asks keyring.",
        metavar="PROVIDER",
        choices=("auto", "disabled", "import", "subprocess"),
        refused=(
            (
                "subprocess",
                "roost asks keyring through the keyring package in its own environment, "
                "never through a keyring command; use import (or install keyring beside "
                "roost)",
            ),
        ),
    ),
    GeneralOption(
        ("--proxy",), "text", "roost", f"Proxy for every connection; {_NETWORK}.", metavar="URL"
    ),
    GeneralOption(
        ("--no-proxy-env",),
        None,
        "roost",
        "Ignore HTTP(S)_PROXY, ALL_PROXY and NO_PROXY (and so do the builds roost starts).",
    ),
    GeneralOption(
        ("--retries",), "int", "roost", f"Attempts per request; {_NETWORK}.", metavar="N"
    ),
    GeneralOption(
        ("--timeout", "--default-timeout"),
        "float",
        "roost",
        f"Network timeout in seconds; {_NETWORK}.",
        metavar="SECONDS",
    ),
    GeneralOption(
        ("--exists-action",),
        "choice",
        "some values",
        "a (abort): what roost always does when an editable VCS checkout's folder "
        "holds something else.",
        metavar="ACTION",
        choices=("s", "i", "w", "b", "a"),
        refused=tuple(
            (
                action,
                f"roost stops when a checkout folder holds something else (as 'a'); it "
                f"does not {word}: move the folder away or pick another with --src",
            )
            for action, word in (
                ("s", "switch it"),
                ("i", "ignore it"),
                ("w", "wipe it"),
                ("b", "back it up"),
            )
        ),
        multiple=True,
    ),
    GeneralOption(
        ("--trusted-host",),
        "text",
        "roost",
        f"Allow plain http and unverified TLS for HOST[:PORT]; {_NETWORK}.",
        metavar="HOST",
        multiple=True,
    ),
    GeneralOption(
        ("--cert",), "path", "roost", f"CA bundle to verify with; {_NETWORK}.", metavar="PATH"
    ),
    GeneralOption(
        ("--client-cert",),
        "path",
        "roost",
        f"Client certificate and key (one PEM file); {_NETWORK}.",
        metavar="PATH",
    ),
    GeneralOption(
        ("--cache-dir",),
        "path",
        "roost",
        "The cache directory; no effect where the command uses no cache.",
        metavar="DIR",
    ),
    GeneralOption(
        ("--no-cache-dir",),
        None,
        "roost",
        "Use no cache; no effect where the command uses none. PIP_NO_CACHE_DIR turns "
        "the cache off whatever its (valid) value, as in pip.",
    ),
    GeneralOption(
        ("--disable-pip-version-check",),
        None,
        "no-effect",
        "roost never checks for a newer pip.",
    ),
    GeneralOption(("--no-color",), None, "no-effect", "roost prints no colour."),
    GeneralOption(
        ("--no-python-version-warning",),
        None,
        "no-effect",
        "A no-op in pip 26.3 itself; roost prints no such warning.",
    ),
    GeneralOption(
        ("--use-feature",),
        "choice",
        "no-effect",
        "Every feature pip 26.3 names is how roost works already: fast-deps (roost "
        "reads wheel metadata with range requests), inprocess-build-deps and "
        "venv-isolation (build environments are virtual environments roost fills "
        "itself), truststore (the system's certificates, via truststore_tls), "
        "no-binary-enable-wheel-cache (built wheels are cached), build-constraint "
        "(--build-constraint).",
        metavar="FEATURE",
        choices=_FEATURES,
        multiple=True,
    ),
    GeneralOption(
        ("--use-deprecated",),
        "choice",
        "some values",
        "Refused: roost has neither of pip's deprecated behaviours.",
        metavar="FEATURE",
        choices=("legacy-resolver", "legacy-certs"),
        refused=(
            (
                "legacy-resolver",
                "roost has one resolver, which backtracks over the whole graph as pip's "
                "default resolver does; pip's legacy resolver is not available",
            ),
            (
                "legacy-certs",
                "roost verifies with the system's certificates (truststore_tls); to use "
                "Python's default certificates instead, block that plugin with "
                "-p no:truststore_tls, or give --cert",
            ),
        ),
        multiple=True,
    ),
    GeneralOption(
        ("--resume-retries",),
        "int",
        "no-effect",
        "roost resumes a download cut short with a Range request within its --retries "
        "attempts; the separate count is accepted and not needed.",
        metavar="N",
    ),
    GeneralOption(
        ("--root-user-action",),
        "choice",
        "no-effect",
        "roost never warns about running as root (install and uninstall, as in pip).",
        metavar="ACTION",
        choices=("warn", "ignore"),
        commands=("install", "uninstall"),
    ),
)

#: Each general option by every spelling (``--log-file`` and ``-q`` included).
BY_NAME: dict[str, GeneralOption] = {
    name: option for option in GENERAL_OPTIONS for name in option.names
}
#: Each by its settings key.
BY_KEY: dict[str, GeneralOption] = {option.key: option for option in GENERAL_OPTIONS}

#: Commands that --require-virtualenv stops outside a virtual environment (pip's list:
#: the others set ``ignore_require_venv``).
REQUIRE_VENV_COMMANDS = frozenset({"install", "uninstall", "download", "wheel", "lock"})

#: pip's spellings of command options that roost's commands spell otherwise, per
#: command: each is rewritten to roost's spelling when the command lacks it. A
#: command's own declaration names pip's aliases where it can (``--no-dependencies``,
#: ``--destination-dir``); these are the ones declared elsewhere: the shared index
#: and --src options, and ``-t``, whose ``--target`` the target_scheme plugin adds.
PIP_SPELLINGS: dict[str, dict[str, str]] = {
    "install": {
        "--only-dependencies": "--only-deps",
        "--pypi-url": "--index-url",
        "--source": "--src",
        "--source-dir": "--src",
        "--source-directory": "--src",
    },
    "download": {
        "--only-dependencies": "--only-deps",
        "--pypi-url": "--index-url",
        "--source": "--src",
        "--source-dir": "--src",
        "--source-directory": "--src",
    },
    "wheel": {
        "--no-dependencies": "--no-deps",
        "--only-dependencies": "--only-deps",
        "--pypi-url": "--index-url",
        "--source": "--src",
        "--source-dir": "--src",
        "--source-directory": "--src",
    },
    "list": {"--pypi-url": "--index-url"},
    "index": {"--pypi-url": "--index-url"},
    "lock": {
        "--no-dependencies": "--no-deps",
        "--only-dependencies": "--only-deps",
        "--pypi-url": "--index-url",
    },
}


def help_epilog(command: str) -> str:
    """The paragraph every command's --help ends with."""
    import textwrap

    names = " ".join(
        option.short_names[0] if option.value == "count" else option.names[0]
        for option in GENERAL_OPTIONS
        if option.applies_to(command)
    )
    # "\b": click keeps the lines as they are (no hyphenated option names).
    lines = textwrap.wrap(names, 76, break_on_hyphens=False)
    title = (
        "General options, pip's, before or after the command name (what roost does\n"
        "with each: docs/commands.md):"
    )
    return "\n".join(["\b", title, *lines])
