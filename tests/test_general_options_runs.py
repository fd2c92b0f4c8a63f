"""pip's general options in real roost runs, for the options that change what roost
does: ``-q`` and ``--log``, ``PIP_QUIET``, ``--isolated``, ``--require-virtualenv``,
``--no-input``, ``--no-proxy-env``, ``--keyring-provider disabled``, ``--debug``, and
the options roost accepts and ignores as pip does. How each is parsed, on every command
and in every position: tests/test_general_options.py.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from tests.support.envs import installed, make_venv, run_roost
from tests.support.server import IndexServer

# -- real runs ------------------------------------------------------------------


def roost(env: dict[str, str], *args: str, input: str | None = None) -> Any:
    return run_roost(*args, env=env, cwd=Path(env["HOME"]), input=input)


def test_quiet_install_prints_nothing_and_log_gets_everything(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    log = tmp_path / "roost.log"
    log.write_text("earlier line\n")
    done = roost(
        tmp_home,
        "install",
        "-q",
        "--python",
        str(python),
        "-i",
        index_server.url,
        "--log",
        str(log),
        "beta",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
    assert set(installed(python)) == {"alpha", "beta"}
    text = log.read_text()
    assert text.startswith("earlier line\n")  # appended
    assert "Successfully installed" in text
    # -v details go to the log though the screen got nothing
    assert re.search(r"^\d{4}-\d\d-\d\dT\S+ .*index", text, re.M | re.I), text
    loud = roost(
        tmp_home,
        "install",
        "--python",
        str(python),
        "-i",
        index_server.url,
        "--force-reinstall",
        "beta",
    )
    assert "Successfully installed" in loud.stdout


def test_pip_quiet_variable_counts(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    done = roost(
        {**tmp_home, "PIP_QUIET": "1"},
        "install",
        "--python",
        str(python),
        "-i",
        index_server.url,
        "alpha",
    )
    assert done.returncode == 0 and done.stdout == "", done.stdout
    # -v on top of PIP_QUIET=1 cancels it out, as in pip
    again = roost(
        {**tmp_home, "PIP_QUIET": "1"},
        "install",
        "-v",
        "--python",
        str(python),
        "-i",
        index_server.url,
        "--force-reinstall",
        "alpha",
    )
    assert "Successfully installed" in again.stdout
    bad = roost({**tmp_home, "PIP_QUIET": "loud"}, "list", "--python", str(python))
    assert bad.returncode == 2 and "set in pip environment (PIP_*)" in bad.stderr


def test_isolated_ignores_variables_and_the_user_config(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    home = Path(tmp_home["HOME"])
    (home / ".config" / "pip").mkdir(parents=True)
    (home / ".config" / "pip" / "pip.conf").write_text("[install]\nno-deps = true\n")
    (home / ".config" / "roost").mkdir(parents=True)
    (home / ".config" / "roost" / "config.toml").write_text('index-url = "http://127.0.0.1:1/"\n')
    env = {**tmp_home, "PIP_INDEX_URL": index_server.url, "ROOST_NO_DEPS": "1"}
    plain = roost(env, "install", "--python", str(python), "-i", index_server.url, "beta")
    assert plain.returncode == 0, plain.stderr
    assert set(installed(python)) == {"beta"}  # no-deps from the variable and the file
    isolated = roost(
        env,
        "--isolated",
        "install",
        "--python",
        str(python),
        "-i",
        index_server.url,
        "--force-reinstall",
        "beta",
    )
    assert isolated.returncode == 0, isolated.stderr
    assert set(installed(python)) == {"alpha", "beta"}


def test_require_virtualenv(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    base = Path(getattr(sys, "_base_executable", sys.executable))
    assert base.parent != python.parent
    refused = roost(
        tmp_home, "uninstall", "--require-virtualenv", "--python", str(base), "-y", "nothing-here"
    )
    assert refused.returncode == 3, refused.stderr
    assert "is not a virtual environment" in refused.stderr
    variable = roost(
        {**tmp_home, "PIP_REQUIRE_VIRTUALENV": "1"},
        "install",
        "--python",
        str(base),
        "-i",
        index_server.url,
        "alpha",
    )
    assert variable.returncode == 3, variable.stderr
    fine = roost(
        tmp_home,
        "--require-venv",
        "install",
        "--python",
        str(python),
        "-i",
        index_server.url,
        "alpha",
    )
    assert fine.returncode == 0, fine.stderr
    # a command pip does not check it on
    assert roost(tmp_home, "list", "--require-virtualenv", "--python", str(base)).returncode == 0


def test_no_input_never_asks(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    roost(tmp_home, "install", "--python", str(python), "-i", index_server.url, "alpha")
    refused = roost(
        tmp_home, "uninstall", "--no-input", "--python", str(python), "alpha", input="y\n"
    )
    assert refused.returncode != 0 and "pass -y" in refused.stderr
    assert "alpha" in installed(python)
    asked = roost(tmp_home, "uninstall", "--python", str(python), "alpha", input="y\n")
    assert asked.returncode == 0, asked.stderr
    assert "alpha" not in installed(python)


def test_no_proxy_env(tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]) -> None:
    python = make_venv(tmp_path / "venv")
    env = {**tmp_home, "HTTP_PROXY": "http://127.0.0.1:1", "http_proxy": "http://127.0.0.1:1"}
    args = ("install", "--python", str(python), "-i", index_server.url, "--retries", "0")
    assert roost(env, *args, "delta").returncode != 0
    done = roost(env, "--no-proxy-env", *args, "delta")
    assert done.returncode == 0, done.stderr


def test_keyring_provider_disabled_blocks_keyring(tmp_home: dict[str, str]) -> None:
    def loaded(*args: str) -> set[str]:
        done = roost(tmp_home, *args, "plugins")
        assert done.returncode == 0, done.stderr
        return {line.split()[0] for line in done.stdout.splitlines() if line[:1].strip()}

    assert "keyring_auth" in loaded()
    assert "keyring_auth" not in loaded("--keyring-provider", "disabled")
    assert "keyring_auth" not in loaded("--keyring-provider=disabled", "--isolated")


def test_debug_shows_the_traceback(tmp_home: dict[str, str]) -> None:
    missing = str(Path(tmp_home["HOME"]) / "no-python")
    plain = roost(tmp_home, "list", "--python", missing)
    debug = roost(tmp_home, "list", "--debug", "--python", missing)
    assert plain.returncode == debug.returncode != 0
    assert "Traceback" not in plain.stderr and "Traceback" in debug.stderr


def test_silently_accepted_options_change_nothing(
    tmp_path: Path, tmp_home: dict[str, str]
) -> None:
    python = make_venv(tmp_path / "venv")
    plain = roost(tmp_home, "list", "--python", str(python), "--format", "json")
    noisy = roost(
        tmp_home,
        "--disable-pip-version-check",
        "--no-color",
        "--no-python-version-warning",
        "list",
        "--python",
        str(python),
        "--format",
        "json",
        "--use-feature",
        "fast-deps",
        "--resume-retries",
        "2",
        "--exists-action",
        "a",
        "--keyring-provider",
        "import",
        "--cache-dir",
        str(tmp_path / "c"),
        "--no-cache-dir",
        "--cert",
        os.devnull,
    )
    assert noisy.returncode == 0, noisy.stderr
    assert noisy.stdout == plain.stdout and noisy.stderr == plain.stderr == ""
