"""Which policy file applies to a run, and reading it once.

In order: ``--policy FILE`` (or ``--policy-file``), the ``policy-file`` setting (which
roost fills the option from: ``ROOST_POLICY_FILE``, ``policy-file = ...`` in roost's
config file), then ``roost-policy.toml`` in the current directory. No file: no policy,
and the plugin does nothing. A file that is named but missing is an error, never
"no policy".
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from roost.types import Options
from roost_policy.policy import Policy, PolicyError, read_policy

#: The option's parameter name; its long name ``--policy-file`` is the setting's key.
OPTION = "policy_file"
ENV_VARIABLE = "ROOST_POLICY_FILE"
DEFAULT_NAME = "roost-policy.toml"


class _Run:
    """What this process (one roost command) has settled: the command's choice of
    policy file, once a hook saw its options, and the policies read so far."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: (path or None,) once decided; None before.
        self.choice: tuple[Path | None] | None = None
        #: Policies by path, with the file's (mtime, size) when read.
        self.read: dict[Path, tuple[tuple[int, int], Policy]] = {}


_RUN = _Run()


def policy_for(options: Options) -> Policy | None:
    """The policy that applies to a hook called with *options*, or None."""
    path = _policy_path(options)
    return None if path is None else _load(path)


def _policy_path(options: Options) -> Path | None:
    if OPTION in options.values:
        # The user's own command (install, download, wheel): its options decide, and
        # what they decided holds for the rest of the run.
        path = _choose(options.values.get(OPTION))
        with _RUN.lock:
            _RUN.choice = (path,)
        return path
    # roost's own inner installs (build environments) carry none of the command's
    # options: they follow the command's policy, so build dependencies are held to it.
    with _RUN.lock:
        choice = _RUN.choice
    if choice is not None:
        return choice[0]
    return _choose(os.environ.get(ENV_VARIABLE))


def _choose(named: object) -> Path | None:
    if isinstance(named, str) and named.strip():
        path = Path(os.path.abspath(os.path.expanduser(named.strip())))
        if not path.is_file():
            raise PolicyError(
                path,
                None,
                "no such file (named by --policy, ROOST_POLICY_FILE or the policy-file setting)",
            )
        return path
    here = Path.cwd() / DEFAULT_NAME
    return here if here.is_file() else None


def _load(path: Path) -> Policy:
    try:
        stat = path.stat()
    except OSError as exc:
        raise PolicyError(path, None, f"cannot be read: {exc.strerror or exc}") from None
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _RUN.lock:
        known = _RUN.read.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    policy = read_policy(path)
    with _RUN.lock:
        _RUN.read[path] = (stamp, policy)
    return policy
