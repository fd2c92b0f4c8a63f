"""What roost prints: results to stdout, warnings and errors to stderr, as pip does.

Every message goes out with its control characters escaped: requirement text, file
names and yank reasons come from users and servers, and a carriage return, a
terminal escape or a bell in them could overwrite or fake roost's own lines.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import TextIO

import click

from roost.errors import ConfigError

# C0 controls but newline and tab (roost's own messages have several lines), DEL and
# the C1 controls, which some terminals also obey.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Newline and tab too, for text that must stay on its one line.
_ANY_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")


def _escaped(match: re.Match[str]) -> str:
    return repr(match.group(0))[1:-1]


def escape_controls(text: str) -> str:
    """*text* with control characters but newline and tab shown as escapes (``\\r``)."""
    return _CONTROL_RE.sub(_escaped, text)


def file_size(size: float) -> str:
    """*size* bytes as pip writes sizes in its file lines: decimal units, whole bytes
    up to 1000, one decimal up to 10 kB, whole kB up to 1 MB, then MB with one decimal.
    """
    if size > 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    if size > 10_000:
        return f"{int(size // 1000)} kB"
    if size > 1000:
        return f"{size / 1000:.1f} kB"
    return f"{int(size)} bytes"


def _stream(err: bool) -> TextIO | None:
    """Where a message goes when something stands in for the standard stream (the
    progress bars' stand-in prints above the bars), else None: click's own choice.

    click reaches past a stand-in to the stream's bytes when it can, which would write
    into the middle of a drawn bar.
    """
    current, original = (sys.stderr, sys.__stderr__) if err else (sys.stdout, sys.__stdout__)
    return None if current is original else current


def one_line(text: str) -> str:
    """*text* with every control character, newlines included, shown as an escape."""
    return _ANY_CONTROL_RE.sub(_escaped, text)


@dataclass
class Output:
    """Where messages go. ``quiet`` 1 hides information, 2 warnings too (pip's -q,
    -qq); errors always show. A log file (``--log``) gets every message, details
    included, whatever the levels."""

    verbose: int = 0
    quiet: int = 0
    log: TextIO | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.verbose > 0:
            _show_notes(self)

    def set_levels(self, *, verbose: int, quiet: int) -> None:
        self.verbose, self.quiet = verbose, quiet
        if verbose > 0 or self.log is not None:
            _show_notes(self)

    def open_log(self, path: str) -> None:
        """Append every message to *path* from now on (pip's ``--log``)."""
        try:
            # Line-buffered: what was logged before a crash is in the file.
            self.log = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        except OSError as exc:
            raise ConfigError(f"cannot open the log file {path}: {exc.strerror}") from None
        _show_notes(self)

    def close_log(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None

    def _logged(self, prefix: str, message: str) -> None:
        if self.log is None:
            return
        import datetime

        stamp = datetime.datetime.now().isoformat(timespec="milliseconds")
        for line in escape_controls(message).splitlines() or [""]:
            self.log.write(f"{stamp} {prefix}{line}\n")

    def info(self, message: str) -> None:
        self._logged("", message)
        if self.quiet < 1:
            click.echo(escape_controls(message), file=_stream(False))

    def detail(self, message: str) -> None:
        self._logged("", message)
        if self.verbose > 0:
            click.echo(escape_controls(message), err=True, file=_stream(True))

    def warning(self, message: str) -> None:
        self._logged("WARNING: ", message)
        if self.quiet < 2:
            click.echo(f"WARNING: {escape_controls(message)}", err=True, file=_stream(True))

    def error(self, message: str) -> None:
        self._logged("ERROR: ", message)
        click.echo(f"ERROR: {escape_controls(message)}", err=True, file=_stream(True))


#: The Output that roost's log records go to (the latest made with ``-v``), if any.
_notes_to: list[Output] = []


def _show_notes(out: Output) -> None:
    """Print what roost's modules log through *out* (notes as ``-v`` details, warnings as
    warnings); called only with ``-v`` or ``--log``, so a plain run does not import
    logging."""
    import logging

    first = not _notes_to
    _notes_to[:] = [out]
    if not first:
        return

    class Notes(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            for to in _notes_to:
                if record.levelno >= logging.WARNING:
                    to.warning(record.getMessage())
                else:
                    to.detail(record.getMessage())

    logger = logging.getLogger("roost")
    logger.addHandler(Notes())
    logger.setLevel(logging.INFO)
