"""Version control sources: git, Mercurial, Subversion and Bazaar checkouts, with pip's URLs.

``<vcs>+<protocol>://host/path@revision#subdirectory=x&egg=name`` is checked out by the
VCS's own client (bounded in time, no prompt, no terminal) into a fresh folder for a
build, or for ``-e`` into ``<src>/<name>``, updating a checkout of the same repository.
:class:`Backend` holds what the four share, one subclass each its command lines;
``roost freeze`` reads editable checkouts through the same backends.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import shutil
import signal
import subprocess
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from roost.errors import BuildError
from roost.types import redact_text, redact_url

#: Longest a clone, pull or update may run (a large repository over a slow link).
CLIENT_TIMEOUT = 1800.0
#: Longest a question about a local checkout may run (its commit, its remote).
INSPECT_TIMEOUT = 60.0
#: Most of a client's output read back: what roost reads is a hash, a number or a few lines.
MAX_OUTPUT = 1 << 20
#: A full git commit id or Mercurial node: the one revision spelling that cannot move.
FULL_HASH = re.compile(r"[0-9a-f]{40}")
#: pip keeps ``${USER}:${TOKEN}@`` in a recorded URL: it names variables, not secrets.
_ENV_VAR_AUTH = re.compile(r"^\$\{[A-Za-z0-9_-]+\}(:\$\{[A-Za-z0-9_-]+\})?$")
_SCP_LIKE = re.compile(r"^(\w+@)?([^/:]+):(\w[^:]*)$")


class ClientMissing(BuildError):
    """The VCS client is not on PATH."""


class ClientFailed(BuildError):
    """A client command exited non-zero or ran out of time."""


class NoRemote(Exception):
    """A checkout names no repository it came from (*url*: one that is not a URL)."""

    def __init__(self, url: str | None = None) -> None:
        super().__init__(url)
        self.url = url


def split_fragment(url: str) -> tuple[str, dict[str, str]]:
    """``url#a=1&b=2`` -> (``url``, ``{"a": "1", "b": "2"}``)."""
    base, _, fragment = url.partition("#")
    return base, dict(urllib.parse.parse_qsl(fragment, keep_blank_values=True))


def _file_url(location: str) -> str:
    """A client's idea of a repository location as a URL: local paths become file URLs."""
    return Path(os.path.normpath(location)).as_uri() if os.path.isabs(location) else location


def unquoted_url(url: str) -> str:
    return urllib.parse.unquote(url).rstrip("/")


@dataclass(frozen=True)
class VcsUrl:
    """A VCS URL taken apart as pip takes it (``get_url_rev_and_auth``)."""

    backend: Backend
    #: What the client is given: the protocol's own URL, credentials kept (except svn's).
    repository: str
    revision: str | None
    params: dict[str, str]
    #: The whole URL as the user wrote it, credentials redacted: for messages.
    shown: str
    #: Credentials the client takes as options (Subversion), not in the URL.
    username: str | None = None
    password: str | None = None

    @property
    def recorded(self) -> str:
        """The repository URL for direct_url.json: no password, no token (pip keeps
        ``git@`` of a git URL and ``${VAR}`` placeholders)."""
        parts = urllib.parse.urlsplit(self.repository)
        userinfo, at, host = parts.netloc.rpartition("@")
        git_user = self.backend.name == "git" and userinfo == "git"
        if not at or git_user or _ENV_VAR_AUTH.match(userinfo):
            return self.repository
        return urllib.parse.urlunsplit(parts._replace(netloc=host))

    @property
    def immutable(self) -> bool:
        """Pinned to a revision that cannot move: a full git commit id or hg node."""
        pinned = bool(self.revision and FULL_HASH.fullmatch(self.revision))
        return pinned and self.backend.name in ("git", "hg")

    def direct_url(self, commit_id: str) -> dict[str, object]:
        """PEP 610 content for a checkout of this URL at *commit_id*."""
        info: dict[str, object] = {"vcs": self.backend.name, "commit_id": commit_id}
        if self.revision:
            info["requested_revision"] = self.revision
        direct: dict[str, object] = {"url": self.recorded, "vcs_info": info}
        if self.params.get("subdirectory"):
            direct["subdirectory"] = self.params["subdirectory"]
        return direct


@dataclass(frozen=True)
class Checkout:
    """A working copy on disk, of *source*, at *commit_id* (empty when not asked)."""

    root: Path
    source: VcsUrl
    commit_id: str = ""


@dataclass(frozen=True)
class Backend:
    """One VCS: its URL schemes, its client (executables tried in order), what to
    install when that is missing, the folder a working copy keeps at its root."""

    name: str
    title: str
    clients: tuple[str, ...]
    packages: str
    marker: str
    protocols: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    #: Protocols the client itself spells with the prefix (``svn+ssh://``).
    prefixed: tuple[str, ...] = ()

    def run(
        self,
        args: list[str],
        *,
        shown: str,
        cwd: Path | None = None,
        secrets: tuple[str, ...] = (),
        stdin: str | None = None,
        timeout: float = INSPECT_TIMEOUT,
    ) -> str:
        """The client's stdout for *args*; a clear error when it is missing, fails or
        overruns. It runs in its own session with no terminal, so nothing can prompt,
        and the whole session is killed on timeout."""
        found = next((p for p in map(shutil.which, self.clients) if p), None)
        if found is None:
            raise ClientMissing(
                f"{shown}: installing from {self.name}+ URLs needs the {self.title} client "
                f"({' or '.join(self.clients)}), which is not on PATH; install {self.packages}"
            )
        # The client's folder first on PATH: Debian's brz runs the first python3 there,
        # which in an activated venv lacks breezy.
        home = os.path.dirname(os.path.realpath(found))
        env = {**os.environ, "LANGUAGE": "C", **self.env}
        env["PATH"] = home + os.pathsep + env.get("PATH", os.defpath)
        feed = subprocess.DEVNULL if stdin is None else subprocess.PIPE
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.Popen(
                    [found, *args], cwd=cwd, env=env, stdin=feed, stdout=out, stderr=err,
                    start_new_session=True,
                )  # fmt: skip
            except OSError as exc:
                raise ClientFailed(f"{shown}: {found} could not be run: {exc}") from None
            try:
                proc.communicate(None if stdin is None else stdin.encode(), timeout=timeout)
            except BaseException as exc:
                # The whole session: a clone's ssh or helper must not outlive it.
                kill = (
                    proc.kill if os.name == "nt" else lambda: os.killpg(proc.pid, signal.SIGKILL)
                )
                with contextlib.suppress(OSError):
                    kill()
                proc.wait()
                if not isinstance(exc, subprocess.TimeoutExpired):
                    raise
                what = f"{self.name} {args[0]} did not finish in {timeout:g} s"
                raise ClientFailed(f"{shown}: {what}") from None
            out.seek(0)
            text = out.read(MAX_OUTPUT).decode("utf-8", "replace")
            if proc.returncode != 0:
                err.seek(max(0, err.seek(0, os.SEEK_END) - 16384))
                lines = err.read().decode("utf-8", "replace").strip().splitlines()
                detail = "; ".join(line.strip() for line in lines[-3:] if line.strip())
                for secret in secrets:
                    detail = detail.replace(secret, "****")
                detail = redact_text(detail) or f"exit status {proc.returncode}"
                raise ClientFailed(f"{shown}: {self.name} {args[0]} failed: {detail}")
        return text.strip()

    # What each VCS does its own way. update() brings a checkout of the same repository
    # to the URL's revision; remote_url() raises NoRemote when the checkout names no
    # repository, ClientFailed when the client cannot tell.
    def clone(self, source: VcsUrl, dest: Path) -> None:
        raise NotImplementedError

    def update(self, source: VcsUrl, dest: Path) -> None:
        raise NotImplementedError

    def commit_id(self, dest: Path, shown: str) -> str:
        raise NotImplementedError

    def remote_url(self, location: Path, shown: str) -> str:
        raise NotImplementedError

    def root(self, location: Path) -> Path | None:
        """The working copy's root for *location*, or None when it is not in one.

        Subversion and Bazaar, as pip, know only a checkout's own root; git and
        Mercurial ask the client, which looks in the folders above too."""
        return location if (location / self.marker).exists() else None

    def _asked_root(self, location: Path, args: list[str]) -> Path | None:
        if (location / self.marker).exists():
            return location
        try:
            found = self.run(args, cwd=location, shown=str(location))
        except BuildError:
            return None
        return Path(os.path.normpath(os.path.join(location, found))) if found else None


class Git(Backend):
    def clone(self, source: VcsUrl, dest: Path) -> None:
        shown = source.shown
        args = ["clone", "--quiet", "--filter=blob:none", "--", source.repository, str(dest)]
        self.run(args, shown=shown, timeout=CLIENT_TIMEOUT)
        if source.revision:
            # A branch or tag name, or a commit id (full or abbreviated): checkout takes all.
            checkout = ["checkout", "--quiet", source.revision]
            self.run(checkout, cwd=dest, shown=shown, timeout=CLIENT_TIMEOUT)
        self._submodules(dest, shown)

    def _submodules(self, dest: Path, shown: str) -> None:
        args = ["submodule", "update", "--quiet", "--init", "--recursive"]
        self.run(args, cwd=dest, shown=shown, timeout=CLIENT_TIMEOUT)

    def update(self, source: VcsUrl, dest: Path) -> None:
        shown, rev = source.shown, source.revision
        if rev and source.immutable and self.commit_id(dest, shown) == rev:
            return  # already there: a commit id cannot move
        self.run(["fetch", "--quiet", "--tags"], cwd=dest, shown=shown, timeout=CLIENT_TIMEOUT)
        # As pip: the remote's branch of that name, else a tag, else the revision itself;
        # without one, the remote's default branch.
        wanted = [f"refs/remotes/origin/{rev or 'HEAD'}"]
        for name in wanted + ([f"refs/tags/{rev}", rev] if rev else []):
            verify = ["rev-parse", "-q", "--verify", f"{name}^{{commit}}"]
            try:
                commit = self.run(verify, cwd=dest, shown=shown)
            except ClientFailed:
                continue
            self.run(
                ["checkout", "--quiet", commit], cwd=dest, shown=shown, timeout=CLIENT_TIMEOUT
            )
            self._submodules(dest, shown)
            return
        raise ClientFailed(f"{shown}: git knows no revision {rev!r} in {dest}")

    def commit_id(self, dest: Path, shown: str) -> str:
        return self.run(["rev-parse", "HEAD"], cwd=dest, shown=shown)

    def remote_url(self, location: Path, shown: str) -> str:
        args = ["config", "--get-regexp", r"remote\..*\.url"]
        try:
            found = self.run(args, cwd=location, shown=shown)
        except ClientFailed:
            found = ""  # exit status 1: no remote at all
        remotes = found.splitlines()
        if not remotes:
            raise NoRemote()
        chosen = next((r for r in remotes if r.startswith("remote.origin.url ")), remotes[0])
        url = chosen.split(" ", 1)[1].strip()
        if re.match(r"\w+://", url):
            return url
        if os.path.exists(url):
            return Path(os.path.abspath(url)).as_uri()
        scp = _SCP_LIKE.match(url)
        if scp:
            return scp.expand(r"ssh://\1\2/\3")
        raise NoRemote(url)

    def root(self, location: Path) -> Path | None:
        return self._asked_root(location, ["rev-parse", "--show-toplevel"])


class Mercurial(Backend):
    def _update(self, source: VcsUrl, dest: Path) -> None:
        args = ["update", "--quiet", *([f"--rev={source.revision}"] if source.revision else [])]
        self.run(args, cwd=dest, shown=source.shown, timeout=CLIENT_TIMEOUT)

    def clone(self, source: VcsUrl, dest: Path) -> None:
        args = ["clone", "--noupdate", "--quiet", "--", source.repository, str(dest)]
        self.run(args, shown=source.shown, timeout=CLIENT_TIMEOUT)
        self._update(source, dest)

    def update(self, source: VcsUrl, dest: Path) -> None:
        self.run(["pull", "--quiet"], cwd=dest, shown=source.shown, timeout=CLIENT_TIMEOUT)
        self._update(source, dest)

    def commit_id(self, dest: Path, shown: str) -> str:
        # The full changeset hash, as PEP 610 asks (pip records the local revision
        # number, which means nothing in another clone).
        return self.run(["log", "--rev", ".", "--template", "{node}"], cwd=dest, shown=shown)

    def remote_url(self, location: Path, shown: str) -> str:
        return _file_url(self.run(["showconfig", "paths.default"], cwd=location, shown=shown))

    def root(self, location: Path) -> Path | None:
        return self._asked_root(location, ["root"])


class Subversion(Backend):
    def _run(self, source: VcsUrl, command: str, *targets: str) -> None:
        options = ["--quiet", "--non-interactive"]
        options += ["-r", source.revision] if source.revision else []
        if source.username:
            options += ["--username", source.username, "--no-auth-cache"]
        password = source.password
        # The password goes on stdin, not in argv, where any user could read it.
        options += [] if password is None else ["--password-from-stdin"]
        self.run(
            [command, *options, "--", *targets], shown=source.shown, timeout=CLIENT_TIMEOUT,
            secrets=(password,) if password else (),
            stdin=None if password is None else password + "\n",
        )  # fmt: skip

    def clone(self, source: VcsUrl, dest: Path) -> None:
        # A trailing "@" ends a URL's or path's peg revision: an "@" inside stays itself.
        self._run(source, "checkout", source.repository + "@", str(dest))

    def update(self, source: VcsUrl, dest: Path) -> None:
        self._run(source, "update", f"{dest}@")

    def _info(self, location: Path, shown: str) -> str:
        return self.run(["info", "--xml", "--non-interactive", "--", f"{location}@"], shown=shown)

    def commit_id(self, dest: Path, shown: str) -> str:
        # pip's number: the highest revision ``svn info`` reports for the working copy.
        revisions = [int(n) for n in re.findall(r'\s*revision="(\d+)"', self._info(dest, shown))]
        return str(max(revisions, default=0))

    def remote_url(self, location: Path, shown: str) -> str:
        match = re.search(r"<url>(.*)</url>", self._info(location, shown))
        if match is None:
            raise NoRemote()
        return html.unescape(match.group(1))


class Bazaar(Backend):
    def _revision(self, source: VcsUrl) -> list[str]:
        return ["-r", source.revision] if source.revision else []

    def clone(self, source: VcsUrl, dest: Path) -> None:
        args = ["checkout", "--lightweight", "--quiet", *self._revision(source), "--"]
        args += [source.repository, str(dest)]
        self.run(args, shown=source.shown, timeout=CLIENT_TIMEOUT)

    def update(self, source: VcsUrl, dest: Path) -> None:
        args = ["update", "--quiet", *self._revision(source)]
        self.run(args, cwd=dest, shown=source.shown, timeout=CLIENT_TIMEOUT)

    def commit_id(self, dest: Path, shown: str) -> str:
        # The revno of the working tree: pip asks for the branch's, which is its tip
        # even when the checkout is at an older revision.
        return self.run(["revno", "--tree"], cwd=dest, shown=shown).splitlines()[-1].strip()

    def remote_url(self, location: Path, shown: str) -> str:
        for line in self.run(["info"], cwd=location, shown=shown).splitlines():
            label, colon, value = line.strip().partition(": ")
            if colon and label in ("checkout of branch", "parent branch"):
                return _file_url(value.strip())
        raise NoRemote()


#: The backends by name, with pip's protocols for each (``bzr+lp:`` included).
BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Git("git", "Git", ("git",), "the Debian package git", ".git",
            ("http", "https", "ssh", "git", "file"), env={"GIT_TERMINAL_PROMPT": "0"}),
        Mercurial("hg", "Mercurial", ("hg",), "the Debian package mercurial (or pip install "
                  "mercurial)", ".hg", ("file", "http", "https", "ssh", "static-http"),
                  env={"HGPLAIN": "1"}),
        Subversion("svn", "Subversion", ("svn",), "the Debian package subversion", ".svn",
                   ("ssh", "http", "https", "svn", "file"), prefixed=("ssh",)),
        Bazaar("bzr", "Bazaar", ("bzr", "brz"), "the Debian package brz (or pip install "
               "breezy)", ".bzr", ("http", "https", "ssh", "sftp", "ftp", "lp", "file"),
               prefixed=("ssh",)),
    )
}  # fmt: skip


def is_vcs(url: str) -> bool:
    return url.lower().startswith(tuple(f"{name}+" for name in BACKENDS))


def parse_vcs_url(url: str) -> VcsUrl:
    """Take a ``<vcs>+<protocol>:...`` URL apart, as pip does; a clear error otherwise."""
    shown = redact_url(url)
    base, params = split_fragment(url)
    parts = urllib.parse.urlsplit(base)
    vcs, plus, protocol = parts.scheme.lower().partition("+")
    backend = BACKENDS.get(vcs)
    if backend is None or not plus:
        known = ", ".join(f"{name}+" for name in BACKENDS)
        raise BuildError(f"{shown} is not a VCS URL (one starting with {known})")
    if protocol not in backend.protocols:
        choices = ", ".join(f"{vcs}+{p}" for p in backend.protocols)
        raise BuildError(f"{shown}: {backend.title} URLs start with one of {choices}")
    netloc, username, password = parts.netloc, None, None
    if isinstance(backend, Subversion) and protocol != "ssh" and "@" in netloc:
        # svn takes credentials as options (ssh keeps them: it has no such option).
        userinfo, _, netloc = netloc.rpartition("@")
        user, colon, secret = userinfo.partition(":")
        username = urllib.parse.unquote(user) or None
        password = urllib.parse.unquote(secret) if colon else None
    path, at, revision = parts.path.rpartition("@")
    if not at:
        path, revision = parts.path, ""
    elif not revision:
        raise BuildError(
            f"{shown}: the URL ends its path with @ but names no revision after it; "
            "add one (@v1.0) or drop the @"
        )
    scheme = f"{vcs}+{protocol}" if protocol in backend.prefixed else protocol
    repository = urllib.parse.urlunsplit((scheme, netloc, path, parts.query, ""))
    revision = urllib.parse.unquote(revision)
    if revision.startswith("-"):
        # Every client would read it as one of its options.
        raise BuildError(f"{shown}: {revision!r} is not a revision")
    return VcsUrl(backend, repository, revision or None, params, shown, username, password)


def checkout(url: str, into: Path) -> Checkout:
    """Check *url* out into the new folder *into*; the commit it is at comes with it."""
    source = parse_vcs_url(url)
    source.backend.clone(source, into)
    return Checkout(into, source, source.backend.commit_id(into, source.shown))
