"""The arena cap is asked of glibc for real, and the user's MALLOC_ARENA_MAX wins."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = "from roost.util.malloc_arenas import limit_malloc_arenas; print(limit_malloc_arenas())"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux's")
def test_glibc_accepts_the_cap() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, env={}
    )
    assert result.stdout.strip() == "True"


def test_the_users_setting_wins() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        env={"MALLOC_ARENA_MAX": "8"},
    )
    assert result.stdout.strip() == "False"
