"""``roost cache``: where the cache is, what it holds, and removing wheels from it."""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path

import click

from roost.errors import ConfigError


def _root(ctx: click.Context, cache_dir: str | None) -> Path:
    from roost.util.cache import cache_root
    from roost.util.settings import build_settings

    cli = {"cache-dir": cache_dir} if cache_dir else {}
    root = cache_root(build_settings("cache", cli, ctx.meta["roost.manager"]))
    if root is None:
        raise ConfigError("the cache is disabled (no-cache-dir is set)")
    return root


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _human(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} {unit}"
        size /= 1000
    return f"{size:.1f} GB"  # pragma: no cover


def _wheels(root: Path) -> list[Path]:
    return sorted(root.glob("wheels/**/*.whl"))


def cache_command() -> click.Group:
    option = click.option("--cache-dir", metavar="DIR", help="Cache directory.")

    @click.group("cache")
    def cache() -> None:
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
            click.echo(f"{part.name + ':':<14}{_human(_size(part)):>10}  {part}")
        click.echo(f"Number of wheels: {len(_wheels(root))}")
        click.echo(f"Total size: {_human(_size(root))}")

    @cache.command("list")
    @click.argument("pattern", default="*")
    @option
    @click.pass_context
    def list_(ctx: click.Context, pattern: str, cache_dir: str | None) -> None:
        """Wheels in the cache whose file name matches PATTERN."""
        found = [w for w in _wheels(_root(ctx, cache_dir)) if _matches(w.name, pattern)]
        if not found:
            click.echo("No wheels cached." if pattern == "*" else "Nothing cached.")
            return
        click.echo("Cache contents:\n")
        for wheel in found:
            click.echo(f" - {wheel.name} ({_human(wheel.stat().st_size)})")

    @cache.command("remove")
    @click.argument("pattern")
    @option
    @click.pass_context
    def remove(ctx: click.Context, pattern: str, cache_dir: str | None) -> None:
        """Remove cached wheels whose name matches PATTERN (a project name or glob), and
        their unpacked copies."""
        from roost.store.unpacked import UnpackedStore

        root = _root(ctx, cache_dir)
        found = [w for w in _wheels(root) if _matches(w.name, pattern)]
        store = UnpackedStore(root / "unpacked")
        # An unpacked copy alone is enough to install a wheel again: it goes too.
        unpacked = [entry for entry, name in store.entries() if _matches(name, pattern)]
        if not found and not unpacked:
            raise ConfigError(f"no cached wheel matches {pattern!r}")
        for wheel in found:
            _drop(wheel)
        for entry in unpacked:
            store.remove(entry)
        click.echo(f"Files removed: {len(found)}")
        if unpacked:
            click.echo(f"Unpacked copies removed: {len(unpacked)}")

    @cache.command("purge")
    @option
    @click.pass_context
    def purge(ctx: click.Context, cache_dir: str | None) -> None:
        """Remove everything in the cache."""
        root = _root(ctx, cache_dir)
        removed = 0
        if root.exists():
            for part in root.iterdir():
                removed += sum(1 for p in part.rglob("*") if p.is_file()) if part.is_dir() else 1
                shutil.rmtree(part) if part.is_dir() else part.unlink()
        click.echo(f"Files removed: {removed}")

    return cache


def _matches(filename: str, pattern: str) -> bool:
    from packaging.utils import canonicalize_name

    project = filename.split("-", 1)[0]
    if fnmatch.fnmatch(filename, pattern):
        return True
    # A bare project name matches its wheels whatever the spelling, as pip's does.
    return "*" not in pattern and canonicalize_name(project) == canonicalize_name(pattern)


def _drop(wheel: Path) -> None:
    wheel.unlink()
    parent = wheel.parent
    # Entries are folders per wheel; drop a folder left with nothing that matters.
    if parent.name != "wheels" and not any(parent.iterdir()):
        parent.rmdir()
