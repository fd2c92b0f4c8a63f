"""roost's exceptions.

Every error a user can cause is a ``RoostError``; click prints its message and
exits non-zero without a traceback (``-v`` shows one).

    RoostError (click.ClickException)
    ├── ConfigError             a setting or option has a value roost cannot use
    ├── PluginError             a plugin could not be loaded or blocked
    ├── InterpreterError        the target interpreter could not be found or read
    ├── IndexError_
    │   ├── NoIndexConfigured   no index and no find-links: says how to set one
    │   └── IndexAccessError    401/403 or an unreadable index page
    ├── NetworkError            connection, TLS or timeout failures after retries
    ├── RequirementError        a requirement or requirements file cannot be parsed
    ├── ResolutionError         no set of versions satisfies the requirements
    │   └── NoMatchingDistribution
    ├── HashMismatchError       a download did not match its expected hash
    ├── InstallRefused          one or more guards refused the install
    └── InstallError            writing into the environment failed (rolled back)
"""

from __future__ import annotations

import click


class RoostError(click.ClickException):
    """Base of every error roost reports to a user."""

    exit_code = 1


class ConfigError(RoostError):
    pass


class PluginError(RoostError):
    pass


class InterpreterError(RoostError):
    pass


class IndexError_(RoostError):
    pass


class NoIndexConfigured(IndexError_):
    pass


class IndexAccessError(IndexError_):
    pass


class NetworkError(RoostError):
    pass


class RequirementError(RoostError):
    pass


class ResolutionError(RoostError):
    pass


class NoMatchingDistribution(ResolutionError):
    pass


class HashMismatchError(RoostError):
    pass


class InstallRefused(RoostError):
    pass


class InstallError(RoostError):
    pass


class BuildError(RoostError):
    """A source tree could not be built: no project, a missing backend, a failed hook."""
