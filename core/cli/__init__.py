"""The ``roost`` command line: the click group, its options, and one module per command."""

from __future__ import annotations

from roost.cli.main import main

__all__ = ["main"]
