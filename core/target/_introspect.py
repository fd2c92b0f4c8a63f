"""Describe the interpreter that runs this file, as JSON on stdout.

This runs *inside the target interpreter* (Python 3.8 or newer), never inside
roost: roost may live in a different Python (pipx), and every path, tag and marker
must come from the interpreter packages are installed into. It imports only that
interpreter's standard library (a third-party module, ``packaging`` included, may
not run there: the current ``packaging`` needs 3.10), and it reports *facts*: the
version, ABI flags, C library, machine and schemes. roost turns the facts into
markers and wheel tags in its own process (``roost.target.tags``).

roost runs it through a small ``-c`` bootstrap (see ``roost.target.interpreter``) that
checks the version and drops the working directory from ``sys.path``, so neither
a too-old interpreter nor a stray ``json.py`` in the working directory can break
it. The bootstrap then calls :func:`main`.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import json
import os
import platform
import site
import struct
import subprocess
import sys
import sysconfig

#: The line printed before the JSON, so start-up noise (a chatty sitecustomize)
#: on stdout cannot be mistaken for the answer.
SENTINEL = "roost-introspect-v2:"

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


#: Build settings that decide the ABI tags (PEP 425, PEP 703) and the generic ABI.
_CONFIG_VARS = (
    "SOABI",
    "EXT_SUFFIX",
    "Py_DEBUG",
    "Py_GIL_DISABLED",
    "WITH_PYMALLOC",
    "Py_UNICODE_SIZE",
    "py_version_nodot",
    "MULTIARCH",
)
#: ELF program header type of the dynamic loader's path.
_PT_INTERP = 3
#: Bounds on what is read of the executable: a real header is a few hundred bytes.
_ELF_MAX_HEADERS = 64
_ELF_MAX_INTERP = 4096


def _elf_facts(path: str) -> dict[str, object] | None:
    """The ELF header fields PEP 600 and PEP 656 look at, or None for a non-ELF file."""
    try:
        with open(path, "rb") as handle:
            ident = handle.read(16)
            if len(ident) < 16 or ident[:4] != b"\x7fELF" or ident[4] not in (1, 2):
                return None
            bits64 = ident[4] == 2
            order = "<" if ident[5] == 1 else ">"
            layout = "HHIQQQIHHH" if bits64 else "HHIIIIIHHH"
            header = handle.read(struct.calcsize(order + layout))
            (_, machine, _, _, phoff, _, flags, _, phentsize, phnum) = struct.unpack(
                order + layout, header
            )
            interpreter = None
            entry = order + ("IIQQQQQQ" if bits64 else "IIIIIIII")
            for index in range(min(phnum, _ELF_MAX_HEADERS)):
                handle.seek(phoff + index * phentsize)
                fields = struct.unpack(entry, handle.read(struct.calcsize(entry)))
                if fields[0] != _PT_INTERP:
                    continue
                # 64-bit: type, flags, offset, ...; 32-bit: type, offset, ..., filesz at 4.
                offset, size = (fields[2], fields[5]) if bits64 else (fields[1], fields[4])
                handle.seek(offset)
                raw = handle.read(min(size, _ELF_MAX_INTERP))
                interpreter = raw.split(b"\0", 1)[0].decode("utf-8", "replace")
                break
    except (OSError, struct.error):
        return None
    return {
        "class": 64 if bits64 else 32,
        "lsb": ident[5] == 1,
        "machine": machine,
        "flags": flags,
        "interpreter": interpreter,
    }


def _glibc_version() -> str | None:
    """glibc's version the way PEP 600 says: ``confstr``, else ``gnu_get_libc_version``."""
    try:
        found = os.confstr("CS_GNU_LIBC_VERSION")
        if found:
            return found.split()[-1]
    except (AttributeError, OSError, ValueError):
        pass
    try:
        import ctypes

        function = ctypes.CDLL(None).gnu_get_libc_version
    except (ImportError, OSError, AttributeError):
        return None
    function.restype = ctypes.c_char_p
    value = function()
    return value.decode("ascii", "replace") if isinstance(value, bytes) else None


def _musl_version(elf: dict[str, object] | None) -> str | None:
    """musl's version the way PEP 656 says: run the executable's loader, read its banner."""
    loader = elf.get("interpreter") if elf else None
    if not isinstance(loader, str) or "musl" not in loader:
        return None
    try:
        proc = subprocess.run(
            [loader], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    for line in proc.stderr.decode("utf-8", "replace").splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == "Version":
            return words[1]
    return None


def _mac_version() -> str | None:
    release = platform.mac_ver()[0]
    if not release:
        return None
    if release.split(".")[:2] == ["10", "16"]:
        # Built against an old SDK, Python reports 10.16; ask without the compatibility shim.
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            release = (
                subprocess.run(
                    [sys.executable, "-sS", "-c", "import platform; print(platform.mac_ver()[0])"],
                    env={"SYSTEM_VERSION_COMPAT": "0"},
                    stdout=subprocess.PIPE,
                    timeout=30,
                    check=True,
                )
                .stdout.decode("ascii", "replace")
                .strip()
                or release
            )
    return release


def platform_facts() -> dict[str, object]:
    """What decides markers and tags: versions, platform, build settings, C library."""
    config = sysconfig.get_config_vars()
    elf = _elf_facts(sys.executable) if sys.platform.startswith("linux") else None
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": list(sys.implementation.version),
        "version_info": list(sys.version_info),
        "python_full_version": platform.python_version(),
        "python_version_tuple": list(platform.python_version_tuple()),
        "platform_python_implementation": platform.python_implementation(),
        "os_name": os.name,
        "sys_platform": sys.platform,
        "platform_system": platform.system(),
        "platform_release": platform.release(),
        "platform_version": platform.version(),
        "platform_machine": platform.machine(),
        "sysconfig_platform": sysconfig.get_platform(),
        "pointer_bits": struct.calcsize("P") * 8,
        "config_vars": {
            name: config.get(name)
            for name in _CONFIG_VARS
            if isinstance(config.get(name), (str, int, type(None)))
        },
        "extension_suffixes": list(importlib.machinery.EXTENSION_SUFFIXES),
        "has_totalrefcount": hasattr(sys, "gettotalrefcount"),
        "glibc_version": _glibc_version() if elf is not None else None,
        "elf": elf,
        "musl_version": _musl_version(elf),
        "mac_version": _mac_version() if sys.platform == "darwin" else None,
        "mac_arch": platform.mac_ver()[2] if sys.platform == "darwin" else None,
    }


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


def describe(startup_path: list[str], *, with_platform: bool = True) -> dict[str, object]:
    """Everything roost's ``Target`` needs, as JSON-serialisable values.

    ``with_platform=False`` leaves out the platform facts (finding the C library can
    mean running its loader): roost passes it when it knows them already for this
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
    if with_platform:
        found["platform"] = platform_facts()
    return found


def main(argv: list[str]) -> int:
    """Print the description: ``main([])``, or without the platform facts
    ``main(["--no-platform"])``."""
    startup_path = list(sys.path)
    data = describe(startup_path, with_platform="--no-platform" not in argv)
    sys.stdout.write(SENTINEL + json.dumps(data, sort_keys=True) + "\n")
    sys.stdout.flush()
    return 0
