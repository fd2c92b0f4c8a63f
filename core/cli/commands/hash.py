"""``roost hash FILE...``: the ``--hash`` line of each file, as ``pip hash`` prints it.

The lines go straight into a requirements file for hash-checking mode
(``--require-hashes``), so the output is pip's, byte for byte.
"""

from __future__ import annotations

import click

#: The algorithms pip accepts in ``--hash`` (its "strong" ones); sha256 is the default.
ALGORITHMS = ("sha256", "sha384", "sha512")


def hash_command() -> click.Command:
    @click.command("hash")
    @click.argument("files", nargs=-1, metavar="FILE...")
    @click.option(
        "-a",
        "--algorithm",
        type=click.Choice(ALGORITHMS),
        default="sha256",
        show_default=True,
        help="The hash algorithm.",
    )
    def hash_(files: tuple[str, ...], algorithm: str) -> None:
        """Print the --hash line of each FILE, for requirements files in hash-checking
        mode."""
        from pathlib import Path

        from roost.errors import RoostError
        from roost.net.hashing import file_hashes
        from roost.util.output import escape_controls

        if not files:
            # pip prints its usage and exits 1 here, not click's 2 for a missing argument.
            raise RoostError("give at least one FILE: roost hash [-a ALGORITHM] FILE...")
        for name in files:
            try:
                digest = file_hashes(Path(name), (algorithm,))[algorithm]
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                raise RoostError(f"cannot read {name}: {reason}") from None
            click.echo(f"{escape_controls(name)}:\n--hash={algorithm}:{digest}")

    return hash_
