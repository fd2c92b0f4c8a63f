"""Turn the facts a target interpreter reports into its PEP 508 markers and wheel tags.

The probe (``_introspect.py``) runs in the target with its standard library only and
reports facts; this module decides, in roost's process, with ``packaging``'s public
API (``cpython_tags``, ``generic_tags``, ``compatible_tags``, ``mac_platforms``). The
Linux platform list follows PEP 600 (manylinux, by glibc version and ELF header)
and PEP 656 (musllinux, by the version musl's loader prints), which ``packaging``
only computes for the interpreter running it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import packaging
from packaging import tags as ptags
from packaging.version import Version

#: ELF ``e_machine`` values and flags that PEP 600 checks for 32-bit targets.
_EM_386 = 3
_EM_ARM = 40
_EF_ARM_ABIMASK = 0xFF000000
_EF_ARM_ABI_VER5 = 0x05000000
_EF_ARM_ABI_FLOAT_HARD = 0x00000400
#: Architectures whose manylinux wheels need nothing more than glibc (PEP 600).
_MANYLINUX_ARCHS = {"x86_64", "aarch64", "ppc64", "ppc64le", "s390x", "loongarch64", "riscv64"}
_LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
#: packaging 26.3 moved native ``linux_*`` tags before manylinux and musllinux ones;
#: roost orders them as the packaging it runs with does, so tags and resolution agree.
_NATIVE_FIRST_SINCE = Version("26.3")


def native_linux_first() -> bool:
    """Whether roost's ``packaging`` ranks ``linux_<arch>`` above manylinux and musllinux."""
    return Version(packaging.__version__) >= _NATIVE_FIRST_SINCE


def _normalize(value: str) -> str:
    return value.replace(".", "_").replace("-", "_").replace(" ", "_")


def _full_version(info: Sequence[Any]) -> str:
    version = f"{info[0]}.{info[1]}.{info[2]}"
    if len(info) > 4 and info[3] != "final":
        version += f"{str(info[3])[0]}{info[4]}"
    return version


def markers_from_facts(facts: Mapping[str, Any]) -> dict[str, str]:
    """The marker environment ``packaging.markers.default_environment()`` gives in the target."""
    return {
        "implementation_name": str(facts["implementation_name"]),
        "implementation_version": _full_version(facts["implementation_version"]),
        "os_name": str(facts["os_name"]),
        "platform_machine": str(facts["platform_machine"]),
        "platform_release": str(facts["platform_release"]),
        "platform_system": str(facts["platform_system"]),
        "platform_version": str(facts["platform_version"]),
        "python_full_version": str(facts["python_full_version"]),
        "platform_python_implementation": str(facts["platform_python_implementation"]),
        "python_version": ".".join(str(part) for part in facts["python_version_tuple"][:2]),
        "sys_platform": str(facts["sys_platform"]),
    }


def _major_minor(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    parts = text.split(".")
    try:
        return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or "x")
    except (IndexError, ValueError):
        return None


def _manylinux_abi_ok(elf: Mapping[str, Any] | None, archs: Sequence[str]) -> bool:
    if "armv7l" in archs:
        return bool(
            elf
            and elf["class"] == 32
            and elf["lsb"]
            and elf["machine"] == _EM_ARM
            and elf["flags"] & _EF_ARM_ABIMASK == _EF_ARM_ABI_VER5
            and elf["flags"] & _EF_ARM_ABI_FLOAT_HARD == _EF_ARM_ABI_FLOAT_HARD
        )
    if "i686" in archs:
        return bool(elf and elf["class"] == 32 and elf["lsb"] and elf["machine"] == _EM_386)
    return any(arch in _MANYLINUX_ARCHS for arch in archs)


def _manylinux(facts: Mapping[str, Any], archs: Sequence[str]) -> Iterator[str]:
    glibc = _major_minor(facts.get("glibc_version"))
    if glibc is None or not _manylinux_abi_ok(facts.get("elf"), archs):
        return
    # glibc 2.5 is manylinux1 for x86; elsewhere manylinux starts at 2.17.
    oldest = 5 if set(archs) & {"x86_64", "i686"} else 17
    # Older glibc majors (none exist yet) would count down from their last minor, 50.
    ceilings = [glibc, *((major, 50) for major in range(glibc[0] - 1, 1, -1))]
    for arch in archs:
        for major, top in ceilings:
            bottom = oldest - 1 if major == 2 else -1
            for minor in range(top, bottom, -1):
                yield f"manylinux_{major}_{minor}_{arch}"
                legacy = _LEGACY_MANYLINUX.get((major, minor))
                if legacy:
                    yield f"{legacy}_{arch}"


def _musllinux(facts: Mapping[str, Any], archs: Sequence[str]) -> Iterator[str]:
    musl = _major_minor(facts.get("musl_version"))
    if musl is None:
        return
    for arch in archs:
        for minor in range(musl[1], -1, -1):
            yield f"musllinux_{musl[0]}_{minor}_{arch}"


def _linux_platforms(facts: Mapping[str, Any], *, native_first: bool) -> list[str]:
    linux = _normalize(str(facts["sysconfig_platform"]))
    if not linux.startswith("linux_"):
        return [linux]
    if facts["pointer_bits"] == 32:
        linux = {"linux_x86_64": "linux_i686", "linux_aarch64": "linux_armv8l"}.get(linux, linux)
    arch = linux.split("_", 1)[1]
    archs = ["armv8l", "armv7l"] if arch == "armv8l" else [arch]
    native = [f"linux_{name}" for name in archs]
    portable = [*_manylinux(facts, archs), *_musllinux(facts, archs)]
    return native + portable if native_first else portable + native


def _mac_platforms(facts: Mapping[str, Any]) -> list[str]:
    version = _major_minor(facts.get("mac_version"))
    arch = str(facts.get("mac_arch") or facts["platform_machine"])
    if facts["pointer_bits"] == 32:
        arch = "ppc" if arch.startswith("ppc") else "i386"
    if version is None:
        return [_normalize(str(facts["sysconfig_platform"]))]
    return list(ptags.mac_platforms(version, arch))


def platforms_from_facts(facts: Mapping[str, Any], *, native_first: bool) -> list[str]:
    """The platform tags of the target, most specific first."""
    system = facts["platform_system"]
    if system == "Darwin":
        return _mac_platforms(facts)
    if system == "Linux":
        return _linux_platforms(facts, native_first=native_first)
    return [_normalize(str(facts["sysconfig_platform"]))]


def _config(facts: Mapping[str, Any], name: str) -> Any:
    return facts.get("config_vars", {}).get(name)


def _cpython_abis(facts: Mapping[str, Any], version: tuple[int, int]) -> list[str]:
    nodot = f"{version[0]}{version[1]}"
    debug_var = _config(facts, "Py_DEBUG")
    debug = (
        "d"
        if debug_var
        or (
            debug_var is None
            and (facts["has_totalrefcount"] or "_d.pyd" in facts["extension_suffixes"])
        )
        else ""
    )
    threading = "t" if version >= (3, 13) and _config(facts, "Py_GIL_DISABLED") else ""
    abis = [f"cp{nodot}{threading}{debug}"]
    if debug:
        # A debug build loads ordinary extension modules too.
        abis.append(f"cp{nodot}{threading}")
    return abis


def _generic_abis(facts: Mapping[str, Any], version: tuple[int, int]) -> list[str]:
    suffix = _config(facts, "EXT_SUFFIX")
    if not isinstance(suffix, str) or not suffix.startswith("."):
        return []
    parts = suffix.split(".")
    if len(parts) < 3:
        return _cpython_abis(facts, version)
    soabi = parts[1]
    if soabi.startswith("cpython"):
        pieces = soabi.split("-")
        return [_normalize("cp" + pieces[1])] if len(pieces) > 1 and pieces[1] else []
    if soabi.startswith("cp"):
        abi = soabi.split("-")[0]
    elif soabi.startswith("pypy"):
        abi = "-".join(soabi.split("-")[:2])
    elif soabi.startswith("graalpy"):
        abi = "-".join(soabi.split("-")[:3])
    else:
        abi = soabi
    return [_normalize(abi)] if abi else []


def tags_from_facts(facts: Mapping[str, Any], *, native_first: bool | None = None) -> list[str]:
    """The target's supported tags, in the order ``packaging.tags.sys_tags()`` gives them.

    :param native_first: rank ``linux_<arch>`` before manylinux and musllinux; by
        default as roost's own ``packaging`` release does (see :func:`native_linux_first`).
    """
    if native_first is None:
        native_first = native_linux_first()
    info = facts["version_info"]
    version = (int(info[0]), int(info[1]))
    platforms = platforms_from_facts(facts, native_first=native_first)
    name = str(facts["implementation_name"])
    short = ptags.INTERPRETER_SHORT_NAMES.get(name) or name
    nodot = str(_config(facts, "py_version_nodot") or f"{version[0]}{version[1]}")
    found: list[ptags.Tag] = []
    if short == "cp":
        found.extend(ptags.cpython_tags(version, _cpython_abis(facts, version), platforms))
        compatible_interpreter: str | None = f"cp{nodot}"
    else:
        abis = _generic_abis(facts, version)
        found.extend(ptags.generic_tags(f"{short}{nodot}", abis, platforms))
        compatible_interpreter = "pp3" if short == "pp" else None
    found.extend(ptags.compatible_tags(version, compatible_interpreter, platforms))
    return [str(tag) for tag in found]
