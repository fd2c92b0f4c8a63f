"""Frozen values passed to and returned by roost's hooks.

Hooks take and return these small dataclasses, never bare dicts or tuples, so a
plugin written against one roost version keeps working when a field is added.
"""

from __future__ import annotations

import datetime
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NewType, Protocol
from urllib.parse import urlsplit, urlunsplit

#: A project name normalised as PEP 503 says (lowercase, runs of ``-_.`` as ``-``).
NormalizedName = NewType("NormalizedName", str)

SCHEME_KEYS = ("purelib", "platlib", "headers", "scripts", "data")


def file_url_path(url: str) -> str:
    """The filesystem path a ``file:`` URL names (``file://localhost/x`` and, on
    Windows, ``file://server/share/x`` included), its percent-escapes decoded once."""
    # Here, not at the top: urllib.request brings http.client and ssl (10 ms) into
    # every start-up.
    from urllib.request import url2pathname

    parts = urlsplit(url)
    netloc = "" if parts.netloc in ("", "localhost") else parts.netloc
    return url2pathname(f"//{netloc}{parts.path}" if netloc else parts.path)


def redact_url(url: str) -> str:
    """Return *url* with any password (or lone token) replaced by ``****``."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user, sep, _password = userinfo.partition(":")
    # A lone user part is usually a token (``https://TOKEN@host``): hide it too.
    shown = f"{user}:****" if sep else "****"
    return urlunsplit(parts._replace(netloc=f"{shown}@{host}"))


# A URL starts only where a run of scheme characters starts: trying every position
# inside a long run again would make redacting 100 KB of letters take many seconds.
_URL_IN_TEXT_RE = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z0-9+.-]+://[^\s'\"]+")
_USERINFO_RE = re.compile(r"//[^/@]*@")


def _redact_found(match: re.Match[str]) -> str:
    found = match.group(0)
    scheme = found[: found.index("://")]
    # A scheme begins with a letter: digits, "+", "." or "-" before it are not part of it.
    start = next((i for i, c in enumerate(scheme) if c.isascii() and c.isalpha()), None)
    if start is None:
        return found
    try:
        return found[:start] + redact_url(found[start:])
    except ValueError:  # not a URL urllib can split (a bad IPv6 host, say)
        return found[:start] + _USERINFO_RE.sub("//****@", found[start:])


def redact_text(text: str) -> str:
    """*text* with the password (or lone token) of every URL in it replaced by ``****``."""
    return _URL_IN_TEXT_RE.sub(_redact_found, text)


#: Most filesystems allow 255 bytes in one file name; a longer one cannot be written.
MAX_FILENAME_BYTES = 255


def filename_problem(filename: str) -> str | None:
    """Why *filename* (a link's, from a page or a plugin) cannot name a file inside a
    download folder, or None when it can."""
    if filename in ("", ".", ".."):
        return "is not a file name"
    if "/" in filename or "\\" in filename:
        return "holds a path separator"
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in filename):
        return "holds a control character"
    if len(filename.encode("utf-8", "surrogatepass")) > MAX_FILENAME_BYTES:
        return f"is longer than {MAX_FILENAME_BYTES} bytes"
    return None


@dataclass(frozen=True)
class Scheme:
    """Where each kind of file of a wheel goes, as ``installer`` wants it.

    ``headers`` is the directory under which a distribution's headers go in a
    sub-directory named after it (``{headers}/{dist_name}/``), as pip lays them out.
    """

    purelib: str
    platlib: str
    headers: str
    scripts: str
    data: str
    #: A short name for messages: ``venv``, ``user``, ``target``, ``prefix``, ...
    name: str = "default"

    def as_dict(self) -> dict[str, str]:
        return {key: getattr(self, key) for key in SCHEME_KEYS}

    def rerooted(self, root: str) -> Scheme:
        """The same scheme with every path moved under *root* (pip's ``--root``)."""

        def move(path: str) -> str:
            drive_less = path.split(":", 1)[-1] if ":" in path[:3] else path
            return posixpath.join(root, drive_less.lstrip("/\\"))

        return replace(self, **{key: move(getattr(self, key)) for key in SCHEME_KEYS})


@dataclass(frozen=True)
class Target:
    """Everything roost knows about the interpreter it installs into.

    Every field was read by running the target interpreter itself: roost may run
    from a different Python (pipx), so nothing here comes from roost's own ``sys``.
    """

    executable: str
    version: tuple[int, int, int]
    implementation: str
    prefix: str
    base_prefix: str
    is_venv: bool
    #: ``include-system-site-packages`` of a venv (always False outside one).
    system_site_packages: bool
    #: ``site.ENABLE_USER_SITE`` is true for this interpreter.
    user_site_enabled: bool
    user_base: str
    user_site: str
    #: Paths of the interpreter's own scheme (venv or system), with headers as pip has them.
    default_scheme: Scheme
    #: Paths of the preferred user scheme under ``user_base``.
    user_scheme: Scheme
    #: sysconfig templates with ``{base}``, ``{platbase}`` and ``{userbase}`` left in.
    prefix_template: Mapping[str, str]
    user_template: Mapping[str, str]
    #: The PEP 508 marker environment.
    markers: Mapping[str, str]
    #: Supported wheel tags (``cp312-cp312-manylinux_2_36_x86_64``), most preferred first.
    tags: Sequence[str]
    #: Path of the PEP 668 ``EXTERNALLY-MANAGED`` file, when the interpreter has one.
    externally_managed: str | None
    #: The interpreter's ``sys.path`` at start-up (with user site when enabled).
    sys_path: Sequence[str]

    @property
    def python_version(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def full_version(self) -> str:
        return ".".join(str(part) for part in self.version)

    def scheme_from_template(self, template: Mapping[str, str], *, base: str, name: str) -> Scheme:
        """Fill a sysconfig template for a different base (``--prefix``, ``PYTHONUSERBASE``)."""
        paths = {
            key: value.replace("{base}", base)
            .replace("{platbase}", base)
            .replace("{userbase}", base)
            for key, value in template.items()
        }
        return Scheme(name=name, **paths)


@dataclass(frozen=True)
class Options:
    """The parsed options of the running command, including those plugins added."""

    command: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name, default)
        return default if value is None else value

    def flag(self, name: str) -> bool:
        return bool(self.values.get(name))


@dataclass(frozen=True)
class SettingsLayer:
    """One source of settings, e.g. the command line or one pip.conf file.

    Keys are option names without dashes in front (``index-url``); values are a
    string or, for options that take several values, a tuple of strings.
    """

    name: str
    values: Mapping[str, str | tuple[str, ...]]


@dataclass(frozen=True)
class Settings:
    """All settings layers, highest precedence first.

    Order: command line > ``ROOST_*`` variables > roost's config file > layers
    from ``roost_settings_layers`` (pip's variables, then pip's files).
    """

    layers: tuple[SettingsLayer, ...] = ()

    def lookup(self, key: str) -> tuple[str | tuple[str, ...], SettingsLayer] | None:
        for layer in self.layers:
            if key in layer.values:
                return layer.values[key], layer
        return None

    def get(self, key: str, default: str | None = None) -> str | None:
        found = self.lookup(key)
        if found is None:
            return default
        value = found[0]
        return value if isinstance(value, str) else " ".join(value)

    def get_list(self, key: str) -> tuple[str, ...]:
        found = self.lookup(key)
        if found is None:
            return ()
        value = found[0]
        return tuple(value.split()) if isinstance(value, str) else value

    def get_bool(self, key: str, default: bool = False) -> bool:
        value = self.get(key)
        if value is None:
            return default
        # The spellings pip's strtobool accepts, so pip.conf files read the same.
        return value.strip().lower() in {"1", "y", "yes", "t", "true", "on"}

    def origin(self, key: str) -> str | None:
        found = self.lookup(key)
        return None if found is None else found[1].name


@dataclass(frozen=True)
class IndexSource:
    """A place links come from: a simple index or a find-links location."""

    url: str
    #: ``"index"`` (PEP 503/691 simple API) or ``"find-links"``.
    kind: str
    #: Which settings layer configured it, for messages.
    origin: str = ""

    @property
    def display(self) -> str:
        return redact_url(self.url)


@dataclass(frozen=True)
class Link:
    """One file of a project as a source lists it."""

    url: str
    #: As the page or plugin gave it, so it may hold ``../`` or a NUL: the finder skips
    #: a link whose name :func:`filename_problem` objects to, and downloads check again.
    filename: str
    source: IndexSource
    #: ``{"sha256": "..."}`` as the source gave them.
    hashes: Mapping[str, str] = field(default_factory=dict)
    requires_python: str | None = None
    #: None when not yanked, else the reason (possibly empty), as PEP 592 says.
    yanked: str | None = None
    #: PEP 658/714: None when no ``.metadata`` file is offered, else its hashes.
    metadata_hashes: Mapping[str, str] | None = None
    #: PEP 700 ``upload-time`` as the JSON page gave it (ISO 8601, UTC), else None.
    upload_time: str | None = None
    #: PEP 700 ``size`` in bytes as the JSON page gave it, else None (HTML pages give none).
    size: int | None = None

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @property
    def uploaded(self) -> datetime.datetime | None:
        """``upload_time`` as an aware datetime, or None (not given, or unreadable)."""
        if not self.upload_time:
            return None
        text = self.upload_time.strip()
        # Python 3.10's fromisoformat takes no "Z" suffix.
        text = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)

    @property
    def metadata_url(self) -> str:
        """Where PEP 658 puts the file's core metadata: its URL plus ``.metadata``."""
        return self.url + ".metadata"


@dataclass(frozen=True)
class ProjectLinks:
    """What one source says about one project."""

    project: NormalizedName
    source: IndexSource
    links: tuple[Link, ...] = ()
    #: False when the source does not know the project (a 404); the next source is asked.
    found: bool = True


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


@dataclass(frozen=True)
class Refusal:
    """One guard's reason not to install, with what the user can do about it."""

    plugin: str
    reason: str
    remedies: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstalledDistribution:
    """A distribution the running command installed."""

    name: str
    version: str
    #: Absolute paths of every file written, as recorded in RECORD.
    files: tuple[str, ...] = ()
    #: Names of the console and GUI scripts written to the scheme's scripts directory.
    scripts: tuple[str, ...] = ()
    requested: bool = False


@dataclass(frozen=True)
class InstallEvent:
    """A step of an install, for progress reporting and auditing plugins.

    ``kind`` is one of ``"download"`` (a file was fetched and verified),
    ``"remove"`` (an old version is about to be moved aside), ``"install"`` (a
    distribution is about to be written) and ``"installed"`` (it was written).
    """

    kind: str
    name: str
    version: str
    #: How many distributions of this kind of step are done, and how many in all.
    index: int = 0
    total: int = 0


class HttpResponse(Protocol):
    """A whole HTTP response, as :meth:`HttpClient.get` returns it (an ``httpx.Response``)."""

    @property
    def status_code(self) -> int: ...

    @property
    def reason_phrase(self) -> str: ...

    @property
    def url(self) -> Any: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...

    @property
    def text(self) -> str: ...


class HttpClient(Protocol):
    """The run's HTTP client as ``roost_index_lookup`` receives it.

    It carries roost's TLS, proxies, credentials, retries, timeouts and HTTP cache;
    an index plugin reads pages through it rather than opening its own connections.
    """

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> HttpResponse:
        """GET *url* and read the whole body; statuses other than 401/403 are returned."""
        ...


class BuildEnvironment(Protocol):
    """Where a build backend runs, as ``roost_build_wheel`` receives it.

    With build isolation (the default) it is a fresh virtual environment of the target
    interpreter that holds only what :meth:`install` put there, installed by roost
    itself from the run's indexes; without, it is the target interpreter, and
    :meth:`install` only checks that what is asked for is there.
    """

    @property
    def python(self) -> str:
        """The interpreter to run the backend with (created on first use)."""
        ...

    @property
    def isolated(self) -> bool: ...

    def install(self, requirements: Sequence[str], why: str) -> None:
        """Make *requirements* (PEP 508 strings) importable by :attr:`python`.

        :param why: where they come from, for messages (``build-system.requires``).
        """
        ...

    def environ(self) -> Mapping[str, str]:
        """Environment variables the backend runs with (on top of roost's own)."""
        ...


@dataclass(frozen=True)
class BuildRequest:
    """One source tree to prepare metadata for, or to build a wheel from."""

    #: The project's directory (the subdirectory already applied).
    source_dir: str
    #: ``"wheel"``, or ``"editable"`` for a PEP 660 editable wheel.
    kind: str
    #: Where the wheel (or the ``.dist-info`` directory) is to be written.
    output_dir: str
    environment: BuildEnvironment
    #: ``-C/--config-settings``: a key given more than once maps to a tuple.
    config_settings: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    #: What the user named, for messages (``.``, ``demo @ file:///src/demo``).
    display: str = ""
    #: Longest a backend call may run, in seconds.
    timeout: float = 3600.0
    #: The run's merged settings (``build-sandbox`` and the like), when the core has them.
    settings: Settings | None = None


@dataclass(frozen=True)
class BuildResult:
    """What a build hook made: a wheel file, or a ``.dist-info`` directory."""

    path: str
    #: The backend that made it (``setuptools.build_meta``), for messages.
    backend: str = ""
    #: The backend's output, for ``-v``.
    output: str = ""
