"""The index pip itself would use, for a run that configures none.

roost names no package registry in its code. When neither ``index-url`` nor
``no-index`` is set anywhere, the index a user expects is the one their pip would ask:
the default pip carries as ``pip._internal.models.index.PyPI.simple_url``. It is read
from the pip importable in roost's own environment, else from the pip on the target's
``sys.path`` (by running the target, bounded in time), and asked after every configured
index, as pip's ``--index-url`` would be.

Importing pip's internals takes tens of milliseconds (its logging set-up, ``typing``),
so the answer is cached in roost's cache directory, keyed by where that pip lives and
the times its files last changed: an upgraded pip is read again.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from roost.types import IndexSource, Settings, Target

__all__ = [
    "PipDefault",
    "PipSearch",
    "find_pip_default",
    "index_url_configured",
    "with_pip_default",
]

#: How long the target may take to import its pip and print the default.
TARGET_TIMEOUT = 30
#: The longest default URL taken from a pip; anything longer is not pip's.
MAX_DEFAULT_URL = 2048
#: Cached answers kept, newest last (one per pip location and version seen).
MAX_CACHE_ENTRIES = 32
#: A cache file larger than this is not roost's: ignored and rewritten.
MAX_CACHE_BYTES = 256 * 1024
CACHE_FILE = "pip-default-index.json"
_CACHE_FORMAT = 1
_SENTINEL = "roost-pip-default:"
#: Run by the target with ``-I`` (no PYTHONPATH, no user site, no working directory):
#: the pip folder's parent, found by roost on the target's ``sys.path``, goes first, so
#: the pip that answers is the one roost names.
_PROBE = """\
import json, sys
sys.path.insert(0, sys.argv[1])
import pip
from pip._internal.models.index import PyPI
answer = {"url": PyPI.simple_url, "version": str(getattr(pip, "__version__", "?"))}
sys.stdout.write(sys.argv[2] + json.dumps(answer) + "\\n")
"""


@dataclass(frozen=True)
class PipDefault:
    """The default index of one pip."""

    url: str
    version: str
    #: The ``pip`` package folder that gave it.
    location: str
    #: ``roost's own environment`` or ``the target /venv/bin/python``.
    found_in: str

    @property
    def origin(self) -> str:
        """What ``-v`` and messages say the source came from."""
        return f"the default of pip {self.version} at {self.location}"


@dataclass(frozen=True)
class PipSearch:
    """Where a pip was looked for, and what came of it."""

    found: PipDefault | None
    #: One line per place looked at that gave nothing, with the reason.
    notes: tuple[str, ...]

    def explain(self) -> str:
        """The places looked at, for an error or a warning."""
        return "; ".join(self.notes) if self.notes else "no pip was looked for"


def index_url_configured(settings: Settings) -> bool:
    """True when the run names its main index (or none, with ``no-index``)."""
    if settings.get_bool("no-index"):
        return True
    index_url = settings.get("index-url")
    return bool(index_url and index_url.strip())


def with_pip_default(
    sources: Sequence[IndexSource],
    settings: Settings,
    target: Target | None,
    cache_dir: Path | None,
) -> tuple[list[IndexSource], PipSearch | None]:
    """*sources* with pip's default index appended, when no ``index-url`` is configured.

    The search is None when nothing was looked for (an index URL or ``no-index`` is
    set); otherwise it says where the default came from, or where no pip was found.
    """
    listed = list(sources)
    if index_url_configured(settings):
        return listed, None
    search = find_pip_default(target, cache_dir)
    default = search.found
    if default is not None and all(
        source.url != default.url or source.kind != "index" for source in listed
    ):
        listed.append(IndexSource(default.url, "index", default.origin))
    return listed, search


def find_pip_default(target: Target | None, cache_dir: Path | None) -> PipSearch:
    """pip's default index from roost's own pip, else from the target's."""
    notes: list[str] = []
    cache = _Cache(cache_dir)
    own = _own_pip_folder()
    if own is None:
        notes.append(f"roost's own environment ({sys.executable}) has no pip")
    else:
        found = cache.get(own) or _read_own(own, notes)
        if found is not None:
            cache.put(own, found)
            return PipSearch(found, tuple(notes))
    if target is None:
        return PipSearch(None, tuple(notes))
    folder = _target_pip_folder(target)
    if folder is None:
        notes.append(f"the target {target.executable} has no pip on its sys.path")
    elif own is not None and folder == own:
        pass  # the same pip, already tried: running it again would fail the same way
    else:
        found = cache.get(folder, f"the target {target.executable}") or _read_target(
            target, folder, notes
        )
        if found is not None:
            cache.put(folder, found)
            return PipSearch(found, tuple(notes))
    return PipSearch(None, tuple(notes))


def _own_pip_folder() -> Path | None:
    """The ``pip`` package roost's interpreter would import, found without importing it."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("pip")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def _target_pip_folder(target: Target) -> Path | None:
    """The ``pip`` package first on the target's start-up ``sys.path``."""
    for entry in target.sys_path:
        if not entry or not os.path.isabs(entry):
            continue  # the working directory: a stray pip/ there is not the target's
        folder = Path(entry) / "pip"
        if (folder / "__init__.py").is_file():
            return folder.resolve()
    return None


def _checked(url: object, version: object, folder: Path, found_in: str) -> PipDefault | str:
    """The answer, or why it cannot be an index URL."""
    if not isinstance(url, str) or not url:
        return "gave no default index URL"
    if len(url) > MAX_DEFAULT_URL or any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        return "gave a default index URL roost cannot use"
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https", "file"):
        return f"gave a default index URL of scheme {scheme or 'none'!r}"
    shown = str(version)[:40] if version else "?"
    return PipDefault(url, shown, str(folder), found_in)


def _read_own(folder: Path, notes: list[str]) -> PipDefault | None:
    """Import pip's internals in roost's own interpreter."""
    import importlib

    # pip swaps in its own logger class when its internals are imported; roost's
    # loggers stay plain.
    logger_class = logging.getLoggerClass()
    try:
        pip = importlib.import_module("pip")
        index = importlib.import_module("pip._internal.models.index")
        url = index.PyPI.simple_url
        version = getattr(pip, "__version__", "?")
    except Exception as exc:  # any failure of a foreign package's import is "no answer"
        notes.append(f"the pip at {folder} in roost's own environment failed: {exc!r}"[:300])
        return None
    finally:
        logging.setLoggerClass(logger_class)
    answer = _checked(url, version, folder, "roost's own environment")
    if isinstance(answer, str):
        notes.append(f"the pip at {folder} in roost's own environment {answer}")
        return None
    return answer


def _read_target(target: Target, folder: Path, notes: list[str]) -> PipDefault | None:
    """Run the target to import its pip and print the default."""
    import subprocess

    where = f"the target {target.executable}"
    command = [target.executable, "-I", "-c", _PROBE, str(folder.parent), _SENTINEL]
    try:
        proc = subprocess.run(
            command,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=TARGET_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        notes.append(f"the pip at {folder} did not answer within {TARGET_TIMEOUT} seconds")
        return None
    except OSError as exc:
        notes.append(f"{where} could not be run to ask its pip at {folder}: {exc}")
        return None
    for line in reversed(proc.stdout.splitlines()):
        if not line.startswith(_SENTINEL):
            continue
        try:
            data = json.loads(line[len(_SENTINEL) :])
        except ValueError:
            break
        if not isinstance(data, dict):
            break
        answer = _checked(data.get("url"), data.get("version"), folder, where)
        if isinstance(answer, str):
            notes.append(f"the pip at {folder} in {where} {answer}")
            return None
        return answer
    lines = proc.stderr.strip().splitlines()
    reason = lines[-1][:200] if lines else f"exit status {proc.returncode}"
    notes.append(f"the pip at {folder} in {where} did not say its default index ({reason})")
    return None


class _Cache:
    """Answers already read, by pip folder and the change times of its files."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.path = None if cache_dir is None else cache_dir / CACHE_FILE
        self._entries: dict[str, dict[str, str]] | None = None

    @staticmethod
    def key(folder: Path) -> str | None:
        parts = [str(folder)]
        for name in ("__init__.py", os.path.join("_internal", "models", "index.py")):
            try:
                stat = (folder / name).stat()
            except OSError:
                if name == "__init__.py":
                    return None
                continue
            parts.append(f"{stat.st_mtime_ns}:{stat.st_size}")
        return "|".join(parts)

    def _load(self) -> dict[str, dict[str, str]]:
        if self._entries is not None:
            return self._entries
        self._entries = {}
        if self.path is None:
            return self._entries
        try:
            if self.path.stat().st_size > MAX_CACHE_BYTES:
                return self._entries
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return self._entries
        if isinstance(data, dict) and data.get("format") == _CACHE_FORMAT:
            entries = data.get("entries")
            if isinstance(entries, dict):
                self._entries = {
                    key: value
                    for key, value in entries.items()
                    if isinstance(key, str) and isinstance(value, dict)
                }
        return self._entries

    def get(self, folder: Path, found_in: str = "roost's own environment") -> PipDefault | None:
        key = self.key(folder)
        entry = None if key is None else self._load().get(key)
        if entry is None:
            return None
        answer = _checked(entry.get("url"), entry.get("version"), folder, found_in)
        return None if isinstance(answer, str) else answer

    def put(self, folder: Path, found: PipDefault) -> None:
        key = self.key(folder)
        if self.path is None or key is None:
            return
        entries = self._load()
        if entries.get(key) == {"url": found.url, "version": found.version}:
            return
        entries.pop(key, None)
        entries[key] = {"url": found.url, "version": found.version}
        while len(entries) > MAX_CACHE_ENTRIES:
            entries.pop(next(iter(entries)))
        from roost.util.cache import write_atomic

        data = {"format": _CACHE_FORMAT, "entries": entries}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Not sorted: the order of the entries is their age, oldest dropped first.
            write_atomic(self.path, json.dumps(data).encode())
        except OSError:
            pass  # the cache only saves time; a read-only cache dir is not an error
