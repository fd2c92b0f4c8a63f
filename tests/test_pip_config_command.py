"""``roost config`` as pip 26.3's: ``set``/``unset``/``get``/``list``/``debug``/``edit``
on the same files pip reads (user, global, site, ``PIP_CONFIG_FILE``), checked by asking
the reference pip, and roost's own names written to roost's config file.

The reference pip is :mod:`tests.support.reference_pip`'s; without one, the tests
that compare fail and say so.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from roost.testing import IndexServer, VenvMaker, WheelMaker
from tests.support import pip_and_roost
from tests.support.pip_and_roost import PipRunner, roost

# The shared fixture, bound here so that pytest finds it for this module's tests.
pip26 = pip_and_roost.pip26


# -- config -------------------------------------------------------------------------------


@pytest.fixture
def pip_env(tmp_home: dict[str, str]) -> dict[str, str]:
    """tmp_home with pip's config files read (no ``PIP_CONFIG_FILE``)."""
    return {k: v for k, v in tmp_home.items() if k != "PIP_CONFIG_FILE"}


def test_config_set_global_index_url_is_what_the_next_install_uses(
    pip_env: dict[str, str],
    pip26: PipRunner,
    roost_venv: VenvMaker,
    roost_index: IndexServer,
    make_wheel: WheelMaker,
) -> None:
    roost_index.add(make_wheel("demo", "1.0"))
    user_file = Path(pip_env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
    done = roost("config", "set", "global.index-url", roost_index.url, env=pip_env, check=True)
    assert done.stdout == f"Writing to {user_file}\n"
    assert "[global]\nindex-url = " in user_file.read_text()
    assert (
        pip26("config", "get", "global.index-url", env=pip_env).stdout.strip() == roost_index.url
    )
    venv = roost_venv()
    roost("install", "--python", venv.python, "demo", env=pip_env, check=True)
    assert venv.has("demo", "1.0")
    # pip's own writing reads back the same way.
    roost("config", "unset", "global.index-url", env=pip_env, check=True)
    gone = pip26("config", "get", "global.index-url", env=pip_env)
    assert gone.returncode == 1
    again = roost("config", "unset", "global.index-url", env=pip_env)
    assert again.returncode == 1
    assert "ERROR: No such key - global.index-url" in again.stderr
    assert "ERROR: No such key - global.index-url" in gone.stderr


def test_config_listings_are_pips(
    pip_env: dict[str, str], pip26: PipRunner, roost_venv: VenvMaker
) -> None:
    venv = roost_venv()
    env = {**pip_env, "PIP_DEFAULT_TIMEOUT": "60", "VIRTUAL_ENV": str(venv.path)}
    for name, value in (
        ("global.timeout", "30"),
        ("install.no-compile", "yes"),
        ("download.extra-index-url", "http://a.invalid/s http://b.invalid/s"),
    ):
        roost("config", "--user", "set", name, *value.split(), env=env, check=True)
    roost("config", "set", "global.retries", "2", "--site", env=env, check=True)
    assert (venv.path / "pip.conf").read_text() == "[global]\nretries = 2\n\n"
    # pip reads its site file from its own prefix: run it in the venv.
    pip = {"python": venv.python}
    listed = {}
    for scope in ("--user", "--global", "--site"):
        listed[scope] = roost("config", scope, "list", env=env, check=True).stdout
        assert listed[scope] == pip26("config", scope, "list", env=env, **pip).stdout, scope
    assert "install.no-compile='yes'\n:env:.default-timeout='60'\n" in listed["--user"]
    assert listed["--site"].startswith("global.retries='2'\n")
    ours_debug = roost("config", "debug", env=env, check=True).stdout
    pips_debug = pip26("config", "debug", env=env, **pip).stdout
    assert ours_debug.startswith(pips_debug)
    assert "download.extra-index-url: http://a.invalid/s http://b.invalid/s\n" in pips_debug
    assert ours_debug[len(pips_debug) :].startswith("roost env_var:\nroost:\n")
    for scope in ([], ["--user"], ["--site"]):
        for name in ("global.timeout", "global.retries", "global.index-url"):
            ours_get = roost("config", *scope, "get", name, env=env)
            theirs = pip26("config", *scope, "get", name, env=env, **pip)
            assert (ours_get.returncode, ours_get.stdout) == (theirs.returncode, theirs.stdout)
    # The site file exists, so a change without a scope goes there, as with pip.
    roost("config", "set", "global.proxy", "http://p.invalid:3128", env=env, check=True)
    assert "proxy = http://p.invalid:3128" in (venv.path / "pip.conf").read_text()
    isolated = roost("--isolated", "config", "--user", "list", env=env, check=True).stdout
    assert isolated == pip26("--isolated", "config", "--user", "list", env=env).stdout == ""


def test_config_follows_pip_config_file(
    tmp_path: Path, pip_env: dict[str, str], pip26: PipRunner
) -> None:
    explicit = tmp_path / "chosen.conf"
    explicit.write_text("[global]\nretries = 1\n")
    env = {**pip_env, "PIP_CONFIG_FILE": str(explicit)}
    done = roost("config", "set", "global.timeout", "5", env=env, check=True)
    assert done.stdout == f"Writing to {explicit}\n"
    assert "PIP_CONFIG_FILE is set" in done.stderr
    assert pip26("config", "get", "global.timeout", env=env).stdout == "5\n"
    assert not (Path(pip_env["XDG_CONFIG_HOME"]) / "pip").exists()
    nowhere = {**pip_env, "PIP_CONFIG_FILE": os.devnull}
    refused = roost("config", "set", "global.timeout", "5", env=nowhere)
    assert refused.returncode == 1
    assert "os.devnull" in refused.stderr
    assert not (Path(pip_env["XDG_CONFIG_HOME"]) / "pip").exists()


def test_config_names_go_where_they_are_read(tmp_path: Path, pip_env: dict[str, str]) -> None:
    roost_file = tmp_path / "roost.toml"
    env = {**pip_env, "ROOST_CONFIG_FILE": str(roost_file)}
    user_file = Path(pip_env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
    roost("config", "set", "install.link-mode", "copy", env=env, check=True)
    roost("config", "set", "global.build-sandbox", "off", env=env, check=True)
    roost("config", "set", "index-url", "http://bare.invalid/simple", env=env, check=True)
    assert roost_file.read_text() == (
        'build-sandbox = false\nindex-url = "http://bare.invalid/simple"\n\n'
        '[install]\nlink-mode = "copy"\n'
    )
    assert not user_file.exists()
    assert roost("config", "get", "install.link-mode", env=env, check=True).stdout == "copy\n"
    seen = roost("config", "list", "--command", "install", env=env, check=True).stdout
    assert f"link-mode='copy'  # roost config {roost_file}" in seen
    roost("config", "set", "install.user", "true", env=env, check=True)
    assert user_file.read_text() == "[install]\nuser = true\n\n"
    # pip's keys that an older roost wrote into its own tables are unset from there.
    roost_file.write_text('[install]\nno-deps = true\n\n[global]\nindex-url = "x"\n')
    roost("config", "unset", "install.no-deps", env=env, check=True)
    roost("config", "unset", "global.index-url", env=env, check=True)
    assert roost_file.read_text() == ""
    for args, message in (
        (["--user", "set", "link-mode", "copy"], "roost config set link-mode VALUE"),
        (["--user", "set", "index-url", "x"], "'global.index-url'"),
        (["set", "instal.user", "true"], "'instal' is not a section pip reads"),
        (["--global", "--user", "list"], "only one of --user, --global and --site"),
        (["set", "global.timeout", "1", "2"], "takes one value"),
    ):
        refused = roost("config", *args, env=env)
        assert refused.returncode in (1, 2), args
        assert message in refused.stderr, (args, refused.stderr)
    assert user_file.read_text() == "[install]\nuser = true\n\n"


def test_config_edit_runs_the_editor_on_the_right_file(
    tmp_path: Path, pip_env: dict[str, str], pip26: PipRunner
) -> None:
    # An "editor" that appends a prepared text to the file it is given.
    editor = tmp_path / "editor.py"
    editor.write_text("import sys\nopen(sys.argv[2], 'a').write(open(sys.argv[1]).read())\n")
    (tmp_path / "pip.txt").write_text("[global]\nretries = 4\n")
    (tmp_path / "roost.txt").write_text("timeout = 9\n")
    roost_file = tmp_path / "roost.toml"
    env = {**pip_env, "ROOST_CONFIG_FILE": str(roost_file)}
    pip_edit = f"{sys.executable} {editor} {tmp_path / 'pip.txt'}"
    roost("config", "--user", "edit", "--editor", pip_edit, env=env, check=True)
    assert pip26("config", "get", "global.retries", env=env).stdout == "4\n"
    roost_edit = f"{sys.executable} {editor} {tmp_path / 'roost.txt'}"
    roost("config", "--editor", roost_edit, "edit", env=env, check=True)
    assert roost("config", "get", "timeout", env=env, check=True).stdout == "9\n"
    assert "timeout = 9" in roost_file.read_text()
