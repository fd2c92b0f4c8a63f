"""The scheme used when no other plugin chose one: the target's own (venv or system)."""

from __future__ import annotations

from roost.hookspecs import hookimpl
from roost.types import Options, Scheme, Target


@hookimpl(trylast=True)
def roost_select_scheme(target: Target, options: Options) -> Scheme | None:
    """Install into the interpreter's own scheme; whether that is allowed is the guard's call."""
    return target.default_scheme
