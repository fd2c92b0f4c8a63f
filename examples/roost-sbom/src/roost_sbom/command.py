"""``roost sbom``: the CycloneDX SBOM of an environment, on demand.

roost builds its command line on every start, so this module holds the click objects
only; what making an SBOM needs is imported when the command runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import click


def sbom_command() -> click.Command:
    @click.command("sbom")
    @click.option(
        "--python",
        metavar="PYTHON",
        help="Interpreter or virtual environment to describe (default: as for install: "
        "$VIRTUAL_ENV, a .venv here or above, then python3 on PATH).",
    )
    @click.option(
        "--path",
        "paths",
        multiple=True,
        metavar="DIR",
        help="Only the distributions in DIR (repeatable), read by the interpreter, instead "
        "of everything on its sys.path: the SBOM of a --target or --prefix install.",
    )
    @click.option(
        "-o",
        "--output",
        metavar="FILE",
        help="Write the SBOM to FILE (replaced whole) instead of printing it.",
    )
    @click.option(
        "--format",
        "output_format",
        type=click.Choice(["json", "xml"]),
        help="CycloneDX 1.6 JSON (the default) or XML; with --output, a FILE named *.xml "
        "means XML.",
    )
    @click.pass_context
    def sbom(
        ctx: click.Context,
        python: str | None,
        paths: tuple[str, ...],
        output: str | None,
        output_format: str | None,
    ) -> None:
        """Print the CycloneDX SBOM of an environment."""
        from roost.errors import RoostError
        from roost_sbom.document import build, serialize
        from roost_sbom.environment import find_python, read_environment
        from roost_sbom.writing import format_for, write_atomically

        # `python -m roost` describes the interpreter running it, as its install does.
        default = ctx.meta.get("roost.default_python")
        chosen = python or (default if isinstance(default, str) else None)
        executable = find_python(chosen, cwd=Path.cwd(), env=os.environ)
        for directory in paths:
            if not os.path.isdir(directory):
                raise click.BadParameter(f"{directory} is not a directory", param_hint="--path")
        environment = read_environment(executable, paths)
        kind = output_format or (format_for(output) if output else "json")
        text = serialize(build(environment), kind)
        if output is None:
            click.echo(text, nl=False)
            return
        target = Path(os.path.abspath(os.path.expanduser(output)))
        try:
            write_atomically(target, text)
        except OSError as exc:
            raise RoostError(
                f"could not write the SBOM to {target}: {exc.strerror or exc}"
            ) from exc

    return sbom
