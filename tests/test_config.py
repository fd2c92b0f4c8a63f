"""roost's settings layers: command line > ROOST_* > roost's config file > pip's layers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import platformdirs
import pytest

from roost.errors import ConfigError
from roost.hookspecs import hookimpl
from roost.manager import Manager
from roost.plugins.pip_config import pip_settings_layers
from roost.types import SettingsLayer
from roost.util.settings import LIST_KEYS, build_settings, roost_config_path


class PipFromTree:
    """A plugin giving pip's layers from a tmp tree instead of the machine's files."""

    def __init__(self, env: dict[str, str], home: Path, etc: Path) -> None:
        self.env, self.home, self.etc = env, home, etc

    @hookimpl
    def roost_settings_layers(self, command: str) -> Sequence[SettingsLayer]:
        return pip_settings_layers(command, env=self.env, home=self.home, etc_dir=self.etc)


@pytest.fixture
def world(tmp_path: Path) -> tuple[Manager, dict[str, str], Path]:
    """A manager without pip's real config, the env it reads, and roost's config path."""
    warnings: list[str] = []
    manager = Manager.build(warn=warnings.append, builtins=(), autoload=False)
    home, etc = tmp_path / "home", tmp_path / "etc"
    home.mkdir()
    etc.mkdir()
    config = tmp_path / "roost.toml"
    env = {"HOME": str(home), "ROOST_CONFIG_FILE": str(config)}
    manager.pm.register(PipFromTree(env, home, etc), name="pip-from-tree")
    return manager, env, config


def test_config_path(tmp_path: Path) -> None:
    assert roost_config_path({"ROOST_CONFIG_FILE": str(tmp_path / "c.toml")}) == (
        tmp_path / "c.toml"
    )
    assert roost_config_path({}) == platformdirs.user_config_path("roost") / "config.toml"


def test_full_precedence(world: tuple[Manager, dict[str, str], Path], tmp_path: Path) -> None:
    manager, env, config = world
    (tmp_path / "etc" / "pip.conf").write_text(
        "[global]\na = pipfile\nb = pipfile\nc = pipfile\nd = pipfile\ne = pipfile\n"
    )
    env.update(PIP_A="pipenv", PIP_B="pipenv", PIP_C="pipenv", PIP_D="pipenv")
    config.write_text('a = "roostfile"\nb = "roostfile"\nc = "roostfile"\n')
    env.update(ROOST_A="roostenv", ROOST_B="roostenv")
    settings = build_settings("install", {"a": "cli", "unset": None}, manager, env=env)
    assert [settings.get(k) for k in "abcde"] == [
        "cli",
        "roostenv",
        "roostfile",
        "pipenv",
        "pipfile",
    ]
    assert [settings.origin(k) for k in "abcde"] == [
        "command line",
        "environment (ROOST_*)",
        f"roost config {config}",
        "pip environment (PIP_*)",
        f"pip config {tmp_path / 'etc' / 'pip.conf'}",
    ]
    assert settings.get("unset") is None


def test_cli_values(world: tuple[Manager, dict[str, str], Path]) -> None:
    manager, env, _ = world
    settings = build_settings(
        "install",
        {
            "--index_url": "http://x",
            "no-index": True,
            "user": False,
            "find-links": ("a", "b"),
            "extra-index-url": (),
            "empty": "",
        },
        manager,
        env=env,
    )
    cli = settings.layers[0]
    assert cli.name == "command line"
    assert dict(cli.values) == {
        "index-url": "http://x",
        "no-index": "1",
        "find-links": ("a", "b"),
    }


def test_false_cli_flag_does_not_hide_lower_layers(
    world: tuple[Manager, dict[str, str], Path],
) -> None:
    manager, env, _ = world
    env["PIP_NO_INDEX"] = "yes"
    settings = build_settings("install", {"no-index": False}, manager, env=env)
    assert settings.get_bool("no-index") is True


def test_roost_environment_lists(world: tuple[Manager, dict[str, str], Path]) -> None:
    manager, env, _ = world
    env.update(
        ROOST_INDEX_URL="http://one two",
        ROOST_FIND_LINKS="/a\n /b",
        ROOST_EXTRA_INDEX_URL="",
        ROOST_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    settings = build_settings("install", {}, manager, env=env)
    layer = settings.layers[0]
    assert layer.name == "environment (ROOST_*)"
    assert dict(layer.values) == {"index-url": "http://one two", "find-links": ("/a", "/b")}
    assert "find-links" in LIST_KEYS and "index-url" not in LIST_KEYS


def test_roost_config_command_table(world: tuple[Manager, dict[str, str], Path]) -> None:
    manager, env, config = world
    config.write_text(
        'index-url = "http://top"\n'
        'find-links = ["/w1", "/w2"]\n'
        "no-index = true\n"
        "timeout = 30\n"
        "[install]\n"
        'index-url = "http://install"\n'
        "no-index = false\n"
        "[download]\n"
        'index-url = "http://download"\n'
    )
    install = build_settings("install", {}, manager, env=env)
    assert install.get("index-url") == "http://install"
    assert install.get_list("find-links") == ("/w1", "/w2")
    assert install.get_bool("no-index") is False
    assert install.get("timeout") == "30"
    assert build_settings("download", {}, manager, env=env).get("index-url") == "http://download"
    other = build_settings("list", {}, manager, env=env)
    assert other.get("index-url") == "http://top"
    assert other.get_bool("no-index") is True


def test_roost_config_syntax_error_names_file_and_line(
    world: tuple[Manager, dict[str, str], Path],
) -> None:
    manager, env, config = world
    config.write_text('index-url = "ok"\n\nbroken = = 1\n')
    with pytest.raises(ConfigError) as info:
        build_settings("install", {}, manager, env=env)
    assert str(config) in info.value.message
    assert "line 3" in info.value.message


def test_roost_config_bad_value_type(world: tuple[Manager, dict[str, str], Path]) -> None:
    manager, env, config = world
    config.write_text("index-url = [1, [2]]\n")
    with pytest.raises(ConfigError, match="index-url"):
        build_settings("install", {}, manager, env=env)


def test_missing_config_file_is_fine(world: tuple[Manager, dict[str, str], Path]) -> None:
    manager, env, _ = world
    assert build_settings("install", {}, manager, env=env).layers == ()


def test_builtin_pip_config_plugin_is_registered() -> None:
    warnings: list[str] = []
    manager = Manager.build(warn=warnings.append, builtins=("pip_config",), autoload=False)
    assert any(info.name == "pip_config" for info in manager.plugins())
    assert not [w for w in warnings if "pip_config" in w]
