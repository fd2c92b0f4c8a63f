"""Confine a build hook's writes to a few folders with Linux Landlock, then run the hook.

This file runs *inside the build environment's interpreter* (any CPython 3.8 or newer),
never inside roost, as ``python -I -S _build_sandbox.py SPEC COMMAND...``: ``-I`` keeps
the working directory, this folder and ``PYTHON*`` variables out of its ``sys.path``,
and ``-S`` skips ``site``; it needs only ``ctypes``, ``json`` and ``os``. SPEC is JSON,
``{"writable": [paths], "require": bool}``. The process restricts itself, then
``os.execv``'s COMMAND, which inherits the restriction, as do all its children: the
kernel enforces it, whatever the backend runs.

Only writes are handled: every right Landlock has for changing the file system (writing
and truncating files; creating, removing, renaming and linking entries) is denied except
beneath the SPEC's paths. Reading and executing stay as they were, so the backend sees
the whole machine, compilers and headers included. Device ioctls (ABI 5) are left alone:
they are not writes, and denying them breaks terminal queries on ``/dev/tty``.

Keep it to Python 3.8's syntax and standard library. roost itself imports this module to
probe the kernel with :func:`landlock_abi`, so the two ends agree on the system call
numbers and rights.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import struct
import sys

# The system calls of include/uapi/linux/landlock.h. Since Linux 5.1 new calls take one
# number on every architecture that uses the common table; alpha and the MIPS ABIs add
# their own offsets, so the calls are not made there.
_CREATE_RULESET = 444
_ADD_RULE = 445
_RESTRICT_SELF = 446
_COMMON_TABLE = (
    "x86_64",
    "amd64",
    "i386",
    "i486",
    "i586",
    "i686",
    "aarch64",
    "arm64",
    "armv6l",
    "armv7l",
    "armv8l",
    "riscv64",
    "ppc64",
    "ppc64le",
    "s390x",
    "loongarch64",
)
#: ``landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`` answers the ABI.
_VERSION_FLAG = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

WRITE_FILE = 1 << 1
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
#: ABI 2: moving or linking an entry to another folder. Until ABI 2 the kernel refuses
#: every such move under a ruleset, so a build there gets EXDEV and copies instead.
REFER = 1 << 13
#: ABI 3: truncate(2), and open(2) with O_TRUNC.
TRUNCATE = 1 << 14
#: The rights a rule on a file that is not a folder (``/dev/null``) may carry.
FILE_RIGHTS = WRITE_FILE | TRUNCATE
#: Exit status when the sandbox is required and cannot be set up.
REQUIRED_EXIT = 78


class Unavailable(Exception):
    """Landlock cannot be used here; the message says why."""


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _failed(what: str) -> Unavailable:
    code = ctypes.get_errno()
    if code == 38:  # ENOSYS
        return Unavailable(f"this kernel has no Landlock ({what}: ENOSYS)")
    if code == 95:  # EOPNOTSUPP
        return Unavailable(
            f"Landlock is built into this kernel but not enabled ({what}: EOPNOTSUPP; "
            "see the lsm= boot parameter)"
        )
    return Unavailable(f"{what} failed: {os.strerror(code)}")


def landlock_abi() -> int:
    """The Landlock ABI version the kernel supports (1 or more).

    :raises Unavailable: not Linux, an architecture with other call numbers, no
        ``ctypes``, or a kernel without Landlock or with it disabled.
    """
    if not sys.platform.startswith("linux"):
        raise Unavailable(f"Landlock is a Linux feature (this is {sys.platform})")
    machine = platform.machine().lower()
    if machine not in _COMMON_TABLE:
        raise Unavailable(f"Landlock's system call numbers are not known for {machine}")
    try:
        libc = _libc()
    except OSError as exc:
        raise Unavailable(f"the C library cannot be loaded: {exc}") from None
    abi = int(
        libc.syscall(
            ctypes.c_long(_CREATE_RULESET),
            None,
            ctypes.c_size_t(0),
            ctypes.c_uint32(_VERSION_FLAG),
        )
    )
    if abi < 1:
        raise _failed("landlock_create_ruleset")
    return abi


def handled_rights(abi: int) -> int:
    """Every write right the kernel of *abi* can deny."""
    rights = (
        WRITE_FILE
        | REMOVE_DIR
        | REMOVE_FILE
        | MAKE_CHAR
        | MAKE_DIR
        | MAKE_REG
        | MAKE_SOCK
        | MAKE_FIFO
        | MAKE_BLOCK
        | MAKE_SYM
    )
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    return rights


def restrict(writable: list[str]) -> int:
    """Deny this process and its children every write outside *writable*; return the ABI.

    A path that does not exist is skipped (``/dev/tty`` on a machine without one).

    :raises Unavailable: when the kernel cannot do it; nothing is restricted then.
    """
    abi = landlock_abi()
    handled = handled_rights(abi)
    libc = _libc()
    # struct landlock_ruleset_attr: handled_access_fs alone, the 8-byte form every ABI
    # accepts (the network and scope fields of later ABIs stay unhandled).
    attr = ctypes.create_string_buffer(struct.pack("=Q", handled))
    ruleset = int(
        libc.syscall(
            ctypes.c_long(_CREATE_RULESET),
            attr,
            ctypes.c_size_t(8),
            ctypes.c_uint32(0),
        )
    )
    if ruleset < 0:
        raise _failed("landlock_create_ruleset")
    try:
        for path in writable:
            _allow(libc, ruleset, path, handled)
        if (
            libc.prctl(
                ctypes.c_int(_PR_SET_NO_NEW_PRIVS), *(ctypes.c_ulong(v) for v in (1, 0, 0, 0))
            )
            != 0
        ):
            raise _failed("prctl(PR_SET_NO_NEW_PRIVS)")
        done = libc.syscall(
            ctypes.c_long(_RESTRICT_SELF), ctypes.c_int(ruleset), ctypes.c_uint32(0)
        )
        if done != 0:
            raise _failed("landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


def _allow(libc: ctypes.CDLL, ruleset: int, path: str, handled: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise Unavailable(f"cannot open {path} for a rule: {exc}") from None
    try:
        rights = handled if os.path.isdir(path) else handled & FILE_RIGHTS
        # struct landlock_path_beneath_attr is packed: u64 allowed_access, s32 parent_fd.
        beneath = ctypes.create_string_buffer(struct.pack("=Qi", rights, fd))
        added = libc.syscall(
            ctypes.c_long(_ADD_RULE),
            ctypes.c_int(ruleset),
            ctypes.c_int(_RULE_PATH_BENEATH),
            beneath,
            ctypes.c_uint32(0),
        )
        if added != 0:
            raise _failed(f"landlock_add_rule({path})")
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        sys.stderr.write("usage: _build_sandbox.py SPEC COMMAND [ARG...]\n")
        return 2
    spec = json.loads(args[0])
    command = args[1:]
    try:
        restrict([str(path) for path in spec["writable"]])
    except Unavailable as exc:
        if spec.get("require"):
            sys.stderr.write(f"roost: the build sandbox is required but unavailable: {exc}\n")
            return REQUIRED_EXIT
        # roost probed the kernel before choosing to sandbox, so this is rare: say so in
        # the build's output, and build as roost would without a sandbox.
        sys.stderr.write(f"roost: build sandbox unavailable: {exc}\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
