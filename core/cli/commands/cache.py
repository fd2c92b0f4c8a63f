"""``roost cache``: where the cache is, what it holds, and removing wheels from it.

pip's subcommands and formats (``dir``, ``info``, ``list [PATTERN] [--format
human|abspath]``, ``remove PATTERN``, ``purge``; sizes as pip writes them), over roost's
cache: downloaded wheels in ``wheels/``, wheels built from sources in ``built/``, and
their unpacked copies in ``unpacked/``. ``--format`` may come before the subcommand, as
pip takes it.
"""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path

import click

from roost.errors import ConfigError

#: The folders of the cache that hold wheels (downloaded, and built from sources).
WHEEL_PARTS = ("wheels", "built")
FORMATS = ("human", "abspath")


def _root(ctx: click.Context, cache_dir: str | None) -> Path:
    from roost.util.cache import cache_root
    from roost.util.settings import build_settings

    given = cache_dir or (ctx.parent.params.get("cache_dir") if ctx.parent else None)
    cli = {"cache-dir": given} if given else {}
    root = cache_root(build_settings("cache", cli, ctx.meta["roost.manager"]))
    if root is None:
        raise ConfigError("the cache commands have nothing to act on: the cache is disabled")
    return root


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def format_size(size: float) -> str:
    """A size as pip prints it: ``512 bytes``, ``1.5 kB``, ``42 kB``, ``3.1 MB``."""
    if size > 1000 * 1000:
        return f"{size / 1000.0 / 1000:.1f} MB"
    if size > 10 * 1000:
        return f"{int(size / 1000)} kB"
    if size > 1000:
        return f"{size / 1000.0:.1f} kB"
    return f"{int(size)} bytes"


def _wheels(root: Path) -> list[Path]:
    return sorted(w for part in WHEEL_PARTS for w in (root / part).glob("**/*.whl"))


def _matches(filename: str, pattern: str) -> bool:
    """pip's rule (a glob over the file name, ``-*.whl`` added to a bare name, ``*.whl``
    to one with a version), plus: a bare project name matches whatever its spelling."""
    from packaging.utils import canonicalize_name

    if fnmatch.fnmatchcase(filename, pattern):
        return True
    if fnmatch.fnmatchcase(filename, pattern + ("*.whl" if "-" in pattern else "-*.whl")):
        return True
    project = filename.split("-", 1)[0]
    return "*" not in pattern and canonicalize_name(project) == canonicalize_name(pattern)


def _drop(wheel: Path, root: Path) -> None:
    """Remove *wheel* with its digest stamp, then the folders it leaves empty."""
    wheel.unlink()
    wheel.with_name(wheel.name + ".sha256").unlink(missing_ok=True)
    parent = wheel.parent
    stops = {root, *(root / part for part in WHEEL_PARTS)}
    while parent not in stops and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def cache_command() -> click.Group:
    option = click.option("--cache-dir", metavar="DIR", help="Cache directory.")

    @click.group("cache")
    @click.option(
        "--format",
        "list_format",
        type=click.Choice(FORMATS),
        help="For list: human (default) or abspath.",
    )
    @option
    def cache(list_format: str | None, cache_dir: str | None) -> None:
        """Inspect and manage roost's cache."""

    @cache.command("dir")
    @option
    @click.pass_context
    def dir_(ctx: click.Context, cache_dir: str | None) -> None:
        """Print the cache directory."""
        click.echo(str(_root(ctx, cache_dir)))

    @cache.command("info")
    @option
    @click.pass_context
    def info(ctx: click.Context, cache_dir: str | None) -> None:
        """Locations and sizes of each part of the cache."""
        root = _root(ctx, cache_dir)
        click.echo(f"Cache location: {root}")
        if not root.exists():
            click.echo("(empty)")
            return
        for part in sorted(p for p in root.iterdir() if p.is_dir()):
            click.echo(f"{part.name + ':':<14}{format_size(_size(part)):>10}  {part}")
        click.echo(f"Number of wheels: {len(_wheels(root))}")
        click.echo(f"Total size: {format_size(_size(root))}")

    @cache.command("list")
    @click.argument("pattern", default="*")
    @click.option(
        "--format",
        "list_format",
        type=click.Choice(FORMATS),
        help="human (default): names and sizes; abspath: one path a line.",
    )
    @option
    @click.pass_context
    def list_(
        ctx: click.Context, pattern: str, list_format: str | None, cache_dir: str | None
    ) -> None:
        """Wheels in the cache whose file name matches PATTERN (a glob or a project)."""
        chosen = list_format or (ctx.parent.params.get("list_format") if ctx.parent else None)
        found = [w for w in _wheels(_root(ctx, cache_dir)) if _matches(w.name, pattern)]
        if chosen == "abspath":
            for wheel in sorted(str(w) for w in found):
                click.echo(wheel)
            return
        if not found:
            click.echo("No wheels cached." if pattern == "*" else "Nothing cached.")
            return
        click.echo("Cache contents:\n")
        for line in sorted(f" - {w.name} ({format_size(w.stat().st_size)})" for w in found):
            click.echo(line)

    @cache.command("remove")
    @click.argument("pattern")
    @option
    @click.pass_context
    def remove(ctx: click.Context, pattern: str, cache_dir: str | None) -> None:
        """Remove cached wheels whose name matches PATTERN (a project name or glob), and
        their unpacked copies."""
        from roost.store.unpacked import UnpackedStore
        from roost.util.output import Output

        root = _root(ctx, cache_dir)
        found = [w for w in _wheels(root) if _matches(w.name, pattern)]
        store = UnpackedStore(root / "unpacked")
        # An unpacked copy alone is enough to install a wheel again: it goes too.
        unpacked = [entry for entry, name in store.entries() if _matches(name, pattern)]
        if not found and not unpacked:
            # pip's answer: a warning, and success (nothing to do is not a failure).
            (ctx.find_object(Output) or Output()).warning(
                f"no cached wheel matches the pattern {pattern!r}"
            )
        removed = 0
        for wheel in found:
            removed += wheel.stat().st_size
            _drop(wheel, root)
        for entry in unpacked:
            store.remove(entry)
        click.echo(f"Files removed: {len(found)} ({format_size(removed)})")
        if unpacked:
            click.echo(f"Unpacked copies removed: {len(unpacked)}")

    @cache.command("purge")
    @option
    @click.pass_context
    def purge(ctx: click.Context, cache_dir: str | None) -> None:
        """Remove everything in the cache."""
        root = _root(ctx, cache_dir)
        count = size = 0
        if root.exists():
            for part in root.iterdir():
                files = [p for p in part.rglob("*") if p.is_file()] if part.is_dir() else [part]
                count += len(files)
                size += sum(p.stat().st_size for p in files if not p.is_symlink())
                shutil.rmtree(part) if part.is_dir() else part.unlink()
        click.echo(f"Files removed: {count} ({format_size(size)})")

    return cache
