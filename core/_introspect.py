"""Describe the interpreter that runs this file, as JSON on stdout.

This runs *inside the target interpreter* (Python 3.9 or newer), never inside
roost: roost may live in a different Python (pipx), and every path, tag and marker
must come from the interpreter packages are installed into. It imports only the
standard library, plus roost's own copy of ``packaging`` loaded from the directory
given as the first argument (so tags and markers follow the rules roost resolves
with, evaluated against this interpreter's glibc, ABI and platform).

roost runs it through a small ``-c`` bootstrap (see ``roost.interpreter``) that
checks the version and drops the working directory from ``sys.path``, so neither
a too-old interpreter nor a stray ``json.py`` in the working directory can break
it. The bootstrap then calls :func:`main`.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import site
import sys
import sysconfig

#: The line printed before the JSON, so start-up noise (a chatty sitecustomize)
#: on stdout cannot be mistaken for the answer.
SENTINEL = "roost-introspect-v1:"

#: Placeholders left in scheme templates; roost fills them for --prefix and friends.
_PLACEHOLDERS = {
    "base": "{base}",
    "installed_base": "{base}",
    "prefix": "{base}",
    "platbase": "{platbase}",
    "installed_platbase": "{platbase}",
    "exec_prefix": "{platbase}",
    "userbase": "{userbase}",
}


def _load_packaging(directory: str) -> None:
    """Import ``packaging`` from *directory* without putting that directory on sys.path.

    Only the package itself is taken from roost's environment; the standard
    library modules it imports still come from this interpreter.
    """
    for name in [m for m in sys.modules if m == "packaging" or m.startswith("packaging.")]:
        del sys.modules[name]
    spec = importlib.machinery.PathFinder.find_spec("packaging", [directory])
    if spec is None or spec.loader is None:
        raise ImportError("packaging not found in " + directory)
    module = importlib.util.module_from_spec(spec)
    sys.modules["packaging"] = module
    spec.loader.exec_module(module)


def _is_osx_framework() -> bool:
    return bool(sysconfig.get_config_var("PYTHONFRAMEWORK"))


def _preferred(key: str, is_venv: bool) -> str:
    """The sysconfig scheme pip would pick for *key* (``prefix`` or ``user``)."""
    names = sysconfig.get_scheme_names()
    getter = getattr(sysconfig, "get_preferred_scheme", None)
    if getter is not None:
        # Debian's patched 3.11 answers ``posix_local`` here (``/usr/local``), as pip uses.
        return str(getter(key))
    if key == "user":
        if _is_osx_framework() and not is_venv and "osx_framework_user" in names:
            return "osx_framework_user"
        return os.name + "_user" if os.name + "_user" in names else "posix_user"
    for candidate in (sys.implementation.name + "_" + os.name, os.name + "_prefix", os.name):
        if candidate in names:
            return candidate
    return "posix_prefix"


def _paths(scheme: str, variables: dict[str, str] | None = None) -> dict[str, str]:
    # sysconfig extends the dict it is given; hand it a fresh one every time.
    return dict(sysconfig.get_paths(scheme, vars=dict(variables) if variables else None))


def _layout(paths: dict[str, str], headers: str) -> dict[str, str]:
    return {
        "purelib": paths["purelib"],
        "platlib": paths["platlib"],
        "headers": headers,
        "scripts": paths["scripts"],
        "data": paths["data"],
    }


def _venv_headers(base: str) -> str:
    # pip has always put headers of a venv here, whatever sysconfig says.
    return os.path.join(base, "include", "site", "python{}.{}".format(*sys.version_info[:2]))


def _system_site_packages(prefix: str) -> bool:
    try:
        with open(os.path.join(prefix, "pyvenv.cfg"), encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return False
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key.strip().lower() == "include-system-site-packages":
            return value.strip().lower() == "true"
    return False


def describe(
    packaging_dir: str, startup_path: list[str], *, platform: bool = True
) -> dict[str, object]:
    """Everything roost's ``Target`` needs, as JSON-serialisable values.

    ``platform=False`` leaves out the markers and tags (importing ``packaging`` is most
    of the time this takes): roost passes it when it knows them already for this
    interpreter binary, as for a new venv of a known base interpreter.
    """
    is_venv = sys.prefix != sys.base_prefix
    prefix_scheme = _preferred("prefix", is_venv)
    user_scheme = _preferred("user", is_venv)
    # pip installs into a custom prefix with posix_prefix on macOS framework builds.
    template_scheme = "posix_prefix" if prefix_scheme == "osx_framework_library" else prefix_scheme

    default_paths = _paths(prefix_scheme)
    user_paths = _paths(user_scheme)
    prefix_template = _paths(template_scheme, _PLACEHOLDERS)
    user_template = _paths(user_scheme, _PLACEHOLDERS)
    if is_venv:
        default_headers = _venv_headers(sys.prefix)
        template_headers = _venv_headers("{base}")
        # pip's user headers in a venv stay under sys.prefix, not the user base.
        user_headers = user_template_headers = _venv_headers(sys.prefix)
    else:
        default_headers = default_paths["include"]
        template_headers = prefix_template["include"]
        user_headers = user_paths["include"]
        user_template_headers = user_template["include"]

    found: dict[str, object] = {
        "executable": sys.executable,
        "version": list(sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "is_venv": is_venv,
        "system_site_packages": is_venv and _system_site_packages(sys.prefix),
        "user_site_enabled": site.ENABLE_USER_SITE is True,
        "user_base": site.getuserbase(),
        "user_site": site.getusersitepackages(),
        "prefix_scheme_name": prefix_scheme,
        "user_scheme_name": user_scheme,
        "default_scheme": _layout(default_paths, default_headers),
        "user_scheme": _layout(user_paths, user_headers),
        "prefix_template": _layout(prefix_template, template_headers),
        "user_template": _layout(user_template, user_template_headers),
        "stdlib": sysconfig.get_path("stdlib"),
        "sys_path": startup_path,
    }
    if platform:
        _load_packaging(packaging_dir)
        from packaging import markers, tags

        found["markers"] = dict(markers.default_environment())
        found["tags"] = [str(tag) for tag in tags.sys_tags()]
    return found


def main(argv: list[str]) -> int:
    """Print the description: ``main([packaging_dir])``, or without markers and tags
    ``main([packaging_dir, "--no-platform"])``."""
    startup_path = list(sys.path)
    data = describe(argv[0], startup_path, platform="--no-platform" not in argv[1:])
    sys.stdout.write(SENTINEL + json.dumps(data, sort_keys=True) + "\n")
    sys.stdout.flush()
    return 0
