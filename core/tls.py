"""TLS settings a ``roost_ssl_context`` implementation applies: ``cert`` and ``client-cert``.

Public plugin API: the built-in ``truststore_tls`` plugin and roost's stdlib fallback
both call :func:`apply_tls_settings`, and so can a third-party TLS plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from roost.errors import ConfigError

if TYPE_CHECKING:
    import ssl

    from roost.types import Settings


def apply_tls_settings(context: ssl.SSLContext, settings: Settings) -> ssl.SSLContext:
    """Add ``cert`` (a CA bundle) and ``client-cert`` (PEM with key) to *context*."""
    import ssl

    for key, load in (
        ("cert", lambda path: context.load_verify_locations(cafile=path)),
        ("client-cert", context.load_cert_chain),
    ):
        path = settings.get(key)
        if not path:
            continue
        try:
            load(path)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"{key} {path!r} (from {settings.origin(key)}) could not be loaded: {exc}"
            ) from None
    return context
