"""Where the policy comes from, what a broken one says, and how to do without it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Install, days_ago

from roost.testing import IndexServer, RoostRunner, VenvMaker, WheelMaker

AGE = '[release-age]\nminimum = "7d"\n'


@pytest.fixture
def aged(make_wheel: WheelMaker, roost_index: IndexServer) -> None:
    """``aged`` 1.0 a month old and 2.0 a day old: a week's minimum age picks 1.0."""
    roost_index.add(make_wheel("aged", "1.0"), upload_time=days_ago(30))
    roost_index.add(make_wheel("aged", "2.0"), upload_time=days_ago(1))


@pytest.mark.usefixtures("aged")
def test_without_a_policy_the_plugin_does_nothing(
    roost_venv: VenvMaker, install: Install, run_roost: RoostRunner
) -> None:
    venv = roost_venv()
    assert not (run_roost.home / "roost-policy.toml").exists()
    result = install(venv, "aged")
    assert result.returncode == 0, result.stderr
    assert venv.installed() == {"aged": "2.0"}
    assert "policy" not in result.stderr


@pytest.mark.usefixtures("aged")
def test_the_policy_is_found_by_option_setting_or_current_directory(
    roost_venv: VenvMaker,
    install: Install,
    run_roost: RoostRunner,
    write_policy: Callable[..., Path],
    tmp_path: Path,
) -> None:
    strict = write_policy(AGE)
    # The current directory's roost-policy.toml, when nothing names a file.
    project = tmp_path / "project"
    project.mkdir()
    (project / "roost-policy.toml").write_text(AGE)
    venv = roost_venv()
    assert install(venv, "aged", cwd=project).returncode == 0
    assert venv.installed() == {"aged": "1.0"}

    # ROOST_POLICY_FILE (the policy-file setting), and roost's config file.
    venv = roost_venv()
    assert install(venv, "aged", env={"ROOST_POLICY_FILE": str(strict)}).returncode == 0
    assert venv.installed() == {"aged": "1.0"}
    config = run_roost.home / "roost.toml"
    config.write_text(f"[install]\npolicy-file = {str(strict)!r}\n")
    venv = roost_venv()
    assert install(venv, "aged", env={"ROOST_CONFIG_FILE": str(config)}).returncode == 0
    assert venv.installed() == {"aged": "1.0"}

    # --policy wins over the directory's file: here, a policy without an age rule.
    lax = write_policy('[[deny]]\nproject = "other"\nreason = "not this one"\n', "lax.toml")
    venv = roost_venv()
    assert install(venv, "aged", policy=lax, cwd=project).returncode == 0
    assert venv.installed() == {"aged": "2.0"}

    missing = install(venv, "aged", policy=tmp_path / "nowhere.toml")
    assert missing.returncode == 1
    assert f"roost-policy: policy file {tmp_path / 'nowhere.toml'}: no such file" in missing.stderr


@pytest.mark.usefixtures("aged")
def test_download_follows_the_policy_too(
    run_roost: RoostRunner, roost_index: IndexServer, write_policy: Callable[..., Path],
    tmp_path: Path,
) -> None:  # fmt: skip
    dest = tmp_path / "downloads"
    args = ["-i", roost_index.url, "-d", str(dest), "--policy", str(write_policy(AGE))]
    result = run_roost("download", *args, "aged")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["aged-1.0-py3-none-any.whl"]


@pytest.mark.usefixtures("aged")
def test_blocking_the_plugin_switches_the_policy_off(
    roost_venv: VenvMaker, install: Install, write_policy: Callable[..., Path]
) -> None:
    venv = roost_venv()
    result = install(venv, "aged", policy=write_policy(AGE), plugin_args=("-p", "no:policy"))
    # Blocked, the plugin adds no --policy option either: roost says so.
    assert result.returncode != 0
    assert "No such option '--policy'" in result.stderr
    result = install(
        venv, "aged", env={"ROOST_POLICY_FILE": str(write_policy(AGE))},
        plugin_args=("-p", "no:policy"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert venv.installed() == {"aged": "2.0"}


#: A broken policy, and what the error says after the file's name.
MALFORMED = [
    ("[release-age\nminimum = '7d'\n", ": not valid TOML: "),
    ("[release_age]\nminimum = '7d'\n", ": release_age: is not a key roost-policy knows"),
    ("[release-age]\nminimum = 7\n", ': release-age.minimum: must be a string such as "7d"'),
    ("[release-age]\nminimum = '7 dayz'\n", ": release-age.minimum: '7 dayz': 'dayz' is not"),
    ("[release-age]\nminimum = 'P1M'\n", ": release-age.minimum: 'P1M' counts years or"),
    ("[release-age]\nexempt = ['x']\n", ": release-age.minimum: is missing"),
    (
        "[[deny]]\nproject = 'x'\nversions = '<<2'\nreason = 'r'\n",
        ": deny[1].versions: '<<2' is not a version specifier",
    ),
    ("[[deny]]\nproject = 'x'\n", ": deny[1].reason: is missing"),
    (
        "[[deny]]\nproject = 'x'\nreason = 'r'\n[[deny]]\nproject = 'not a name'\nreason = 'r'\n",
        ": deny[2].project: 'not a name' is not a project name",
    ),
    ("[[allow]]\nname = 'x'\n", ": allow[1].name: is not a key roost-policy knows in [allow[1]]"),
    ("deny = 'x'\n", ": deny: must be an array of tables"),
    (
        "[licenses]\nallowed = ['MIT OR Apache-2.0']\n",
        ": licenses.allowed[1]: 'MIT OR Apache-2.0' is not one SPDX licence",
    ),
    (
        "[licenses]\nallowed = ['Nonsense-1.0']\n",
        ": licenses.allowed[1]: 'Nonsense-1.0' is not one SPDX licence",
    ),
    (
        "[licenses]\nallowed = ['MIT']\nunknown = 'ignore'\n",
        ': licenses.unknown: must be "refuse" or "warn"',
    ),
]


@pytest.mark.parametrize(("text", "expected"), MALFORMED)
def test_a_malformed_policy_is_an_error_naming_the_file_and_the_key(
    *,
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    install: Install,
    write_policy: Callable[..., Path],
    text: str,
    expected: str,
) -> None:
    roost_index.add(make_wheel("anything", "1.0", license_expression="MIT"))
    policy = write_policy(text)
    venv = roost_venv()

    result = install(venv, "anything", policy=policy)

    assert result.returncode == 1
    assert f"ERROR: roost-policy: policy file {policy}{expected}" in result.stderr
    assert "Traceback" not in result.stderr
    assert venv.installed() == {}


def test_roost_plugins_lists_it_unless_blocked(run_roost: RoostRunner) -> None:
    listed = run_roost("plugins", check=True)
    assert any(line.split()[:1] == ["policy"] for line in listed.stdout.splitlines())
    blocked = run_roost("-p", "no:policy", "plugins", check=True)
    assert not any(line.split()[:1] == ["policy"] for line in blocked.stdout.splitlines())
