"""`roost config`, `roost cache` and `roost completion` through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.envs import installed, run_roost
from tests.support.server import IndexServer


def test_config_set_get_unset_and_origins(tmp_home: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "roost.toml"
    pip_conf = tmp_path / "pip.conf"
    pip_conf.write_text("[global]\ntimeout = 7\nindex-url = http://pip.invalid/simple\n")
    env = {**tmp_home, "ROOST_CONFIG_FILE": str(config), "PIP_CONFIG_FILE": str(pip_conf)}
    assert (
        "Writing to"
        in run_roost(
            "config", "set", "index-url", "http://a.invalid/simple", env=env, check=True
        ).stdout
    )
    # A roost-only key in a command's table goes to roost's file (pip's keys go to pip's).
    run_roost("config", "set", "install.link-mode", "copy", env=env, check=True)
    run_roost(
        "config",
        "set",
        "extra-index-url",
        "http://b.invalid/s http://c.invalid/s",
        env=env,
        check=True,
    )
    got = run_roost("config", "get", "index-url", env=env, check=True)
    assert got.stdout.strip() == "http://a.invalid/simple"
    assert str(config) in got.stderr
    listing = run_roost("config", "list", env=env, check=True).stdout
    assert f"index-url='http://a.invalid/simple'  # roost config {config}" in listing
    assert f"link-mode='copy'  # roost config {config}" in listing
    assert f"timeout='7'  # pip config {pip_conf}" in listing
    assert "pip.invalid" not in listing  # overridden by roost's file
    assert "pip.invalid" in run_roost("config", "list", "--all", env=env, check=True).stdout
    assert "[install]" in config.read_text()
    run_roost("config", "unset", "install.link-mode", env=env, check=True)
    assert "link-mode" not in config.read_text()
    assert "[install]" not in config.read_text()
    missing = run_roost("config", "get", "proxy", env=env)
    assert missing.returncode == 1
    assert "proxy is not set" in missing.stderr
    # Environment beats the file.
    env_wins = run_roost(
        "config",
        "get",
        "index-url",
        env={**env, "ROOST_INDEX_URL": "http://e.invalid/simple"},
        check=True,
    )
    assert env_wins.stdout.strip() == "http://e.invalid/simple"


def test_config_file_drives_install(
    tmp_home: dict[str, str], tmp_path: Path, venv: Path, index_server: IndexServer
) -> None:
    config = tmp_path / "roost.toml"
    env = {**tmp_home, "ROOST_CONFIG_FILE": str(config)}
    run_roost("config", "set", "index-url", index_server.url, env=env, check=True)
    run_roost("config", "set", "no-deps", "true", env=env, check=True)
    run_roost("install", "--python", str(venv), "beta", env=env, check=True)
    assert installed(venv) == {"beta": "1.0"}


def test_bad_config_file_is_a_clear_error(tmp_home: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "roost.toml"
    config.write_text("index-url = [unclosed\n")
    result = run_roost("install", "six", env={**tmp_home, "ROOST_CONFIG_FILE": str(config)})
    assert result.returncode == 1
    assert str(config) in result.stderr
    assert "line 1" in result.stderr
    assert "Traceback" not in result.stderr


def test_cache_commands(
    tmp_home: dict[str, str], tmp_path: Path, venv: Path, index_server: IndexServer
) -> None:
    cache = tmp_path / "cache"
    env = {**tmp_home, "ROOST_CACHE_DIR": str(cache)}
    assert run_roost("cache", "dir", env=env, check=True).stdout.strip() == str(cache)
    run_roost(
        "install", "--python", str(venv), "-i", index_server.url, "beta", env=env, check=True
    )
    listing = run_roost("cache", "list", env=env, check=True).stdout
    assert "alpha-1.1-py3-none-any.whl" in listing
    assert "beta-1.0-py3-none-any.whl" in listing
    info = run_roost("cache", "info", env=env, check=True).stdout
    assert "Number of wheels: 2" in info
    unpacked = sorted(p.name for p in (cache / "unpacked").iterdir())
    assert len(unpacked) == 2
    removed = run_roost("cache", "remove", "ALPHA", env=env, check=True)
    assert "Files removed: 1" in removed.stdout
    assert "Unpacked copies removed: 1" in removed.stdout
    assert "alpha" not in run_roost("cache", "list", env=env, check=True).stdout
    # beta's unpacked copy is left; alpha's is gone, so the next install fetches it.
    left = sorted(p.name for p in (cache / "unpacked").iterdir())
    assert len(left) == 1 and left[0] in unpacked
    manifest = json.loads((cache / "unpacked" / left[0] / "manifest.json").read_text())
    assert manifest["wheel"].startswith("beta-")
    # As pip: nothing to remove is a warning, not a failure.
    none = run_roost("cache", "remove", "nothing-like-this", env=env, check=True)
    assert "Files removed: 0 (0 bytes)" in none.stdout
    assert "WARNING: no cached wheel matches the pattern 'nothing-like-this'" in none.stderr
    assert "Files removed" in run_roost("cache", "purge", env=env, check=True).stdout
    assert "beta" not in run_roost("cache", "list", env=env, check=True).stdout


def test_completion_scripts_and_answers(tmp_home: dict[str, str]) -> None:
    for shell, marker in (("bash", "complete -o"), ("zsh", "compdef"), ("fish", "complete")):
        script = run_roost("completion", shell, env=tmp_home, check=True).stdout
        assert marker in script
        assert "_ROOST_COMPLETE" in script
    answer = subprocess.run(
        [sys.executable, "-c", "import sys; from roost.cli.main import main; sys.exit(main())"],
        env={
            **tmp_home,
            "_ROOST_COMPLETE": "bash_complete",
            "COMP_WORDS": "roost install --us",
            "COMP_CWORD": "2",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--user" in answer.stdout
