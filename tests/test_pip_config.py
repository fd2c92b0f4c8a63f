"""pip's configuration as pip reads it: files, sections, variables and precedence.

Every test builds its own tree of config files under tmp_path and passes an explicit
environment, so the machine's real pip configuration never leaks in.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from roost.errors import ConfigError
from roost.plugins.pip_config import config_files, env_values, pip_settings_layers
from roost.types import Settings


class Tree:
    """A fake filesystem root with etc/, a home and the environment pip would see."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.etc = root / "etc"
        self.home = root / "home"
        self.etc.mkdir()
        self.home.mkdir()
        self.env: dict[str, str] = {"HOME": str(self.home)}

    def write(self, path: Path, text: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def layers(self, command: str = "install") -> Settings:
        return Settings(
            tuple(pip_settings_layers(command, env=self.env, home=self.home, etc_dir=self.etc))
        )


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path)


def test_lookup_order_defaults(tree: Tree) -> None:
    files = config_files(tree.env, tree.home, tree.etc)
    assert files == [
        tree.etc / "xdg" / "pip" / "pip.conf",
        tree.etc / "pip.conf",
        tree.home / ".pip" / "pip.conf",
        tree.home / ".config" / "pip" / "pip.conf",
    ]


def test_lookup_order_with_xdg_venv_and_pip_config_file(tree: Tree) -> None:
    a, b = tree.root / "a", tree.root / "b"
    explicit = tree.root / "missing.conf"
    tree.env.update(
        XDG_CONFIG_DIRS=f"{a}{os.pathsep}{b}",
        XDG_CONFIG_HOME=str(tree.root / "xdghome"),
        VIRTUAL_ENV=str(tree.root / "venv"),
        PIP_CONFIG_FILE=str(explicit),
    )
    assert config_files(tree.env, tree.home, tree.etc) == [
        a / "pip" / "pip.conf",
        b / "pip" / "pip.conf",
        tree.etc / "pip.conf",
        # PIP_CONFIG_FILE does not exist, so the user files are still read
        tree.home / ".pip" / "pip.conf",
        tree.root / "xdghome" / "pip" / "pip.conf",
        tree.root / "venv" / "pip.conf",
        explicit,
    ]


def test_existing_pip_config_file_suppresses_user_files(tree: Tree) -> None:
    explicit = tree.write(tree.root / "explicit.conf", "[global]\ntimeout = 5\n")
    tree.write(tree.home / ".config" / "pip" / "pip.conf", "[global]\nindex-url = http://user\n")
    tree.write(tree.etc / "pip.conf", "[global]\nindex-url = http://etc\n")
    tree.env["PIP_CONFIG_FILE"] = str(explicit)
    settings = tree.layers()
    assert settings.get("index-url") == "http://etc"
    assert settings.get("timeout") == "5"
    assert settings.origin("timeout") == f"pip config {explicit}"


def test_devnull_disables_every_file_but_not_variables(tree: Tree) -> None:
    tree.write(tree.etc / "pip.conf", "[global]\nindex-url = http://etc\n")
    tree.write(tree.home / ".pip" / "pip.conf", "[global]\nfind-links = /x\n")
    tree.env.update(PIP_CONFIG_FILE=os.devnull, PIP_TIMEOUT="9")
    settings = tree.layers()
    assert settings.get("index-url") is None
    assert settings.get("find-links") is None
    assert settings.get("timeout") == "9"
    assert config_files(tree.env, tree.home, tree.etc) == []


def test_precedence_global_user_site_env_file_env_vars(tree: Tree) -> None:
    keys = ["a", "b", "c", "d", "e"]
    sources = [
        tree.etc / "xdg" / "pip" / "pip.conf",
        tree.etc / "pip.conf",
        tree.home / ".pip" / "pip.conf",
        tree.home / ".config" / "pip" / "pip.conf",
        tree.root / "venv" / "pip.conf",
    ]
    # file i sets keys[i:], so each key's winner is the last file that sets it
    for i, path in enumerate(sources):
        body = "".join(f"{key} = {path}\n" for key in keys[i:])
        tree.write(path, "[global]\n" + body)
    tree.env["VIRTUAL_ENV"] = str(tree.root / "venv")
    settings = tree.layers()
    assert [settings.get(key) for key in keys] == [str(path) for path in sources]
    assert settings.origin("e") == f"pip config {sources[-1]}"


def test_pip_config_file_beats_site_and_variables_beat_files(tree: Tree) -> None:
    tree.write(tree.root / "venv" / "pip.conf", "[global]\nindex-url = http://site\nx = site\n")
    explicit = tree.write(tree.root / "explicit.conf", "[global]\nindex-url = http://explicit\n")
    tree.env.update(VIRTUAL_ENV=str(tree.root / "venv"), PIP_CONFIG_FILE=str(explicit))
    assert tree.layers().get("index-url") == "http://explicit"
    assert tree.layers().get("x") == "site"
    tree.env["PIP_INDEX_URL"] = "http://variable"
    settings = tree.layers()
    assert settings.get("index-url") == "http://variable"
    assert settings.origin("index-url") == "pip environment (PIP_*)"


def test_legacy_user_file_is_overridden_by_xdg_user_file(tree: Tree) -> None:
    tree.write(tree.home / ".pip" / "pip.conf", "[global]\nindex-url = http://legacy\nk = 1\n")
    tree.env["XDG_CONFIG_HOME"] = str(tree.root / "cfg")
    tree.write(tree.root / "cfg" / "pip" / "pip.conf", "[global]\nindex-url = http://xdg\n")
    settings = tree.layers()
    assert settings.get("index-url") == "http://xdg"
    assert settings.get("k") == "1"


def test_command_section_overrides_global_in_any_file(tree: Tree) -> None:
    # As in pip: a [install] key in the global file beats [global] in the user's file.
    tree.write(tree.etc / "pip.conf", "[install]\nindex-url = http://etc-install\n")
    tree.write(
        tree.home / ".config" / "pip" / "pip.conf",
        "[global]\nindex-url = http://user-global\n[download]\nindex-url = http://dl\n",
    )
    assert tree.layers("install").get("index-url") == "http://etc-install"
    assert tree.layers("install").origin("index-url") == (
        f"pip config {tree.etc / 'pip.conf'} [install]"
    )
    assert tree.layers("download").get("index-url") == "http://dl"
    assert tree.layers("list").get("index-url") == "http://user-global"


def test_key_normalisation_and_multiline_lists(tree: Tree) -> None:
    tree.write(
        tree.etc / "pip.conf",
        "[global]\n--Extra_Index_URL =\n    http://one\n    http://two\nno-index = yes\nempty =\n",
    )
    settings = tree.layers()
    assert settings.get_list("extra-index-url") == ("http://one", "http://two")
    assert settings.get_bool("no-index") is True
    # pip ignores empty values
    assert settings.get("empty") is None


def test_environment_variables(tree: Tree) -> None:
    env = {
        "PIP_INDEX_URL": "http://i",
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": "/a /b",
        "PIP_CONFIG_FILE": "/nowhere",
        "PIP_VERSION": "x",
        "PIP_EMPTY": "",
        "PIPX_HOME": "/p",
    }
    assert env_values(env) == {"index-url": "http://i", "no-index": "1", "find-links": "/a /b"}


def test_boolean_strings_are_left_to_settings(tree: Tree) -> None:
    tree.write(tree.etc / "pip.conf", "[global]\nno-index = off\n")
    assert tree.layers().get("no-index") == "off"
    assert tree.layers().get_bool("no-index") is False
    tree.env["PIP_NO_INDEX"] = "true"
    assert tree.layers().get_bool("no-index") is True


def test_syntax_error_names_the_file(tree: Tree) -> None:
    bad = tree.write(tree.etc / "pip.conf", "this is not ini\n")
    with pytest.raises(ConfigError, match=str(bad)):
        tree.layers()


def test_missing_and_directory_files_are_skipped(tree: Tree) -> None:
    (tree.etc / "pip.conf").mkdir()
    assert tree.layers().layers == ()
