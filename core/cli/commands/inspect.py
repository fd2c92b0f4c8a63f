"""``roost inspect``: pip's JSON report of an environment (format ``"1"``).

Key for key what ``pip inspect`` writes, so tools that read pip's report read this
one: ``metadata`` is the core metadata as JSON (PEP 566, the fields pip knows, in its
order), ``direct_url`` is ``direct_url.json`` normalised as pip normalises it, then
``installer`` and ``requested``. The environment is the target's marker environment.
``pip_version`` names the pip release whose report this matches; ``roost_version``
says who wrote it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from roost.cli.options import environment_filter_options, python_option

if TYPE_CHECKING:
    import email.message

    from roost.target.installed import InstalledDist

#: The pip release whose ``inspect`` output this command reproduces.
PIP_FORMAT_VERSION = "26.3"

#: Core metadata fields pip puts in the report, in its order, and whether each may
#: appear more than once (then the JSON value is a list). Other fields are left out.
METADATA_FIELDS = (
    ("Metadata-Version", False),
    ("Name", False),
    ("Version", False),
    ("Dynamic", True),
    ("Platform", True),
    ("Supported-Platform", True),
    ("Summary", False),
    ("Description", False),
    ("Description-Content-Type", False),
    ("Keywords", False),
    ("Home-page", False),
    ("Download-URL", False),
    ("Author", False),
    ("Author-email", False),
    ("Maintainer", False),
    ("Maintainer-email", False),
    ("License", False),
    ("License-Expression", False),
    ("License-File", True),
    ("Classifier", True),
    ("Requires-Dist", True),
    ("Requires-Python", False),
    ("Requires-External", True),
    ("Project-URL", True),
    ("Provides-Extra", True),
    ("Provides-Dist", True),
    ("Obsoletes-Dist", True),
)


def _header_text(value: object) -> str:
    """A header value as text; bytes the parser could not decode are read as UTF-8 when
    they are UTF-8, else as Latin-1, so no report fails on one odd field."""
    from email.header import Header, decode_header, make_header

    if not isinstance(value, Header):
        return str(value)
    chunks = []
    for data, charset in decode_header(value):
        if charset == "unknown-8bit" and isinstance(data, bytes):
            try:
                data.decode("utf-8")
                charset = "utf-8"
            except UnicodeDecodeError:
                charset = "latin1"
        chunks.append((data, charset))
    return str(make_header(chunks))


def _unfold(value: str) -> str:
    """A header continued over several lines, with the continuation indent removed (as
    ``importlib.metadata`` gives it to pip)."""
    if "\n" not in value:
        return value
    import textwrap

    return textwrap.dedent(" " * 8 + value)


def metadata_json(message: email.message.Message) -> dict[str, Any]:
    """Core metadata as pip's report has it: PEP 566's JSON form of pip's fields."""
    body = message.get_payload()
    body_text = body if isinstance(body, str) and body else None
    result: dict[str, Any] = {}
    for field, multiple in METADATA_FIELDS:
        # A description in the message body counts as a Description field, so the key
        # lands where pip puts it.
        present = field in message or (field == "Description" and body_text is not None)
        if not present:
            continue
        key = field.lower().replace("-", "_")
        if multiple:
            result[key] = [_unfold(_header_text(v)) for v in message.get_all(field) or []]
            continue
        raw = message.get(field)
        value = _unfold(_header_text(raw)) if raw is not None else ""
        if key == "keywords":
            # Both separators occur in the wild: commas win when there are any.
            result[key] = [v.strip() for v in value.split(",")] if "," in value else value.split()
        else:
            result[key] = value
    if body_text is not None:
        result["description"] = body_text
    return result


def _strip_credentials(url: str) -> str:
    """*url* without a user:password, unless PEP 610 allows it there (``${VAR}`` names,
    or ``git`` as for ssh URLs)."""
    import re
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    if userinfo == "git" or re.fullmatch(
        r"\$\{[A-Za-z0-9_-]+\}(:\$\{[A-Za-z0-9_-]+\})?", userinfo
    ):
        return url
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


class _Invalid(ValueError):
    pass


def _text(data: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise _Invalid(f"missing {key!r}")
        return None
    if not isinstance(value, str):
        raise _Invalid(f"{key!r} is not a string")
    return value


def _archive_info(data: Mapping[str, Any]) -> dict[str, Any]:
    hashes = data.get("hashes")
    if hashes is not None and (
        not isinstance(hashes, dict) or not all(isinstance(v, str) for v in hashes.values())
    ):
        raise _Invalid("'hashes' is not a table of strings")
    legacy = _text(data, "hash")
    if legacy is not None:
        name, equals, value = legacy.partition("=")
        if not equals:
            raise _Invalid("'hash' is not NAME=VALUE")
        if hashes is None:
            hashes = {name: value}
        elif hashes.get(name) != value:
            raise _Invalid("'hash' disagrees with 'hashes'")
    if not hashes:
        return {}
    first_name, first_value = next(iter(hashes.items()))
    # pip writes the first hash in the legacy field too, for readers of PEP 610's draft.
    return {"hashes": dict(hashes), "hash": f"{first_name}={first_value}"}


def normalized_direct_url(data: object) -> dict[str, Any]:
    """``direct_url.json`` as pip reports it: known keys only, in PEP 610's order, the
    URL without credentials. Raises ValueError when the file breaks PEP 610."""
    from urllib.parse import urlsplit

    if not isinstance(data, dict):
        raise _Invalid("not a JSON object")
    url = _text(data, "url", required=True)
    assert url is not None
    kinds = [key for key in ("archive_info", "vcs_info", "dir_info") if data.get(key) is not None]
    if len(kinds) != 1:
        raise _Invalid("needs exactly one of archive_info, vcs_info and dir_info")
    info = data[kinds[0]]
    if not isinstance(info, dict):
        raise _Invalid(f"{kinds[0]!r} is not a table")
    result: dict[str, Any] = {"url": _strip_credentials(url)}
    if kinds[0] == "archive_info":
        result["archive_info"] = _archive_info(info)
    elif kinds[0] == "vcs_info":
        vcs: dict[str, Any] = {
            "vcs": _text(info, "vcs", required=True),
            "commit_id": _text(info, "commit_id", required=True),
        }
        revision = _text(info, "requested_revision")
        if revision is not None:
            vcs["requested_revision"] = revision
        result["vcs_info"] = vcs
    else:
        editable = info.get("editable")
        if editable is not None and not isinstance(editable, bool):
            raise _Invalid("'editable' is not a boolean")
        parts = urlsplit(url)
        if parts.scheme != "file" or not parts.path.startswith("/"):
            raise _Invalid("a dir_info URL must be an absolute file: URL")
        result["dir_info"] = {} if editable is None else {"editable": editable}
    subdirectory = _text(data, "subdirectory")
    if subdirectory is not None:
        result["subdirectory"] = subdirectory
    return result


def dist_entry(dist: InstalledDist, warn: Any) -> dict[str, Any]:
    """One ``installed`` item of the report."""
    entry: dict[str, Any] = {
        "metadata": metadata_json(dist.metadata),
        "metadata_location": str(dist.dist_info),
    }
    text = dist.read_text("direct_url.json")
    if text is not None:
        try:
            entry["direct_url"] = normalized_direct_url(json.loads(text))
        except ValueError as exc:
            warn(f"{dist.name}: its direct_url.json is left out of the report: {exc}")
    installer = next((line.strip() for line in dist.installer.splitlines() if line.strip()), "")
    if installer:
        entry["installer"] = installer
    entry["requested"] = dist.requested
    return entry


def inspect_command() -> click.Command:
    @click.command("inspect")
    @environment_filter_options
    @python_option
    @click.pass_context
    def inspect(ctx: click.Context, /, **_: Any) -> None:
        """Describe the target environment as JSON: each installed distribution's metadata,
        where it is and how it got there, and the marker environment (pip's report)."""
        from roost.cli.invocation import invocation
        from roost.flows.environment import (
            STDLIB_NAMES,
            check_path_option,
            distributions,
            load_context,
        )
        from roost.util.output import Output
        from roost.version import __version__

        out = ctx.find_object(Output) or Output()
        context = load_context(invocation(ctx, "inspect"))
        params = context.params
        check_path_option(params)
        dists = distributions(
            context.target,
            paths=params["path"],
            user_only=bool(params["user"]),
            local_only=bool(params["local"]),
            skip=STDLIB_NAMES,
        )
        report = {
            "version": "1",
            "pip_version": PIP_FORMAT_VERSION,
            "roost_version": __version__,
            "installed": [dist_entry(dist, out.warning) for dist in dists],
            "environment": dict(context.target.markers),
        }
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))

    return inspect
