"""A target that is not this machine: ``--platform``, ``--python-version``,
``--implementation`` and ``--abi`` as pip's ``download`` takes them.

The first stage of a multi-stage build often runs on another machine (a CI runner,
a Mac) than the image it fills, so the wheel tags and the markers must describe the
image, not the machine running roost.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from packaging import tags as ptags

from roost.errors import ConfigError
from roost.types import Target

_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(.+)$")
_LEGACY = re.compile(r"^(manylinux1|manylinux2010|manylinux2014)_(.+)$")
_MACOS = re.compile(r"^macosx_(\d+)_(\d+)_(.+)$")


def parse_python_version(text: str) -> tuple[int, ...]:
    """``3.12``, ``312``, ``3`` or ``3.12.1``, as pip accepts them."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+){0,2}", text) and "." in text:
        return tuple(int(part) for part in text.split("."))
    if re.fullmatch(r"\d", text):
        return (int(text),)
    if re.fullmatch(r"\d\d+", text):
        return (int(text[0]), int(text[1:]))
    raise ConfigError(f"--python-version {text!r}: give it as 3.12, 312 or 3.12.1")


def expand_platform(platform: str) -> list[str]:
    """A platform and the older ones that its wheels' consumers accept too.

    ``manylinux2014_x86_64`` also accepts every manylinux_2_N down to 2_5, as an
    interpreter on that glibc would; ``macosx_11_0_arm64`` accepts older macOS.
    """
    legacy = _LEGACY.match(platform)
    if legacy:
        major, minor = _LEGACY_MANYLINUX[legacy.group(1)]
        arch = legacy.group(2)
    else:
        modern = _MANYLINUX.match(platform)
        if modern is None:
            mac = _MACOS.match(platform)
            if mac is None:
                return [platform]
            major, minor, arch = int(mac.group(1)), int(mac.group(2)), mac.group(3)
            return [f"macosx_{major}_{m}_{arch}" for m in range(minor, -1, -1)] + [
                f"macosx_{v}_0_{arch}" for v in range(major - 1, 10, -1)
            ]
        major, minor, arch = int(modern.group(1)), int(modern.group(2)), modern.group(3)
    found = []
    for m in range(minor, 4, -1):
        found.append(f"manylinux_{major}_{m}_{arch}")
        for name, version in _LEGACY_MANYLINUX.items():
            if version == (major, m):
                found.append(f"{name}_{arch}")
    return found


def _platform_markers(platform: str) -> dict[str, str]:
    if platform.startswith(("manylinux_", "musllinux_")):
        arch = platform.split("_", 3)[3]  # manylinux_2_17_x86_64 -> x86_64
    elif platform.startswith(("manylinux", "linux")):
        arch = platform.split("_", 1)[1]  # manylinux2014_x86_64, linux_x86_64
    else:
        arch = ""
    if arch:
        return {
            "sys_platform": "linux",
            "platform_system": "Linux",
            "os_name": "posix",
            "platform_machine": arch,
        }
    if platform.startswith("macosx"):
        return {
            "sys_platform": "darwin",
            "platform_system": "Darwin",
            "os_name": "posix",
            "platform_machine": platform.rsplit("_", 1)[1],
        }
    if platform.startswith("win"):
        machine = {"win32": "x86", "win_amd64": "AMD64", "win_arm64": "ARM64"}.get(platform, "")
        return {
            "sys_platform": "win32",
            "platform_system": "Windows",
            "os_name": "nt",
            "platform_machine": machine,
        }
    return {}


def foreign_target(
    base: Target,
    *,
    platforms: Sequence[str] = (),
    python_version: str | None = None,
    implementation: str | None = None,
    abis: Sequence[str] = (),
) -> Target:
    """*base* re-described for another platform, Python version, implementation or ABI."""
    if not (platforms or python_version or implementation or abis):
        return base
    version = parse_python_version(python_version) if python_version else base.version
    major_minor = (version[0], version[1] if len(version) > 1 else 0)
    full = ".".join(str(v) for v in (*version, 0, 0)[:3])
    impl = implementation or "cp"
    if impl not in {"cp", "pp", "py", "ip", "jy"}:
        raise ConfigError(f"--implementation {impl!r}: use cp, pp, ip, jy or py")
    base_platforms = [str(t.platform) for t in _local_platforms(base)]
    wanted = [p for platform in platforms for p in expand_platform(platform)] or base_platforms
    wanted = list(dict.fromkeys(wanted))
    interpreter = f"{impl}{major_minor[0]}{major_minor[1]}"
    found: list[ptags.Tag] = []
    if impl == "cp":
        found.extend(ptags.cpython_tags(major_minor, abis=list(abis) or None, platforms=wanted))
    elif impl != "py":
        found.extend(ptags.generic_tags(interpreter, abis=list(abis) or None, platforms=wanted))
    found.extend(ptags.compatible_tags(major_minor, interpreter=interpreter, platforms=wanted))
    markers = dict(base.markers)
    markers.update(
        {
            "python_version": f"{major_minor[0]}.{major_minor[1]}",
            "python_full_version": full,
            "implementation_version": full,
        }
    )
    if impl in {"cp", "pp"}:
        names = {"cp": ("cpython", "CPython"), "pp": ("pypy", "PyPy")}[impl]
        markers["implementation_name"], markers["platform_python_implementation"] = names
    if platforms:
        markers.update(_platform_markers(platforms[0]))
        markers["platform_release"] = ""
        markers["platform_version"] = ""
    parts = [int(v) for v in full.split(".")]
    return replace(
        base,
        version=(parts[0], parts[1], parts[2]),
        tags=tuple(dict.fromkeys(str(t) for t in found)),
        markers=markers,
        implementation={"cp": "cpython", "pp": "pypy"}.get(impl, impl),
    )


def _local_platforms(base: Target) -> list[ptags.Tag]:
    """The platforms the base target's own tags use, best first."""
    seen: dict[str, ptags.Tag] = {}
    for text in base.tags:
        for tag in ptags.parse_tag(text):
            if tag.platform != "any":
                seen.setdefault(tag.platform, tag)
    return list(seen.values())
