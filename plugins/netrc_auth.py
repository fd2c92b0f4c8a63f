"""Credentials from ``~/.netrc`` (or the file in ``NETRC``), as curl and pip read it."""

from __future__ import annotations

import netrc
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from roost.hookspecs import hookimpl
from roost.types import Credentials

if TYPE_CHECKING:
    from roost.types import Settings


def netrc_path() -> Path:
    return Path(os.environ.get("NETRC") or Path.home() / ".netrc")


@hookimpl(trylast=True)
def roost_http_auth(url: str, settings: Settings) -> Credentials | None:
    path = netrc_path()
    if not path.is_file():
        return None
    host = urlsplit(url).hostname
    if not host:
        return None
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except (netrc.NetrcParseError, OSError):
        # A broken .netrc must not stop installs from indexes that need no login.
        return None
    if entry is None:
        return None
    login, _account, password = entry
    return Credentials(login or "", password or "")
