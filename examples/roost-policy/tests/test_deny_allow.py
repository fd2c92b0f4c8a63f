"""[[deny]] and [[allow]]: versions the resolver must not use, and projects that may be
installed at all; also held on the plan, for files named by path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import Install, says_no_match

from roost.testing import IndexServer, RoostRunner, VenvMaker, WheelMaker


def test_a_denied_version_range_makes_roost_pick_another_version(
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    install: Install,
    write_policy: Callable[..., Path],
) -> None:
    roost_index.add(make_wheel("app", "1.0", requires=["lib>=1"]))
    for version in ("1.0", "1.4", "1.5rc1", "2.0"):
        roost_index.add(make_wheel("lib", version))
    policy = write_policy(
        """
        [[deny]]
        project = "LIB"
        versions = ">=1.4,<3"
        reason = "CVE-2024-0001: remote code execution"
        """
    )
    venv = roost_venv()

    result = install(venv, "app", "--pre", policy=policy)

    assert result.returncode == 0, result.stderr
    # 2.0 and 1.4 are denied, and so is the pre-release inside the range.
    assert venv.installed() == {"app": "1.0", "lib": "1.0"}


def test_denying_every_version_fails_clearly(
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    install: Install,
    write_policy: Callable[..., Path],
) -> None:
    roost_index.add(make_wheel("app", "1.0", requires=["leftpad"]))
    roost_index.add(make_wheel("leftpad", "1.0"))
    roost_index.add(make_wheel("leftpad", "1.1"))
    policy = write_policy(
        """
        [[deny]]
        project = "leftpad"
        reason = "unmaintained; use str.rjust"
        """
    )
    venv = roost_venv()

    result = install(venv, "app", policy=policy)

    assert result.returncode == 1
    assert says_no_match(result.stderr, "leftpad")
    for version in ("1.0", "1.1"):
        assert (
            f"leftpad {version} excluded by policy: denied by [[deny]] leftpad in {policy}: "
            "unmaintained; use str.rjust (policy)"
        ) in result.stderr
    assert venv.installed() == {}


def test_the_allow_list_refuses_an_unlisted_dependency(
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    install: Install,
    write_policy: Callable[..., Path],
) -> None:
    roost_index.add(make_wheel("app", "1.0", requires=["vetted", "stranger"]))
    roost_index.add(make_wheel("vetted", "1.0"))
    roost_index.add(make_wheel("vetted", "2.0"))
    roost_index.add(make_wheel("stranger", "1.0"))
    allow = """
        [[allow]]
        project = "app"

        [[allow]]
        project = "vetted"
        versions = "<2"
        reason = "2.x not reviewed yet"
        """
    policy = write_policy(allow)
    venv = roost_venv()

    result = install(venv, "app", policy=policy)

    assert result.returncode == 1
    assert says_no_match(result.stderr, "stranger")
    assert (
        f"stranger 1.0 excluded by policy: stranger is not on the allow-list ([[allow]] in "
        f"{policy}) (policy)"
    ) in result.stderr
    assert venv.installed() == {}

    # Listed, it installs; the listed range of vetted still holds.
    policy = write_policy(allow + '\n[[allow]]\nproject = "stranger"\n', "more.toml")
    result = install(venv, "app", policy=policy)
    assert result.returncode == 0, result.stderr
    assert venv.installed() == {"app": "1.0", "stranger": "1.0", "vetted": "1.0"}
    result = install(venv, "vetted==2.0", policy=policy)
    assert result.returncode == 1
    assert f"the allow-list admits vetted <2 only ([[allow]] in {policy})" in result.stderr


def test_a_denied_wheel_named_by_path_is_refused_by_the_plan_check(
    make_wheel: WheelMaker,
    roost_venv: VenvMaker,
    run_roost: RoostRunner,
    write_policy: Callable[..., Path],
) -> None:
    """No index lists a file given by path, so no candidate filter sees it: the plan
    check holds the deny list all the same."""
    wheel = make_wheel("leftpad", "1.1")
    policy = write_policy('[[deny]]\nproject = "leftpad"\nreason = "unmaintained"\n')
    venv = roost_venv()

    result = run_roost(
        "install", "--python", str(venv.python), "--policy", str(policy), str(wheel)
    )

    assert result.returncode == 1
    assert "was refused; nothing was changed" in result.stderr
    assert (
        f"policy: leftpad 1.1: denied by [[deny]] leftpad in {policy}: unmaintained"
        in result.stderr
    )
    assert venv.installed() == {}


def test_build_dependencies_are_held_to_the_commands_policy(
    *,
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    install: Install,
    write_policy: Callable[..., Path],
    tmp_path: Path,
) -> None:
    """roost installs a project's build-system.requires into a build environment of its
    own, with none of the command's options: the policy given with --policy still
    applies there."""
    roost_index.add(make_wheel("build-helper", "1.0"))
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["build-helper"]\nbuild-backend = "build_helper"\n'
        '[project]\nname = "local-app"\nversion = "1.0"\n'
    )
    policy = write_policy('[[deny]]\nproject = "build-helper"\nreason = "not in builds"\n')
    venv = roost_venv()

    result = install(venv, str(project), policy=policy)

    assert result.returncode == 1
    assert (
        f"build-helper 1.0 excluded by policy: denied by [[deny]] build-helper in {policy}: "
        "not in builds (policy)"
    ) in result.stderr
    assert venv.installed() == {}
