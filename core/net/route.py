"""Where a request goes: ``--proxy`` or the proxy variables (``NO_PROXY`` honoured),
``--trusted-host`` relaxations, and one httpx transport per combination.

Kept apart from :mod:`roost.net.client` so the routing rules can be read (and tested) on
their own; httpx's own environment handling is not used because it does not give
proxy connections the SSL context from ``roost_ssl_context``.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from roost.errors import ConfigError
from roost.types import Settings, redact_url

if TYPE_CHECKING:
    import ssl

    import httpx


def host_matches(pattern: str, host: str, port: int | None) -> bool:
    """Whether a ``--trusted-host`` value (``HOST``, ``HOST:PORT``, ``[V6]:PORT``) names
    *host* and *port*."""
    pattern = pattern.strip().lower()
    if pattern.startswith("["):
        name, _, rest = pattern[1:].partition("]")
        wanted = rest[1:] if rest.startswith(":") else ""
    elif pattern.count(":") == 1:
        name, _, wanted = pattern.partition(":")
    else:
        name, wanted = pattern, ""
    if name != host.lower().strip("[]"):
        return False
    return not wanted or (wanted.isdigit() and int(wanted) == port)


def is_loopback(host: str) -> bool:
    """``localhost`` or an address in 127.0.0.0/8 or ::1, which plain http may reach."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def proxy_for(url: str, configured: str | None, env: Mapping[str, str]) -> str | None:
    """The proxy URL for *url*: ``--proxy`` first, then the environment; None when direct.

    ``NO_PROXY`` (and ``no_proxy``) excludes hosts either way, as curl does.
    """
    parts = urlsplit(url)
    found = _environment_proxies(env)
    default_port = 443 if parts.scheme == "https" else 80
    if no_proxy_matches(found.get("no", ""), parts.hostname or "", parts.port or default_port):
        return None
    proxy = configured or found.get(parts.scheme) or found.get("all")
    if not proxy:
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def no_proxy_matches(no_proxy: str, host: str, port: int) -> bool:
    """Whether a ``NO_PROXY`` value excludes *host*:*port*.

    Entries are comma-separated: ``*``, a host or domain (``corp.example`` and
    ``.corp.example`` both cover sub-domains), optionally ``:PORT``, or an IP network.
    """
    host = host.lower().strip("[]")
    for entry in no_proxy.lower().replace(" ", "").split(","):
        if not entry:
            continue
        if entry == "*":
            return True
        name, wanted = entry, ""
        if entry.count(":") == 1 or entry.startswith("["):
            name, _, wanted = entry.rpartition(":")
        if wanted and (not wanted.isdigit() or int(wanted) != port):
            continue
        name = name.strip("[]").removeprefix("*").removeprefix(".")
        if "/" in name:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(name, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if host == name or host.endswith("." + name):
            return True
    return False


def _environment_proxies(env: Mapping[str, str]) -> dict[str, str]:
    # Lowercase wins over uppercase, as urllib and curl read them.
    found: dict[str, str] = {}
    for key, value in env.items():
        if value and key.lower().endswith("_proxy") and key.upper() == key:
            found[key[:-6].lower()] = value
    for key, value in env.items():
        if value and key.endswith("_proxy") and key.lower() == key:
            found[key[:-6]] = value
    return found


class Router:
    """Pick a transport per request: proxied or direct, verified or ``--trusted-host``."""

    def __init__(self, context: ssl.SSLContext, settings: Settings) -> None:
        import httpx

        self._context = context
        self._settings = settings
        self._trusted = settings.get_list("trusted-host")
        self._proxy = settings.get("proxy") or None
        self._env = dict(os.environ)
        self._limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
        self._lock = threading.Lock()
        self._transports: dict[tuple[str | None, bool], httpx.HTTPTransport] = {}

    def trusted(self, url: str) -> bool:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return any(host_matches(p, parts.hostname or "", port) for p in self._trusted)

    def proxy(self, url: str) -> str | None:
        return proxy_for(url, self._proxy, self._env)

    def transport(self, url: str) -> httpx.HTTPTransport:
        key = (self.proxy(url), self.trusted(url))
        with self._lock:
            found = self._transports.get(key)
            if found is None:
                found = self._transports[key] = self._build(*key)
            return found

    def _build(self, proxy: str | None, trusted: bool) -> httpx.HTTPTransport:
        import httpx

        verify = _unverified_context(self._settings) if trusted else self._context
        try:
            # The proxy's own TLS (an https:// proxy) is verified with the same context.
            via = None
            if proxy:
                tls = self._context if proxy.lower().startswith("https:") else None
                via = httpx.Proxy(proxy, ssl_context=tls)
            return httpx.HTTPTransport(verify=verify, proxy=via, limits=self._limits)
        except (ValueError, ImportError, RuntimeError, httpx.InvalidURL) as exc:
            raise ConfigError(
                f"the proxy {redact_url(proxy or '')} cannot be used: {exc}"
            ) from None

    def close(self) -> None:
        with self._lock:
            for transport in self._transports.values():
                transport.close()
            self._transports.clear()


def _unverified_context(settings: Settings) -> ssl.SSLContext:
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    client_cert = settings.get("client-cert")
    if client_cert:
        context.load_cert_chain(client_cert)
    return context
