"""Credentials from the ``keyring`` package, when it is importable (as pip's keyring support),
asked once an index has answered 401 to a request without credentials.

The service names tried, most specific first: the URL asked for, its origin
(``https://host:port``), ``host:port`` and the bare host name. ``keyring`` chooses
the backend (the OS's credential store, or ``PYTHON_KEYRING_BACKEND``). A backend
that fails is treated as having nothing: a broken keyring must not stop installs
from indexes that need no login.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from roost.hookspecs import hookimpl
from roost.types import Credentials

if TYPE_CHECKING:
    from roost.types import Settings


def service_names(url: str) -> list[str]:
    """Keyring service names for *url*, most specific first, without duplicates."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    names = [url, f"{parts.scheme}://{parts.netloc}", parts.netloc, host]
    return [name for name in dict.fromkeys(names) if name]


@hookimpl(trylast=True)
def roost_http_auth(url: str, settings: Settings, challenged: bool) -> Credentials | None:
    # Only after a 401, as pip and uv: importing keyring and asking its backend costs
    # tens of milliseconds (and may prompt), which an index needing no login never pays.
    if not challenged or importlib.util.find_spec("keyring") is None:
        return None
    try:
        keyring = importlib.import_module("keyring")
        for service in service_names(url):
            found = keyring.get_credential(service, None)
            if found is not None and found.password is not None:
                return Credentials(found.username or "", found.password)
    except Exception:  # any backend failure means "nothing stored here"
        return None
    return None
