"""roost's plugin system end to end: real plugin wheels, installed by roost, run by the CLI.

Each third-party plugin is a real distribution with an entry point in the group
``roost`` (their sources: tests/support/plugin_sources.py). roost installs it with
``--target DIR`` and later runs with ``PYTHONPATH=DIR``, so the interpreter running
roost sees the distribution exactly as it would after ``pip install roost-demo-plugin``
next to roost: listing, an index source and a post-install report, blocking, ``-p
MODULE``, plugins that must not brick roost, the essential guard, and third-party
implementations ahead of the defaults. The docs' plugins and examples:
tests/test_plugin_docs.py.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from roost.manager import BUILTIN_PLUGINS
from tests.support.envs import clean_env, installed, run_roost
from tests.support.plugin_sources import (
    BROKEN_PLUGIN,
    DEMO_PLUGIN,
    DUPLICATE_PLUGIN,
    SHOUT_PLUGIN,
    UNKNOWN_HOOK_PLUGIN,
    VENDOR_PLUGIN,
    build_plugin_wheel,
)
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel

# Every built-in the manager registers must show up as loaded, with origin built-in.
BUILTINS = BUILTIN_PLUGINS


@dataclass(frozen=True)
class PluginDirs:
    """Folders for PYTHONPATH, each holding one plugin distribution installed by roost."""

    demo: Path
    broken: Path
    unknown: Path
    duplicate: Path
    vendor: Path
    #: A bare module (no distribution, no entry point) for ``-p roost_shout``.
    shout: Path
    #: Holds ``demo_only-1.0-py3-none-any.whl``, served by the demo plugin.
    demo_wheels: Path


PLUGINS = {
    "demo": ("roost-demo-plugin", "roost_demo_plugin", DEMO_PLUGIN, "demo"),
    "broken": ("roost-broken-plugin", "roost_broken_plugin", BROKEN_PLUGIN, "broken"),
    "unknown": ("roost-unknown-plugin", "roost_unknown_plugin", UNKNOWN_HOOK_PLUGIN, "unknown"),
    "duplicate": ("roost-dup-plugin", "roost_dup_plugin", DUPLICATE_PLUGIN, "simple_index"),
    "vendor": ("roost-vendor-plugin", "roost_vendor_plugin", VENDOR_PLUGIN, "vendor"),
}


@pytest.fixture(scope="module")
def plugin_dirs(tmp_path_factory: pytest.TempPathFactory) -> PluginDirs:
    """Every plugin wheel built once and installed by roost into its own --target DIR."""
    base = tmp_path_factory.mktemp("plugins")
    home = base / "home"
    home.mkdir()
    env = clean_env(home)

    def install(key: str) -> Path:
        dist, module, source, ep_name = PLUGINS[key]
        wheel = build_plugin_wheel(dist, module, source, {ep_name: module}, base / "wheels")
        target = base / key
        run_roost(
            "install", "--python", sys.executable, "--target", str(target), str(wheel),
            env=env, check=True,
        )  # fmt: skip
        return target

    with ThreadPoolExecutor(max_workers=len(PLUGINS)) as pool:
        dirs = dict(zip(PLUGINS, pool.map(install, PLUGINS), strict=True))
    shout = base / "shout"
    shout.mkdir()
    (shout / "roost_shout.py").write_text(SHOUT_PLUGIN)
    demo_wheels = base / "demo-wheels"
    build_wheel(WheelSpec("demo-only", "1.0"), demo_wheels)
    return PluginDirs(shout=shout, demo_wheels=demo_wheels, **dirs)


def plugin_env(home: Mapping[str, str], *dirs: Path, **extra: str) -> dict[str, str]:
    """*home*'s clean environment with *dirs* on PYTHONPATH and *extra* variables set."""
    env = dict(home)
    env["PYTHONPATH"] = os.pathsep.join(str(d) for d in dirs)
    env.update(extra)
    return env


def listed_plugins(stdout: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """``roost plugins`` output as ``{name: (origin, hooks)}``."""
    found: dict[str, tuple[str, list[str]]] = {}
    current = ""
    for line in stdout.splitlines():
        if not line.strip():
            continue
        if line.startswith(" "):
            found[current][1].append(line.strip())
        else:
            current, origin = line.split(None, 1)
            found[current] = (origin.strip(), [])
    return {name: (origin, tuple(hooks)) for name, (origin, hooks) in found.items()}


@pytest.fixture
def demo(
    plugin_dirs: PluginDirs, tmp_home: dict[str, str], tmp_path: Path
) -> tuple[dict[str, str], Path]:
    """An environment with the demo plugin importable, and the path of its report."""
    report = tmp_path / "report.json"
    env = plugin_env(
        tmp_home,
        plugin_dirs.demo,
        ROOST_DEMO_WHEELS=str(plugin_dirs.demo_wheels),
        ROOST_DEMO_REPORT=str(report),
    )
    return env, report


def install_args(venv: Path, server: IndexServer, *requirements: str) -> list[str]:
    return ["install", "--python", str(venv), "-i", server.url, *requirements]


# -- 1. listing ------------------------------------------------------------------


def test_plugins_lists_third_party_and_builtins(demo: tuple[dict[str, str], Path]) -> None:
    env, _ = demo
    result = run_roost("plugins", env=env, check=True)
    plugins = listed_plugins(result.stdout)
    assert plugins["demo"] == (
        "roost-demo-plugin 1.0",
        ("roost_index_lookup", "roost_index_sources", "roost_post_install"),
    )
    for name in BUILTINS:
        assert plugins[name][0] == "built-in", name
        assert plugins[name][1], f"{name} lists no hooks"
    assert set(plugins) == {*BUILTINS, "demo"}
    assert result.stderr == ""


# -- 2-4. an index source and a post-install report; blocking -------------------------


def test_plugin_source_and_post_install(
    demo: tuple[dict[str, str], Path], venv: Path, index_server: IndexServer
) -> None:
    env, report = demo
    args = install_args(venv, index_server, "demo-only", "delta")
    result = run_roost("-v", *args, env=env, check=True)
    assert "source: demo demo://local (from roost-demo-plugin)" in result.stderr
    got = installed(venv)
    assert got["demo-only"] == "1.0"
    assert got["delta"] == "1.0"
    data = json.loads(report.read_text())
    assert sorted((d["name"], d["version"]) for d in data["installed"]) == [
        ("delta", "1.0"),
        ("demo-only", "1.0"),
    ]
    assert data["python"] == str(venv)


def test_blocked_plugin_does_not_run(
    demo: tuple[dict[str, str], Path], venv: Path, index_server: IndexServer
) -> None:
    env, report = demo
    result = run_roost("-p", "no:demo", *install_args(venv, index_server, "demo-only"), env=env)
    assert result.returncode != 0
    assert "demo-only" in result.stderr
    assert "Traceback" not in result.stderr
    # delta alone installs, and the blocked plugin's post-install hook stays silent.
    run_roost("-p", "no:demo", *install_args(venv, index_server, "delta"), env=env, check=True)
    assert installed(venv).get("demo-only") is None
    assert not report.exists()
    listing = run_roost("-p", "no:demo", "plugins", env=env, check=True)
    assert "demo" not in listed_plugins(listing.stdout)


# -- 5. -p MODULE ------------------------------------------------------------------


def test_p_option_loads_a_module_that_adds_an_option(
    plugin_dirs: PluginDirs, tmp_home: dict[str, str], venv: Path, index_server: IndexServer
) -> None:
    env = plugin_env(tmp_home, plugin_dirs.shout)
    without = run_roost("install", "--help", env=env, check=True)
    assert "--shout" not in without.stdout
    loaded = run_roost("-p", "roost_shout", "install", "--help", env=env, check=True)
    assert "--shout" in loaded.stdout
    assert "Announce what was installed." in loaded.stdout

    plain = run_roost(*install_args(venv, index_server, "zeta"), "--shout", env=env)
    assert plain.returncode != 0  # the option does not exist without the plugin
    result = run_roost(
        "-p", "roost_shout", *install_args(venv, index_server, "delta"), "--shout",
        env=env, check=True,
    )  # fmt: skip
    assert "SHOUT: DELTA" in result.stdout
    listing = listed_plugins(run_roost("-p", "roost_shout", "plugins", env=env).stdout)
    assert listing["roost_shout"] == ("-p option", ("roost_add_options", "roost_post_install"))


# -- 6-7, 10. plugins that must not brick roost ------------------------------------


def test_broken_plugin_warns_and_install_succeeds(
    plugin_dirs: PluginDirs,
    demo: tuple[dict[str, str], Path],
    venv: Path,
    index_server: IndexServer,
) -> None:
    env, report = demo
    env["PYTHONPATH"] += os.pathsep + str(plugin_dirs.broken)
    result = run_roost(*install_args(venv, index_server, "demo-only"), env=env, check=True)
    assert re.search(r"WARNING: plugin 'broken' .*roost-broken-plugin 1\.0", result.stderr)
    assert "needs a module that is not here" in result.stderr
    assert "Traceback" not in result.stderr
    assert installed(venv)["demo-only"] == "1.0"
    assert report.exists()  # the healthy plugin next to it still ran


def test_unknown_hook_plugin_is_dropped(
    plugin_dirs: PluginDirs, tmp_home: dict[str, str], tmp_path: Path, venv: Path,
    index_server: IndexServer,
) -> None:  # fmt: skip
    mark = tmp_path / "unknown-ran"
    env = plugin_env(tmp_home, plugin_dirs.unknown, ROOST_UNKNOWN_REPORT=str(mark))
    result = run_roost(*install_args(venv, index_server, "delta"), env=env, check=True)
    assert "'unknown'" in result.stderr
    assert "roost_no_such_hook" in result.stderr
    assert installed(venv)["delta"] == "1.0"
    assert not mark.exists()  # its valid roost_post_install was dropped with it
    assert "unknown" not in listed_plugins(run_roost("plugins", env=env).stdout)


def test_duplicate_name_is_refused_and_builtin_kept(
    plugin_dirs: PluginDirs, tmp_home: dict[str, str], venv: Path, index_server: IndexServer
) -> None:
    env = plugin_env(tmp_home, plugin_dirs.duplicate)
    result = run_roost(*install_args(venv, index_server, "delta"), env=env, check=True)
    assert "plugin 'simple_index' from roost-dup-plugin 1.0 was not loaded" in result.stderr
    assert installed(venv)["delta"] == "1.0"
    listing = listed_plugins(run_roost("plugins", env=env).stdout)
    assert listing["simple_index"][0] == "built-in"


# -- 8. the essential guard --------------------------------------------------------


def test_system_guard_cannot_be_blocked(
    tmp_home: dict[str, str], venv: Path, index_server: IndexServer
) -> None:
    result = run_roost(
        "-p", "no:system_guard", *install_args(venv, index_server, "delta"), env=tmp_home
    )
    assert result.returncode != 0
    assert "'system_guard' cannot be blocked" in result.stderr
    assert "--break-system-packages" in result.stderr
    assert "Traceback" not in result.stderr
    assert "delta" not in installed(venv)


# -- 9. third-party implementations run before the trylast defaults ---------------


def test_third_party_scheme_and_tls_override_defaults(
    plugin_dirs: PluginDirs, tmp_home: dict[str, str], tmp_path: Path, venv: Path,
    index_server: IndexServer,
) -> None:  # fmt: skip
    vendor = tmp_path / "vendored"
    tls_mark = tmp_path / "tls"
    events = tmp_path / "events.log"
    env = plugin_env(
        tmp_home,
        plugin_dirs.vendor,
        ROOST_VENDOR_DIR=str(vendor),
        ROOST_VENDOR_TLS_MARK=str(tls_mark),
        ROOST_VENDOR_EVENTS=str(events),
    )
    run_roost(*install_args(venv, index_server, "delta"), "--vendor", env=env, check=True)
    assert (vendor / "delta" / "__init__.py").is_file()
    assert "delta" not in installed(venv)  # default_scheme (trylast) was not asked
    # roost_ssl_context is firstresult and truststore_tls always answers: the vendor
    # plugin was only called because third-party implementations go first.
    assert tls_mark.read_text() == "vendor"
    assert events.read_text().splitlines() == [
        "download delta 1.0 1/1",
        "install delta 1.0 1/1",
        "installed delta 1.0 1/1",
    ]
    # Without its option the plugin answers None and the default scheme applies.
    run_roost(*install_args(venv, index_server, "zeta"), env=env, check=True)
    assert installed(venv)["zeta"] == "1.0"
    assert not (vendor / "zeta").exists()
