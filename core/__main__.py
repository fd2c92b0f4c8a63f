"""``python -m roost``: installs into the interpreter that runs it, unless told otherwise."""

from __future__ import annotations

import sys

from roost.cli.main import main

if __name__ == "__main__":
    sys.exit(main(prog_name="python -m roost", default_python=sys.executable))
