"""Find the interpreter roost installs into, and describe it by running it.

roost may run from a different Python than the one it installs into (pipx), so
paths, tags and markers are never computed from roost's own ``sys``: the target
runs ``_introspect.py`` (its standard library only) and answers with facts in JSON;
markers and tags are computed from those facts here (``roost.target.tags``). The
answer is cached per interpreter (path, mtime and the environment variables that
change it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import packaging

from roost.errors import InterpreterError
from roost.target._introspect import SENTINEL
from roost.types import Scheme, Target

MINIMUM_VERSION = (3, 8)
_TIMEOUT = 60
_SCRIPT = Path(__file__).with_name("_introspect.py")
#: Exit status the bootstrap uses for an interpreter older than MINIMUM_VERSION.
_TOO_OLD = 86
# Runs on any Python (even 2.7) so a too-old interpreter gets a clear message rather
# than a SyntaxError. ``-c`` puts the working directory first on sys.path; drop it
# so a stray json.py there cannot answer for the standard library.
_BOOTSTRAP = f"""\
import sys
if sys.version_info[:2] < {MINIMUM_VERSION!r}:
    sys.stderr.write("%d.%d.%d" % tuple(sys.version_info[:3]))
    sys.exit({_TOO_OLD})
if not getattr(sys.flags, "safe_path", False) and sys.path and sys.path[0] == "":
    del sys.path[0]
namespace = {{"__name__": "roost_introspect", "__file__": sys.argv[1]}}
with open(sys.argv[1], encoding="utf-8") as handle:
    exec(compile(handle.read(), sys.argv[1], "exec"), namespace)
sys.exit(namespace["main"](sys.argv[2:]))
"""
#: Environment variables that change what the target reports.
_CACHE_ENV = (
    "HOME",
    "PYTHONUSERBASE",
    "PYTHONNOUSERSITE",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONPLATLIBDIR",
    "PYTHONSAFEPATH",
    "DEB_PYTHON_INSTALL_LAYOUT",
)
_CACHE_FORMAT = 2


def _venv_python(directory: Path) -> Path:
    if os.name == "nt":
        return directory / "Scripts" / "python.exe"
    return directory / "bin" / "python"


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _from_option(python: str, cwd: Path, env: Mapping[str, str]) -> Path:
    looks_like_path = os.sep in python or (os.altsep or os.sep) in python
    candidate = cwd / python
    if looks_like_path or candidate.exists():
        if candidate.is_dir():
            venv_python = _venv_python(candidate)
            if not _is_executable(venv_python):
                raise InterpreterError(
                    f"--python {python}: the directory {candidate} is not a virtual "
                    f"environment (no {venv_python.relative_to(candidate)} in it). Pass an "
                    "interpreter or a venv directory."
                )
            return venv_python
        if not _is_executable(candidate):
            raise InterpreterError(
                f"--python {python}: {candidate} is not an executable file. Pass an "
                "interpreter (e.g. /usr/bin/python3), a name on PATH or a venv directory."
            )
        return candidate
    found = shutil.which(python, path=env.get("PATH", ""))
    if found is None:
        raise InterpreterError(
            f"--python {python}: no such interpreter on PATH. Pass its full path or "
            "a venv directory."
        )
    return Path(found)


def _find_dot_venv(cwd: Path) -> Path | None:
    for directory in (cwd, *cwd.parents):
        venv = directory / ".venv"
        if (venv / "pyvenv.cfg").is_file():
            return venv
    return None


def find_target(python: str | None, *, cwd: Path, env: Mapping[str, str]) -> str:
    """Return the path of the interpreter to install into.

    Order: *python* (an interpreter path, a name on ``PATH`` such as
    ``python3.12``, or a venv directory) > ``$VIRTUAL_ENV`` > a ``.venv`` (with a
    ``pyvenv.cfg``) in *cwd* or a parent > ``python3`` then ``python`` on ``PATH``.
    Symlinks are kept: a venv's ``bin/python`` is the venv, not its base.

    :raises InterpreterError: when nothing is found or a given path is no interpreter.
    """
    cwd = Path(os.path.abspath(cwd))
    if python:
        return os.path.abspath(_from_option(python, cwd, env))
    virtual_env = env.get("VIRTUAL_ENV")
    if virtual_env:
        venv_python = _venv_python(cwd / virtual_env)
        if not _is_executable(venv_python):
            raise InterpreterError(
                f"VIRTUAL_ENV is {virtual_env}, but {venv_python} is not an interpreter. "
                "Deactivate the stale environment or pass --python."
            )
        return os.path.abspath(venv_python)
    dot_venv = _find_dot_venv(cwd)
    if dot_venv is not None:
        venv_python = _venv_python(dot_venv)
        if not _is_executable(venv_python):
            raise InterpreterError(
                f"{dot_venv} looks like a virtual environment but has no {venv_python.name}; "
                "recreate it or pass --python."
            )
        return os.path.abspath(venv_python)
    for name in ("python3", "python"):
        found = shutil.which(name, path=env.get("PATH", ""))
        if found is not None:
            return os.path.abspath(found)
    raise InterpreterError(
        "no Python interpreter found: no --python, no VIRTUAL_ENV, no .venv in "
        f"{cwd} or its parents, and neither python3 nor python on PATH. "
        "Pass --python or create a virtual environment."
    )


def _stat_key(path: str, *, follow: bool) -> str:
    try:
        st = os.stat(path, follow_symlinks=follow)
    except OSError:
        return "-"
    return f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"


def _key(parts: list[str], env: Mapping[str, str], names: tuple[str, ...]) -> str:
    """A cache key: *parts*, the variables *names* of *env*, and what every answer
    depends on (the script that describes, roost's packaging, which computes the tags)."""
    material = [
        f"format={_CACHE_FORMAT}",
        *parts,
        f"script={hashlib.sha256(_SCRIPT.read_bytes()).hexdigest()}",
        f"packaging={packaging.__version__}",
        *(f"env:{name}={env.get(name, '')}" for name in names),
    ]
    return hashlib.sha256("\0".join(material).encode()).hexdigest()


def _cache_key(executable: str, env: Mapping[str, str]) -> str:
    absolute = os.path.abspath(executable)
    bin_dir = os.path.dirname(absolute)
    parts = [
        f"path={absolute}",
        f"real={os.path.realpath(absolute)}",
        f"lstat={_stat_key(absolute, follow=False)}",
        f"stat={_stat_key(absolute, follow=True)}",
        # A venv is its pyvenv.cfg: recreating it in place must not reuse the answer.
        f"cfg1={_stat_key(os.path.join(bin_dir, 'pyvenv.cfg'), follow=True)}",
        f"cfg2={_stat_key(os.path.join(os.path.dirname(bin_dir), 'pyvenv.cfg'), follow=True)}",
    ]
    return _key(parts, env, _CACHE_ENV)


#: Environment variables that change the tags or markers of one interpreter binary.
_PLATFORM_ENV = ("_PYTHON_HOST_PLATFORM", "MACOSX_DEPLOYMENT_TARGET", "_PYTHON_SYSCONFIGDATA_NAME")


def _platform_key(executable: str, env: Mapping[str, str]) -> str:
    """The key of what one interpreter *binary* reports as markers and tags.

    Every venv made from a base interpreter runs the same binary (its ``bin/python``
    is a link to it, or a copy with its own key), and markers and tags come from the
    binary, its platform and roost's ``packaging``, never from the venv.
    """
    real = os.path.realpath(executable)
    return _key([f"real={real}", f"stat={_stat_key(real, follow=True)}"], env, _PLATFORM_ENV)


def cache_path(executable: str, *, cache_dir: Path, env: Mapping[str, str] | None = None) -> Path:
    """Where :func:`introspect` caches the answer for *executable* in *env*."""
    key = _cache_key(executable, os.environ if env is None else env)
    return cache_dir / "interpreters" / f"{key}.json"


def _read_cache(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_cache(path: Path, data: Mapping[str, Any]) -> None:
    from roost.util.cache import write_atomic

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(data, sort_keys=True).encode())
    except OSError:
        pass  # the cache only saves time; a read-only cache dir is not an error


def probe(executable: str, env: Mapping[str, str], *, platform: bool = True) -> dict[str, Any]:
    """Run the probe in *executable*; its facts as a dict (without markers and tags).

    ``platform=False`` leaves out the platform facts (``describe``'s ``with_platform``).
    """
    command = [executable, "-c", _BOOTSTRAP, str(_SCRIPT)]
    if not platform:
        command.append("--no-platform")
    try:
        proc = subprocess.run(
            command,
            env=dict(env),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=_TIMEOUT,
            check=False,
        )
    except OSError as exc:
        raise InterpreterError(
            f"could not run the target interpreter {executable}: {exc}"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise InterpreterError(
            f"the target interpreter {executable} did not answer within {_TIMEOUT} seconds"
        ) from exc
    if proc.returncode == _TOO_OLD:
        version = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "?"
        raise InterpreterError(
            f"the target interpreter {executable} is Python {version}; roost installs into "
            f"Python {'.'.join(map(str, MINIMUM_VERSION))} or newer. Pass --python."
        )
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        reason = detail[0] if len(detail[0]) <= 200 else detail[0][:200] + "..."
        raise InterpreterError(
            f"{executable} is not a usable Python interpreter: describing it failed ({reason})."
        )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(SENTINEL):
            try:
                data = json.loads(line[len(SENTINEL) :])
            except ValueError:
                break
            if isinstance(data, dict):
                return data
    raise InterpreterError(
        f"{executable} is not a usable Python interpreter: it did not describe itself."
    )


def _scheme(data: Mapping[str, str], name: str) -> Scheme:
    return Scheme(
        purelib=data["purelib"],
        platlib=data["platlib"],
        headers=data["headers"],
        scripts=data["scripts"],
        data=data["data"],
        name=name,
    )


def _externally_managed(data: Mapping[str, Any]) -> str | None:
    # Checked on every load, cached or not: a distributor may add the marker later.
    if data["is_venv"]:
        return None
    marker = os.path.join(data["stdlib"], "EXTERNALLY-MANAGED")
    return marker if os.path.isfile(marker) else None


def target_from_data(data: Mapping[str, Any]) -> Target:
    """Build a :class:`Target` from the JSON ``_introspect.py`` printed."""
    try:
        major, minor, micro = (int(part) for part in data["version"])
        return Target(
            executable=data["executable"],
            version=(major, minor, micro),
            implementation=data["implementation"],
            prefix=data["prefix"],
            base_prefix=data["base_prefix"],
            is_venv=bool(data["is_venv"]),
            system_site_packages=bool(data["system_site_packages"]),
            user_site_enabled=bool(data["user_site_enabled"]),
            user_base=data["user_base"],
            user_site=data["user_site"],
            default_scheme=_scheme(
                data["default_scheme"], "venv" if data["is_venv"] else "system"
            ),
            user_scheme=_scheme(data["user_scheme"], "user"),
            prefix_template=dict(data["prefix_template"]),
            user_template=dict(data["user_template"]),
            markers=dict(data["markers"]),
            tags=tuple(data["tags"]),
            externally_managed=_externally_managed(data),
            sys_path=tuple(data["sys_path"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InterpreterError(f"unexpected interpreter description ({exc!r})") from exc


def introspect(
    executable: str, *, cache_dir: Path | None, env: Mapping[str, str] | None = None
) -> Target:
    """Describe *executable* by running it, reusing a cached answer when still valid.

    :param cache_dir: roost's cache directory; answers live in ``interpreters/``
        under it. None disables the cache.
    :param env: the environment the target runs with (default ``os.environ``); it
        decides ``PYTHONUSERBASE``, ``PYTHONNOUSERSITE`` and friends.
    :raises InterpreterError: when the target cannot run, is not Python or is too old.
    """
    env = os.environ if env is None else env
    path = None if cache_dir is None else cache_path(executable, cache_dir=cache_dir, env=env)
    if path is not None:
        cached = _read_cache(path)
        if cached is not None:
            try:
                return target_from_data(cached)
            except InterpreterError:
                pass  # a cache from an older roost: describe again
    platform_path = (
        None
        if cache_dir is None
        else cache_dir / "interpreters" / f"platform-{_platform_key(executable, env)}.json"
    )
    known = None if platform_path is None else _read_cache(platform_path)
    if known is not None and isinstance(known.get("tags"), list):
        # A new venv of a known interpreter: only its paths need asking, and the
        # tags need no computing again.
        data = {**probe(executable, env, platform=False), **known}
    else:
        data = with_markers_and_tags(probe(executable, env))
    target = target_from_data(data)
    if path is not None:
        _write_cache(path, data)
    if platform_path is not None and known is None:
        platform_keys = ("platform", "markers", "tags")
        _write_cache(platform_path, {key: data[key] for key in platform_keys})
    return target


def with_markers_and_tags(data: Mapping[str, Any]) -> dict[str, Any]:
    """*data* from the probe with the markers and tags its platform facts imply."""
    # Imported here: a cached description (the usual case) needs no tag computing.
    from roost.target.tags import markers_from_facts, tags_from_facts

    facts = data.get("platform")
    if not isinstance(facts, Mapping):
        raise InterpreterError("the interpreter description has no platform facts")
    try:
        return {**data, "markers": markers_from_facts(facts), "tags": tags_from_facts(facts)}
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise InterpreterError(f"unexpected interpreter description ({exc!r})") from exc


def load_target(
    python: str | None,
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    cache_dir: Path | None,
) -> Target:
    """:func:`find_target` then :func:`introspect`, the way the commands use them."""
    env = os.environ if env is None else env
    return introspect(find_target(python, cwd=cwd, env=env), cache_dir=cache_dir, env=env)
