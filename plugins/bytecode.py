"""``--compile``: byte-compile what was installed, with the target interpreter.

Off by default, as with uv: most images never import half their files, and the
interpreter writes ``__pycache__`` on first import anyway. The target compiles
its own files because bytecode is specific to its version.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from roost.errors import InstallError
from roost.hookspecs import hookimpl

if TYPE_CHECKING:
    from roost.types import InstalledDistribution, Options, Scheme, Target

# Runs inside the target (3.9+): compile the files named on stdin in parallel.
_COMPILE = """
import sys, py_compile
from concurrent.futures import ProcessPoolExecutor
def one(path):
    try:
        py_compile.compile(path, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
        return None
    except Exception as exc:
        return "%s: %s" % (path, exc)
files = [line for line in sys.stdin.read().splitlines() if line]
with ProcessPoolExecutor() as pool:
    errors = [e for e in pool.map(one, files, chunksize=64) if e]
for e in errors:
    print(e, file=sys.stderr)
"""


@hookimpl
def roost_add_options(command: str) -> list[click.Option]:
    if command not in {"install", "sync"}:
        return []
    return [
        click.Option(
            ["--compile/--no-compile", "compile_bytecode"],
            default=False,
            help="Byte-compile installed Python files. Default off, unlike pip, which "
            "compiles; --compile gives pip's behaviour.",
        )
    ]


@hookimpl(trylast=True)
def roost_post_install(
    target: Target,
    scheme: Scheme,
    installed: Sequence[InstalledDistribution],
    options: Options,
) -> None:
    if not options.flag("compile_bytecode"):
        return
    files = [path for dist in installed for path in dist.files if path.endswith(".py")]
    if not files:
        return
    done = subprocess.run(
        [target.executable, "-c", _COMPILE],
        input="\n".join(files),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise InstallError(f"byte-compiling with {target.executable} failed: {done.stderr}")
    for line in done.stderr.splitlines():
        click.echo(f"WARNING: could not compile {line}", err=True)
