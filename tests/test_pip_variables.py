"""PIP_* variables and pip's files, parsed as pip parses them.

pip sets each option's destination from a value: switches take strtobool's words,
``--no-X`` switches store into ``X`` (so ``PIP_NO_BUILD_ISOLATION=0`` turns isolation
off), ``PIP_NO_CACHE_DIR`` turns the cache off for any valid value, -q/-v are counts,
and any of an option's names works. roost keeps every one of those rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from roost.cli.general_run import GeneralOptionError, parse_count
from roost.plugins.pip_config import pip_settings_layers, pip_values
from roost.types import Settings
from tests.support.envs import installed, make_venv, run_roost
from tests.support.projects import pyproject_project


def layers(env: dict[str, str], home: Path, command: str = "install") -> Settings:
    return Settings(tuple(pip_settings_layers(command, env=env, home=home, etc_dir=home)))


@pytest.mark.parametrize(
    ("variable", "value", "key", "expected"),
    [
        # pip's inversion: the value is that of pip's destination, build_isolation
        ("PIP_NO_BUILD_ISOLATION", "0", "no-build-isolation", "1"),
        ("PIP_NO_BUILD_ISOLATION", "off", "no-build-isolation", "1"),
        ("PIP_NO_BUILD_ISOLATION", "yes", "no-build-isolation", "0"),
        ("PIP_NO_WARN_SCRIPT_LOCATION", "false", "no-warn-script-location", "1"),
        ("PIP_NO_COMPILE", "no", "compile", "0"),
        ("PIP_NO_USER", "0", "user", "0"),
        # any valid value turns the cache off
        ("PIP_NO_CACHE_DIR", "off", "no-cache-dir", "1"),
        ("PIP_NO_CACHE_DIR", "true", "no-cache-dir", "1"),
        # one of an option's other names
        ("PIP_DEFAULT_TIMEOUT", "60", "timeout", "60"),
        ("PIP_REQUIRE_VENV", "1", "require-virtualenv", "1"),
        ("PIP_LOG_FILE", "/tmp/x.log", "log", "/tmp/x.log"),
        ("PIP_NO_DEPENDENCIES", "1", "no-deps", "1"),
        # a value pip refuses is kept for roost's error, which names the variable
        ("PIP_NO_BUILD_ISOLATION", "maybe", "no-build-isolation", "maybe"),
        ("PIP_QUIET", "2", "quiet", "2"),
    ],
)
def test_pip_variables_parsed_as_pip(
    tmp_path: Path, variable: str, value: str, key: str, expected: str
) -> None:
    settings = layers({variable: value}, tmp_path)
    assert settings.get(key) == expected
    assert settings.origin(key) == "pip environment (PIP_*)"


def test_pip_files_get_the_same_meaning(tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[install]\nno-build-isolation = false\nno-cache-dir = no\n")
    settings = layers({"PIP_CONFIG_FILE": str(conf)}, tmp_path)
    assert settings.get("no-build-isolation") == "1"
    assert settings.get("no-cache-dir") == "1"


def test_exclude_editable_is_inverted_for_list_only() -> None:
    assert pip_values({"exclude-editable": "1"}, "list") == {"exclude-editable": "0"}
    assert pip_values({"exclude-editable": "1"}, "freeze") == {"exclude-editable": "1"}
    assert pip_values({"compile": "1", "no-compile": "0"}, "install") == {"compile": "1"}


@pytest.mark.parametrize(
    ("text", "count"), [("0", 0), ("3", 3), ("yes", 1), ("off", 0), ("True", 1)]
)
def test_counts_as_pip_reads_them(text: str, count: int) -> None:
    assert parse_count(text, "quiet") == count


@pytest.mark.parametrize("text", ["-1", "lots", "1.5"])
def test_bad_counts(text: str) -> None:
    with pytest.raises(GeneralOptionError, match="not a valid value for quiet"):
        parse_count(text, "quiet")


def test_isolated_skips_variables_and_user_files(tmp_path: Path) -> None:
    user = tmp_path / ".config" / "pip" / "pip.conf"
    user.parent.mkdir(parents=True)
    user.write_text("[global]\ntimeout = 9\n")
    env = {"PIP_RETRIES": "2"}
    assert layers(env, tmp_path).get("timeout") == "9"
    isolated = Settings(
        tuple(
            pip_settings_layers("install", env=env, home=tmp_path, etc_dir=tmp_path, isolated=True)
        )
    )
    assert isolated.get("timeout") is None and isolated.get("retries") is None


def test_pip_no_build_isolation_zero_turns_isolation_off(
    tmp_path: Path, tmp_home: dict[str, str]
) -> None:
    """The real effect of pip's inversion: with PIP_NO_BUILD_ISOLATION=0 the build runs
    in the target, so --check-build-dependencies finds setuptools missing there; roost's
    own variable means what it says."""
    project = pyproject_project(tmp_path / "iso", "isoproj", "1.0")
    python = make_venv(tmp_path / "venv")
    args = (
        "install",
        "--python",
        str(python),
        "-i",
        "http://127.0.0.1:1/simple",
        "--retries",
        "0",
        "--check-build-dependencies",
        str(project),
    )
    pip_off = run_roost(*args, env={**tmp_home, "PIP_NO_BUILD_ISOLATION": "0"})
    assert pip_off.returncode == 1
    assert "missing build dependencies (build-system.requires)" in pip_off.stderr
    roost_on = run_roost(*args, env={**tmp_home, "ROOST_NO_BUILD_ISOLATION": "0"})
    assert roost_on.returncode != 0  # isolated: the dead index cannot give setuptools
    assert "missing build dependencies" not in roost_on.stderr
    bad = run_roost(*args, env={**tmp_home, "PIP_NO_BUILD_ISOLATION": "maybe"})
    assert bad.returncode == 2
    assert "'maybe' is not a valid boolean" in bad.stderr
    assert "pip environment (PIP_*)" in bad.stderr
    assert installed(python) == {}
