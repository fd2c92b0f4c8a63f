"""The loopback index server, now :mod:`roost.testing.server` (plugin authors get it
through the ``roost_index`` fixture); re-exported here so the tests keep one import.

For fault tests (:meth:`IndexServer.set_fault`) use a server of your own, not the shared
session one.
"""

from __future__ import annotations

from roost.testing.server import (
    HTML_V1,
    JSON_V1,
    TEXT_HTML,
    Fault,
    IndexServer,
    RequestRecord,
    negotiate,
    parse_accept,
)

__all__ = [
    "HTML_V1",
    "JSON_V1",
    "TEXT_HTML",
    "Fault",
    "IndexServer",
    "RequestRecord",
    "negotiate",
    "parse_accept",
]
