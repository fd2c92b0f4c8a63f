"""What roost prints: results to stdout, warnings and errors to stderr, as pip does."""

from __future__ import annotations

from dataclasses import dataclass

import click


@dataclass
class Output:
    verbose: int = 0
    quiet: int = 0

    def info(self, message: str) -> None:
        if self.quiet < 1:
            click.echo(message)

    def detail(self, message: str) -> None:
        if self.verbose > 0:
            click.echo(message, err=True)

    def warning(self, message: str) -> None:
        if self.quiet < 2:
            click.echo(f"WARNING: {message}", err=True)

    def error(self, message: str) -> None:
        click.echo(f"ERROR: {message}", err=True)
