"""The system guard, row by row of DESIGN.md's table, against real interpreters."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from roost.errors import PluginError
from roost.manager import Manager
from roost.plugins.system_guard import (
    USER_SITE_DISABLED,
    VENV_USER_REFUSED,
    marker_message,
    message_languages,
)
from roost.target.interpreter import introspect
from roost.types import Options, Refusal, Target
from tests.support.envs import (
    clean_env,
    make_venv,
    need_debian,
    need_pyenv,
)

GUARD_ENV = ("ROOST_SYSTEM", "ROOST_BREAK_SYSTEM_PACKAGES", "PIP_BREAK_SYSTEM_PACKAGES")


@pytest.fixture(autouse=True)
def no_guard_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in GUARD_ENV:
        monkeypatch.delenv(name, raising=False)


def _describe(python: Path, env: dict[str, str]) -> Target:
    return introspect(str(python), cache_dir=None, env=env)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return clean_env(tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def base_python() -> Path:
    return need_pyenv("3.12")


@pytest.fixture(scope="module")
def system(base_python: Path, home: dict[str, str]) -> Target:
    """A pyenv CPython: not a venv, no EXTERNALLY-MANAGED."""
    return _describe(base_python, home)


@pytest.fixture(scope="module")
def debian(home: dict[str, str]) -> Target:
    """Debian's python3: not a venv, externally managed."""
    target = _describe(need_debian(), home)
    assert target.externally_managed is not None
    return target


@pytest.fixture(scope="module")
def venv(
    base_python: Path, home: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Target:
    return _describe(make_venv(tmp_path_factory.mktemp("venv") / "v", base_python), home)


@pytest.fixture(scope="module")
def venv_system_site(
    base_python: Path, home: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Target:
    path = tmp_path_factory.mktemp("venv-ssp") / "v"
    return _describe(make_venv(path, base_python, system_site_packages=True), home)


@pytest.fixture(scope="module")
def no_user_site(base_python: Path, home: dict[str, str]) -> Target:
    target = _describe(base_python, dict(home, PYTHONNOUSERSITE="1"))
    assert not target.user_site_enabled
    return target


@pytest.fixture(scope="module")
def manager() -> Manager:
    warnings: list[str] = []
    return Manager.build(autoload=False, warn=warnings.append)


Check = Callable[..., list[Refusal]]


@pytest.fixture
def check(manager: Manager) -> Check:
    def run(target: Target, **values: object) -> list[Refusal]:
        options = Options(command="install", values=values)
        refusals = manager.check_install(target, manager.select_scheme(target, options), options)
        for refusal in refusals:
            assert refusal.plugin == "system_guard"
            assert refusal.reason
            assert refusal.remedies, "every refusal says what to do"
        return refusals

    return run


def test_venv_installs(check: Check, venv: Target, venv_system_site: Target) -> None:
    assert check(venv) == []
    assert check(venv_system_site) == []
    assert check(venv, system=True) == []


def test_user_in_isolated_venv_refused(check: Check, venv: Target) -> None:
    (refusal,) = check(venv, user=True)
    assert refusal.reason == VENV_USER_REFUSED
    assert any("--system-site-packages" in remedy for remedy in refusal.remedies)
    assert any("drop --user" in remedy for remedy in refusal.remedies)


def test_user_in_venv_with_system_site_installs(check: Check, venv_system_site: Target) -> None:
    assert check(venv_system_site, user=True) == []


@pytest.mark.parametrize("which", ["system", "debian", "venv"])
@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"target_dir": "/tmp/x"}, "--target"),
        ({"prefix": "/tmp/x"}, "--prefix"),
        ({"target_dir": "/tmp/x", "prefix": "/tmp/y"}, "--target and --prefix"),
    ],
)
def test_user_with_explicit_location_refused(
    check: Check, request: pytest.FixtureRequest, which: str, values: dict[str, str], named: str
) -> None:
    target = request.getfixturevalue(which)
    (refusal,) = check(target, user=True, **values)
    assert f"--user cannot be combined with {named}" in refusal.reason


def test_system_python_without_flags_refused(check: Check, system: Target) -> None:
    (refusal,) = check(system)
    assert "not a virtual environment" in refusal.reason
    assert system.executable in refusal.reason
    remedies = " | ".join(refusal.remedies)
    assert "--user" in remedies
    assert "-m venv" in remedies
    assert "--system" in remedies


def test_externally_managed_without_flags_refused(check: Check, debian: Target) -> None:
    (refusal,) = check(debian)
    assert "not a virtual environment" in refusal.reason
    assert "externally managed" in refusal.reason
    assert any("--break-system-packages" in remedy for remedy in refusal.remedies)


def test_system_python_with_user_or_system_installs(check: Check, system: Target) -> None:
    assert check(system, user=True) == []
    assert check(system, system=True) == []


def test_roost_system_variable(
    check: Check, system: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOST_SYSTEM", "1")
    assert check(system) == []
    monkeypatch.setenv("ROOST_SYSTEM", "0")
    assert len(check(system)) == 1


@pytest.mark.parametrize("flag", ["user", "system"])
def test_externally_managed_refused_with_marker_message(
    check: Check, debian: Target, flag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    (refusal,) = check(debian, **{flag: True})
    assert "externally managed" in refusal.reason
    assert debian.externally_managed is not None
    assert debian.externally_managed in refusal.reason
    # Debian's own words, from the marker file.
    assert "To install Python packages system-wide, try apt install" in refusal.reason
    assert "python3 -m venv path/to/venv" in refusal.reason
    assert any("--break-system-packages" in remedy for remedy in refusal.remedies)


@pytest.mark.parametrize("flag", ["user", "system"])
def test_break_system_packages_installs(check: Check, debian: Target, flag: str) -> None:
    assert check(debian, break_system_packages=True, **{flag: True}) == []


def test_break_system_packages_alone_means_system(check: Check, debian: Target) -> None:
    assert check(debian, break_system_packages=True) == []


@pytest.mark.parametrize("variable", ["ROOST_BREAK_SYSTEM_PACKAGES", "PIP_BREAK_SYSTEM_PACKAGES"])
def test_break_system_packages_variables(
    check: Check, debian: Target, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(check(debian, user=True)) == 1
    monkeypatch.setenv(variable, "1")
    assert check(debian, user=True) == []
    monkeypatch.setenv(variable, "true")
    assert check(debian, system=True) == []


@pytest.mark.parametrize("which", ["system", "debian", "venv", "no_user_site"])
@pytest.mark.parametrize("option", ["target_dir", "prefix", "root"])
def test_explicit_location_installs(
    check: Check, request: pytest.FixtureRequest, which: str, option: str, tmp_path: Path
) -> None:
    target = request.getfixturevalue(which)
    assert check(target, **{option: str(tmp_path)}) == []


def test_root_with_user_installs(check: Check, debian: Target, tmp_path: Path) -> None:
    assert check(debian, user=True, root=str(tmp_path)) == []


def test_user_site_disabled_refused(check: Check, no_user_site: Target) -> None:
    (refusal,) = check(no_user_site, user=True)
    assert refusal.reason.startswith(USER_SITE_DISABLED)
    assert any("PYTHONNOUSERSITE" in remedy for remedy in refusal.remedies)


def test_guard_cannot_be_blocked() -> None:
    with pytest.raises(PluginError, match="system_guard"):
        Manager.build(plugin_args=["no:system_guard"], autoload=False, warn=lambda _: None)


def test_guard_is_registered(manager: Manager) -> None:
    info = {plugin.name: plugin for plugin in manager.plugins()}
    assert "roost_check_install" in info["system_guard"].hooks
    assert info["system_guard"].origin == "built-in"


# -- the marker's message -----------------------------------------------------


def test_message_languages() -> None:
    assert message_languages({"LANG": "de_DE.UTF-8"}) == [
        "Error-de_DE",
        "Error-de-DE",
        "Error-de",
        "Error",
    ]
    assert message_languages({"LC_ALL": "fr_FR", "LANG": "de_DE"})[0] == "Error-fr_FR"
    assert message_languages({"LC_MESSAGES": "pt_BR@x", "LANG": "de"})[0] == "Error-pt_BR"
    assert message_languages({"LANG": "C.UTF-8"}) == ["Error"]
    assert message_languages({}) == ["Error"]


def _marker(tmp_path: Path, text: str) -> str:
    path = tmp_path / "EXTERNALLY-MANAGED"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_marker_localised_message(tmp_path: Path) -> None:
    path = _marker(
        tmp_path,
        "[externally-managed]\nError=Use apt.\nError-de=Nimm apt.\nError-de_AT=Nimm halt apt.\n",
    )
    assert marker_message(path, prefix="/usr", environ={"LANG": "de_AT.UTF-8"}) == (
        "Nimm halt apt."
    )
    assert marker_message(path, prefix="/usr", environ={"LANG": "de_DE.UTF-8"}) == "Nimm apt."
    assert marker_message(path, prefix="/usr", environ={"LANG": "fr_FR"}) == "Use apt."


@pytest.mark.parametrize(
    "text",
    ["[externally-managed]\n", "[other]\nError=x\n", "not an ini file\x00", "[externally-managed"],
)
def test_marker_default_message(tmp_path: Path, text: str) -> None:
    message = marker_message(_marker(tmp_path, text), prefix="/opt/py", environ={})
    assert "The Python environment under /opt/py is managed externally" in message


def test_refusal_uses_the_marker_of_the_target(
    check: Check, system: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_ALL", "es_ES.UTF-8")
    path = _marker(tmp_path, "[externally-managed]\nError=No.\nError-es=Usa el gestor.\n")
    managed = dataclasses.replace(system, externally_managed=path)
    (refusal,) = check(managed, system=True)
    assert refusal.reason.endswith("Usa el gestor.")
    no_error_key = _marker(tmp_path, "[externally-managed]\n")
    managed = dataclasses.replace(system, externally_managed=no_error_key)
    (refusal,) = check(managed, user=True)
    assert f"under {system.prefix} is managed externally" in refusal.reason
    assert os.path.exists(no_error_key)
