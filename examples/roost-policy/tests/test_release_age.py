"""[release-age]: files younger than the minimum are not used, judged by the PEP 700
upload times the index serves; a file the index gives no time for is out too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import Install, days_ago, says_no_match

from roost.testing import IndexServer, VenvMaker, WheelMaker


def test_a_too_new_release_is_skipped_for_an_older_one(
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    install: Install,
    write_policy: Callable[..., Path],
) -> None:
    roost_index.add(make_wheel("app", "1.0", requires=["dep"]), upload_time=days_ago(40))
    roost_index.add(make_wheel("app", "2.0", requires=["dep"]), upload_time=days_ago(2))
    roost_index.add(make_wheel("dep", "1.0"), upload_time=days_ago(30))
    roost_index.add(make_wheel("dep", "1.1"), upload_time=days_ago(8))
    roost_index.add(make_wheel("dep", "1.2"), upload_time=days_ago(0.5))
    policy = write_policy('[release-age]\nminimum = "7d"\n')
    venv = roost_venv()

    result = install(venv, "app", policy=policy)

    assert result.returncode == 0, result.stderr
    # The newest of each that is a week old: 2.0 and 1.2 are too young.
    assert venv.installed() == {"app": "1.0", "dep": "1.1"}


def test_when_every_release_is_too_new_the_error_says_why(
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    install: Install,
    write_policy: Callable[..., Path],
) -> None:
    roost_index.add(make_wheel("fresh", "1.0"), upload_time=days_ago(3))
    roost_index.add(make_wheel("fresh", "2.0"), upload_time=days_ago(1))
    # ISO 8601, as uv's --exclude-newer takes a span.
    policy = write_policy('[release-age]\nminimum = "P7D"\n')
    venv = roost_venv()

    result = install(venv, "fresh", policy=policy)

    assert result.returncode == 1
    assert says_no_match(result.stderr, "fresh")
    for version, age in (("1.0", "3 days"), ("2.0", "1 day")):
        line = next(
            line
            for line in result.stderr.splitlines()
            if f"fresh-{version}-py3-none-any.whl excluded by policy:" in line
        )
        assert f"{age} ago, and the minimum release age is 7 days" in line
        assert f"[release-age] minimum = 'P7D' in {policy}" in line
        assert line.endswith("(policy)")  # the plugin's registered name
    assert venv.installed() == {}


def test_an_exempt_project_is_not_held_back(
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    install: Install,
    write_policy: Callable[..., Path],
) -> None:
    roost_index.add(make_wheel("Our_Tool", "1.0", requires=["helper"]), upload_time=days_ago(1))
    roost_index.add(make_wheel("helper", "1.0"), upload_time=days_ago(20))
    roost_index.add(make_wheel("helper", "2.0"), upload_time=days_ago(1))
    policy = write_policy(
        """
        [release-age]
        minimum = "2 weeks"
        exempt = ["our-tool"]
        """
    )
    venv = roost_venv()

    result = install(venv, "our-tool", policy=policy)

    assert result.returncode == 0, result.stderr
    # Exempting a project does not exempt its dependencies.
    assert venv.installed() == {"our-tool": "1.0", "helper": "1.0"}


def test_a_file_without_an_upload_time_is_excluded_with_its_own_reason(
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    install: Install,
    write_policy: Callable[..., Path],
) -> None:
    roost_index.add(make_wheel("undated", "1.0"))  # the page gives no upload-time
    roost_index.add(make_wheel("undated", "2.0"), upload_time=days_ago(1))
    policy = write_policy('[release-age]\nminimum = "36h"\n')
    venv = roost_venv()

    result = install(venv, "undated", policy=policy)

    assert result.returncode == 1
    undated = next(
        line
        for line in result.stderr.splitlines()
        if "undated-1.0-py3-none-any.whl excluded by policy:" in line
    )
    assert "its index gives no upload time (PEP 700), so its age cannot be checked" in undated
    assert "against the minimum release age of 36 hours" in undated
    assert "list undated in [release-age] exempt" in undated
    assert "undated-2.0-py3-none-any.whl excluded by policy: uploaded " in result.stderr
    assert venv.installed() == {}

    # Exempt, the undated file is as good as any.
    exempt = write_policy('[release-age]\nminimum = "36h"\nexempt = ["undated"]\n', "exempt.toml")
    assert install(venv, "undated", policy=exempt).returncode == 0
    assert venv.installed() == {"undated": "2.0"}
