"""Trust the operating system's certificate store (enterprise PKI just works).

On Linux truststore reads OpenSSL's default locations, so ``SSL_CERT_FILE`` and
``SSL_CERT_DIR`` apply. ``--cert`` adds a CA bundle, ``--client-cert`` a client
certificate (PEM with its key). Blocked with ``-p no:truststore_tls``, roost falls
back to Python's default context with the same ``--cert``/``--client-cert``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from roost.hookspecs import hookimpl

if TYPE_CHECKING:
    import ssl

    from roost.types import Settings

NETWORK_COMMANDS = frozenset({"install", "download", "list"})


@hookimpl
def roost_add_options(command: str) -> list[click.Option]:
    if command not in NETWORK_COMMANDS:
        return []
    return [
        click.Option(["--cert"], metavar="PATH", help="Also trust the CA bundle at PATH."),
        click.Option(
            ["--client-cert"],
            metavar="PATH",
            help="Client certificate for mutual TLS: a PEM file with the key and certificate.",
        ),
    ]


@hookimpl(trylast=True)
def roost_ssl_context(settings: Settings) -> ssl.SSLContext:
    # Here, not at the top: ssl costs 6 ms of start-up that commands which never
    # connect (and installs that fetch nothing) need not pay.
    import ssl

    import truststore

    from roost.tls import apply_tls_settings

    return apply_tls_settings(truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT), settings)
