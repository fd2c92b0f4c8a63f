"""Which folders a build backend may write, and whether Linux Landlock can hold it to them.

``pep517_build`` runs every hook through ``_build_sandbox.py`` (in the build
environment's interpreter), which asks the kernel to deny the hook, and everything it
starts, any write outside the folders chosen here:

- the output folder of the hook (``BuildRequest.output_dir``);
- the project's source folder: builds run in place, as pip's do, and setuptools writes
  ``build/`` and ``*.egg-info`` there;
- a folder of the build's own, ``sandbox/`` next to the output folder (roost gives each
  build a scratch folder: ``dist/`` or ``metadata/`` is the output, ``env/`` the build
  environment), holding the backend's ``TMPDIR``;
- pyproject-hooks' private control folder for the hook, where the answer is written;
- ``/dev/null``, ``/dev/tty`` and ``/dev/shm`` (multiprocessing's semaphores);
- cargo's home (``$CARGO_HOME``, else ``~/.cargo``) when it exists: a Rust extension's
  build fetches its crates into it, and nothing else can;
- the folders the ``build-sandbox-writable`` setting lists (``ROOST_BUILD_SANDBOX_WRITABLE``,
  ``os.pathsep``-separated), for a tool's cache such as ccache's.

The build environment is *not* writable, although it lies in the same scratch folder:
roost fills it with hard links to the files of its content store, and a write through
such a link would change the store, and every environment linked to it. Python then
skips writing ``__pycache__`` there and compiles the backend in memory for each hook
(about 0.15 s for setuptools). ``PYTHONPYCACHEPREFIX`` in the build's folder was
measured and is no better: Python then ignores the standard library's own bytecode
too, and the first hook of every build recompiles it. With ``--no-build-isolation``
the "environment" is the target itself, which no build may change either. Nor are the
user's home, roost's cache and ``/tmp`` outside these folders writable.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from roost.errors import BuildError
from roost.types import BuildRequest

#: The variable, and the config key, that choose the mode.
ENV_VAR = "ROOST_BUILD_SANDBOX"
SETTING = "build-sandbox"
#: The setting (and its variable) listing more folders builds may write.
WRITABLE_SETTING = "build-sandbox-writable"
WRITABLE_VAR = "ROOST_BUILD_SANDBOX_WRITABLE"
MODES = ("auto", "require", "off")
#: The script each hook runs through, in the build environment's interpreter.
LAUNCHER = Path(__file__).with_name("_build_sandbox.py")
#: Devices every build may write; those missing on a machine are skipped.
DEVICES = ("/dev/null", "/dev/tty", "/dev/shm")
#: What a refused write prints: EACCES from Landlock, EROFS from a read-only mount.
_REFUSED = ("Permission denied", "Read-only file system")
#: An absolute path in quotes, as Python's errors and GNU tools print them (spaces kept).
_QUOTED = re.compile(r"""['"\u2018](/[^'"\u2019\n]+)['"\u2019]""")
#: An absolute path without quotes, up to a colon, a bracket or white space.
_PATH = re.compile(r"""(?<![\w.~])(/[^\s'":,;()\[\]]+)""")
#: The most refused paths one note names.
_MAX_REFUSALS = 5

_told_lock = threading.Lock()
#: Holds True once the unavailable notice was given: builds run on several threads.
_told: list[bool] = []


@functools.cache
def landlock() -> tuple[int, str]:
    """``(ABI version, "")`` when Landlock works here, else ``(0, why not)``."""
    # Imported here: it loads ctypes, which a run that builds nothing never needs.
    from roost.plugins import _build_sandbox

    try:
        return _build_sandbox.landlock_abi(), ""
    except _build_sandbox.Unavailable as exc:
        return 0, str(exc)


def _setting(request: BuildRequest, key: str, variable: str) -> str:
    """*key* from the run's settings (config files, ``ROOST_*``), else *variable* (a
    request made without settings, by a plugin or a test)."""
    if request.settings is not None:
        return request.settings.get(key) or ""
    return os.environ.get(variable, "")


def sandbox_mode(request: BuildRequest) -> str:
    """``auto``, ``require`` or ``off``: the ``build-sandbox`` setting."""
    raw = _setting(request, SETTING, ENV_VAR) or "auto"
    value = raw.strip().lower()
    if value not in MODES:
        raise BuildError(
            f"{ENV_VAR} (the {SETTING!r} setting) must be one of {', '.join(MODES)}, not {raw!r}"
        )
    return value


def unavailable_notice() -> str | None:
    """The line saying builds run unsandboxed, the first time it is asked for, else None."""
    abi, why = landlock()
    with _told_lock:
        if abi or _told:
            return None
        _told.append(True)
    return f"build sandbox unavailable: {why}; builds can write anywhere you can"


@dataclass(frozen=True)
class HookCall:
    """How to run one hook inside the sandbox."""

    command: list[str]
    environ: dict[str, str]
    #: The backend's private temporary folder, removed after the hook.
    tmpdir: Path


@dataclass(frozen=True)
class Sandbox:
    """The folders one build may write, and how its hooks are run."""

    #: Real paths, without the per-hook control folder.
    writable: tuple[str, ...]
    #: ``sandbox/`` next to the output folder.
    folder: Path
    abi: int
    required: bool

    def allows(self, path: str) -> bool:
        """Whether *path* is beneath a folder this sandbox lets the backend write."""
        real = os.path.realpath(path)
        return any(
            real == root or real.startswith(root.rstrip("/") + "/") for root in self.writable
        )

    @contextmanager
    def hook(self, cmd: Sequence[str], environ: Mapping[str, str]) -> Iterator[HookCall]:
        """*cmd* run through the launcher, with a fresh ``TMPDIR`` (removed afterwards)."""
        self.folder.mkdir(exist_ok=True)
        tmpdir = Path(tempfile.mkdtemp(prefix="tmp-", dir=self.folder))
        try:
            writable = list(self.writable)
            # pyproject-hooks passes its control folder last; the hook writes its answer
            # there. It is a fresh private folder, so it may be written.
            if cmd and os.path.isdir(cmd[-1]):
                writable.append(os.path.realpath(cmd[-1]))
            spec = json.dumps({"writable": writable, "require": self.required})
            env = dict(environ)
            for name in ("TMPDIR", "TEMP", "TMP"):
                env[name] = str(tmpdir)
            # -I: neither this folder nor PYTHON* variables shape the launcher's imports;
            # -S: it needs the standard library only. The hook itself runs as before.
            launcher = [cmd[0], "-I", "-S", str(LAUNCHER), spec]
            yield HookCall([*launcher, *cmd], env, tmpdir)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)

    def refused(self, output: str) -> list[str]:
        """Paths the backend's *output* says a write to was refused, that the sandbox
        kept out: outside its folders, and writable by this user without it."""
        found: list[str] = []
        for line in output.splitlines():
            if not any(marker in line for marker in _REFUSED):
                continue
            quoted = _QUOTED.findall(line)
            for path in quoted + _PATH.findall(_QUOTED.sub(" ", line)):
                if path not in found and not self.allows(path) and _user_may_write(path):
                    found.append(path)
            if len(found) >= _MAX_REFUSALS:
                break
        return found


def _user_may_write(path: str) -> bool:
    """Whether this process could write *path* (or create it in its nearest folder)."""
    current = path
    for _ in range(64):
        if os.path.lexists(current):
            return os.access(current, os.W_OK)
        parent = os.path.dirname(current)
        if parent == current:
            return False
        current = parent
    return False


def for_request(request: BuildRequest) -> Sandbox | None:
    """The sandbox for *request*'s hooks, or None to run them as they are.

    :raises BuildError: with ``require`` where Landlock cannot be used.
    """
    chosen = sandbox_mode(request)
    if chosen == "off":
        return None
    abi, why = landlock()
    if not abi:
        if chosen == "require":
            shown = request.display or request.source_dir
            raise BuildError(
                f"building {shown} needs the build sandbox ({ENV_VAR}=require), but it "
                f"is unavailable here: {why}. It needs Linux with Landlock enabled; set "
                f"{ENV_VAR}=auto to build without it where it is unavailable."
            )
        return None
    output = Path(request.output_dir)
    folder = output.parent / "sandbox"
    paths = [request.output_dir, request.source_dir, str(folder), *_extra_writable(request)]
    writable = tuple(dict.fromkeys(os.path.realpath(p) for p in paths))
    devices = tuple(os.path.realpath(d) for d in DEVICES if os.path.exists(d))
    return Sandbox(
        writable=writable + devices,
        folder=folder,
        abi=abi,
        required=chosen == "require",
    )


def _extra_writable(request: BuildRequest) -> list[str]:
    """cargo's home when it exists, and the folders the setting lists (which must exist:
    a rule is made for a folder, and a typo should not pass unnoticed)."""
    found = []
    cargo = os.environ.get("CARGO_HOME") or os.path.expanduser("~/.cargo")
    if os.path.isdir(cargo):
        found.append(cargo)
    for item in _setting(request, WRITABLE_SETTING, WRITABLE_VAR).split(os.pathsep):
        path = os.path.expanduser(item.strip())
        if not path:
            continue
        if not os.path.isdir(path):
            raise BuildError(
                f"{WRITABLE_VAR} (the {WRITABLE_SETTING!r} setting) lists {path!r}, which "
                "is not a folder: a build may only be let write into folders that exist"
            )
        found.append(path)
    return found


def refusal_note(paths: Sequence[str]) -> str:
    """The line added to a failed hook's message when the sandbox refused its writes."""
    shown = ", ".join(paths)
    return (
        f"The build sandbox refused a write outside the build's folders ({shown}). "
        f"If the backend must write there, add the folder to {WRITABLE_VAR} (the "
        f"{WRITABLE_SETTING!r} setting), or build with {ENV_VAR}=off."
    )


def describe(sandbox: Sandbox) -> str:
    """One line for ``-v``: what the build could write."""
    return f"build sandbox (Landlock ABI {sandbox.abi}): writable: {', '.join(sandbox.writable)}"
