"""The hooks third-party plugins asked for (roost issue 20): commands, a candidate
filter, a download check and a plan check, each a real plugin module loaded with
``-p``, run by the real CLI against the loopback index and real venvs.

Each plugin writes what it saw to a JSON-lines file named by an environment variable,
so a test checks what the hook was given, not only what roost did with the answer.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.envs import installed, make_venv, manifest, plugin_env, run_roost
from tests.support.index import PackageIndex
from tests.support.projects import in_tree_project, make_sdist
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec
from tests.test_http_cache import ConditionalServer

# -- the plugins ----------------------------------------------------------------------

COMMANDS_PLUGIN = '''
import click

from roost import hookimpl


@click.command("hello")
@click.argument("who", default="world")
def hello(who):
    """Greet WHO (a plugin's command)."""
    click.echo(f"hello {who} from {__name__}")


@click.command("list")
def shadow():
    """Would shadow roost list."""
    click.echo("the plugin's list")


@hookimpl
def roost_add_commands():
    return [hello, shadow]
'''

# A second plugin that wants the name "hello" too.
RIVAL_PLUGIN = COMMANDS_PLUGIN.replace("return [hello, shadow]", "return [hello]")

BROKEN_PLUGIN = """
from roost import hookimpl


@hookimpl
def roost_add_commands():
    raise RuntimeError("no commands today")
"""

FILTER_PLUGIN = """
import json
import os

from roost import hookimpl
from roost.policy_types import Exclusion


@hookimpl
def roost_filter_candidates(project, candidates, options):
    with open(os.environ["HOOK_FILTER_LOG"], "a") as log:
        seen = [[c.version, c.filename, c.is_wheel, c.yanked] for c in candidates]
        log.write(json.dumps({"project": project, "candidates": seen}) + "\\n")
    if os.environ.get("HOOK_VAGUE"):
        return [Exclusion(reason="names neither a version nor a file")]
    if project != os.environ.get("HOOK_PROJECT", "alpha"):
        return None
    banned = os.environ.get("HOOK_BANNED", "").split(",")
    return [
        Exclusion(version=c.version, reason=f"release {c.version} is banned here")
        for c in candidates
        if c.version in banned or "*" in banned
    ]
"""

DOWNLOAD_PLUGIN = """
import fnmatch
import hashlib
import json
import os

from roost import hookimpl
from roost.types import Refusal


@hookimpl
def roost_check_download(link, path, options):
    with open(path, "rb") as file:
        digest = hashlib.sha256(file.read()).hexdigest()
    with open(os.environ["HOOK_DOWNLOAD_LOG"], "a") as log:
        entry = {"filename": link.filename, "verified": digest == link.hashes.get("sha256")}
        log.write(json.dumps(entry) + "\\n")
    if fnmatch.fnmatch(link.filename, os.environ.get("HOOK_REFUSE", "")):
        return Refusal(plugin="", reason=f"{link.filename} is not on the allow-list")
    return None
"""

PLAN_PLUGIN = """
import json
import os

from roost import hookimpl
from roost.types import Refusal


@hookimpl
def roost_check_plan(plan, target, options):
    entries = [
        {
            "name": e.name,
            "version": e.version,
            "action": e.action,
            "replaces": e.replaces_version,
            "metadata_name": next(
                (line[6:] for line in e.metadata.splitlines() if line.startswith("Name: ")), None
            ),
            "requested": e.requested,
            "direct_url": sorted(e.direct_url) if e.direct_url is not None else None,
        }
        for e in plan.entries
    ]
    with open(os.environ["HOOK_PLAN_LOG"], "a") as log:
        log.write(json.dumps({"command": plan.command, "entries": entries}) + "\\n")
    if os.environ.get("HOOK_REFUSE"):
        names = ", ".join(e.name for e in plan.entries)
        return [Refusal(plugin="", reason=f"{names}: not approved", remedies=("ask the lead",))]
    return []
"""


PLUGINS = {
    "hook_commands": COMMANDS_PLUGIN,
    "hook_rival": RIVAL_PLUGIN,
    "hook_broken": BROKEN_PLUGIN,
    "hook_filter": FILTER_PLUGIN,
    "hook_download": DOWNLOAD_PLUGIN,
    "hook_plan": PLAN_PLUGIN,
}


def hooks_env(tmp_path: Path, *, home: str = "home", **extra: str) -> dict[str, str]:
    """A clean environment with every test plugin importable (each loaded only by its
    ``-p``), and *extra* variables set."""
    for module, source in PLUGINS.items():
        env = plugin_env(tmp_path, module, source, home=home, **extra)
    return env


def install(
    env: dict[str, str], python: Path, url: str, *args: str, plugins: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """``roost -p PLUGIN... install --python PYTHON -i URL ARGS...``."""
    loaded = [arg for plugin in plugins for arg in ("-p", plugin)]
    return run_roost(*loaded, "install", "--python", str(python), "-i", url, *args, env=env)


def read_log(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def fresh_server(corpus_index: PackageIndex) -> Iterator[ConditionalServer]:
    """The corpus with ``max-age``, so a resolution can be reused."""
    with ConditionalServer(corpus_index, cache_control="max-age=600") as running:
        yield running


# -- roost_add_commands -----------------------------------------------------------------


def test_a_plugin_command_is_listed_and_runs(tmp_path: Path) -> None:
    env = hooks_env(tmp_path)
    usage = run_roost("-p", "hook_commands", "--help", env=env, check=True)
    assert "hello" in usage.stdout and "Greet WHO" in usage.stdout
    listing = run_roost("-p", "hook_commands", "plugins", env=env, check=True).stdout
    own = listing.split("hook_commands", 1)[1]
    assert "roost_add_commands" in own and "command: hello" in own
    assert "command: list" not in listing
    result = run_roost("-p", "hook_commands", "hello", "you", env=env, check=True)
    assert result.stdout == "hello you from hook_commands\n"


def test_a_clash_with_a_built_in_warns_and_the_built_in_wins(tmp_path: Path) -> None:
    env, venv = hooks_env(tmp_path), make_venv(tmp_path / "venv")
    args = ("-p", "hook_commands", "list", "--python", str(venv), "--format", "json")
    result = run_roost(*args, env=env, check=True)
    assert result.stdout == "[]\n"  # roost's own list, of an empty venv
    (warning,) = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert "'hook_commands'" in warning and "'list'" in warning and "built-in" in warning


def test_between_two_plugins_the_first_registered_wins(tmp_path: Path) -> None:
    env = hooks_env(tmp_path)
    for first, second in (("hook_commands", "hook_rival"), ("hook_rival", "hook_commands")):
        result = run_roost("-p", first, "-p", second, "hello", env=env, check=True)
        assert result.stdout == f"hello world from {first}\n"
        clash = [line for line in result.stderr.splitlines() if "'hello'" in line]
        assert len(clash) == 1 and f"'{first}'" in clash[0] and f"'{second}'" in clash[0]
        listing = run_roost("-p", first, "-p", second, "plugins", env=env, check=True).stdout
        assert listing.count("command: hello") == 1
        assert "command: hello" in listing.split(first, 1)[1].split(second, 1)[0]


def test_a_blocked_plugin_adds_nothing(tmp_path: Path) -> None:
    env = hooks_env(tmp_path)
    blocked = ("-p", "hook_commands", "-p", "no:hook_commands")
    usage = run_roost(*blocked, "--help", env=env, check=True)
    assert "hello" not in usage.stdout and usage.stderr == ""
    listing = run_roost(*blocked, "plugins", env=env, check=True)
    assert "hook_commands" not in listing.stdout and "command:" not in listing.stdout
    missing = run_roost(*blocked, "hello", env=env)
    assert missing.returncode == 2 and "No such command 'hello'" in missing.stderr


def test_a_plugin_failing_to_add_commands_does_not_stop_roost(tmp_path: Path) -> None:
    env = hooks_env(tmp_path)
    result = run_roost("-p", "hook_broken", "-p", "hook_commands", "hello", env=env)
    assert result.returncode == 0 and result.stdout == "hello world from hook_commands\n"
    assert (
        "plugin 'hook_broken' failed in roost_add_commands and was skipped: no commands today"
        in result.stderr
    )


# -- roost_filter_candidates ------------------------------------------------------------

FILTER = ("hook_filter",)


def test_excluding_the_newest_installs_the_one_before(
    tmp_path: Path, index_server: IndexServer
) -> None:
    log = tmp_path / "seen.jsonl"
    env = hooks_env(tmp_path, HOOK_FILTER_LOG=str(log), HOOK_BANNED="2.0")
    venv = make_venv(tmp_path / "venv")
    assert install(env, venv, index_server.url, "alpha", "delta", plugins=FILTER).returncode == 0
    # Without the filter alpha would be 2.0 (2.1rc1 is a pre-release, 1.5 is yanked).
    assert installed(venv) == {"alpha": "1.1", "delta": "1.0"}
    seen = read_log(log)
    # Once per project, with every file the index offers that suits the target.
    assert sorted(entry["project"] for entry in seen) == ["alpha", "delta"]
    (alpha,) = [entry["candidates"] for entry in seen if entry["project"] == "alpha"]
    assert [c[0] for c in alpha] == ["2.1rc1", "2.0", "1.5", "1.1", "1.0"]
    assert ["1.5", "alpha-1.5-py3-none-any.whl", True, "broken"] in alpha


def test_excluding_everything_says_why_and_changes_nothing(
    tmp_path: Path, index_server: IndexServer
) -> None:
    env = hooks_env(tmp_path, HOOK_FILTER_LOG=str(tmp_path / "seen.jsonl"), HOOK_BANNED="*")
    venv = make_venv(tmp_path / "venv")
    before = manifest(tmp_path / "venv")
    result = install(env, venv, index_server.url, "alpha", plugins=FILTER)
    assert result.returncode == 1
    assert "No matching distribution found for alpha" in result.stderr
    reason = "alpha 2.0 excluded by policy: release 2.0 is banned here (hook_filter)"
    assert reason in result.stderr and "alpha 1.0 excluded by policy" in result.stderr
    assert manifest(tmp_path / "venv") == before


def test_an_exclusion_naming_nothing_is_an_error_naming_the_plugin(
    tmp_path: Path, index_server: IndexServer
) -> None:
    env = hooks_env(tmp_path, HOOK_FILTER_LOG=str(tmp_path / "seen.jsonl"), HOOK_VAGUE="1")
    venv = make_venv(tmp_path / "venv")
    result = install(env, venv, index_server.url, "alpha", plugins=FILTER)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "plugin 'hook_filter' returned an Exclusion" in result.stderr
    assert installed(venv) == {}


def test_a_reused_resolution_does_not_bypass_the_filter(
    tmp_path: Path, fresh_server: ConditionalServer
) -> None:
    reused = "resolution: the previous one, reused"
    log = tmp_path / "seen.jsonl"
    env = hooks_env(tmp_path, HOOK_FILTER_LOG=str(log), HOOK_BANNED="2.0")

    def run(name: str, plugins: tuple[str, ...] = ()) -> tuple[dict[str, str], str]:
        venv = make_venv(tmp_path / name)
        loaded = [arg for plugin in plugins for arg in ("-p", plugin)]
        args = ("-v", "install", "--python", str(venv), "-i", fresh_server.url, "alpha")
        result = run_roost(*loaded, *args, env=env)
        assert result.returncode == 0, result.stderr
        return installed(venv), result.stderr

    # Without the plugin the second run reuses the first one's resolution ...
    first, log_one = run("plain-1")
    second, log_two = run("plain-2")
    assert first == second == {"alpha": "2.0"}
    assert reused not in log_one and reused in log_two
    # ... but with it, the same install resolves every time, and the filter holds ...
    for name in ("filtered-1", "filtered-2"):
        found, stderr = run(name, FILTER)
        assert found == {"alpha": "1.1"} and reused not in stderr
    assert [entry["project"] for entry in read_log(log)] == ["alpha", "alpha"]
    # ... and what it resolved under the filter was not kept for runs without it.
    third, log_three = run("plain-3")
    assert third == {"alpha": "2.0"} and reused in log_three


# -- roost_check_download ---------------------------------------------------------------

DOWNLOAD = ("hook_download",)


def test_a_refused_download_changes_nothing_even_from_the_store(
    tmp_path: Path, index_server: IndexServer
) -> None:
    log = tmp_path / "seen.jsonl"
    env = hooks_env(tmp_path, HOOK_DOWNLOAD_LOG=str(log), HOOK_REFUSE="alpha-*")
    venv, url, wheel = make_venv(tmp_path / "venv"), index_server.url, "alpha-1.1-py3-none-any.whl"
    # Without the plugin: delta installed, and alpha 1.1 fetched into the cache and store
    # by an install elsewhere.
    assert install(env, venv, url, "delta").returncode == 0
    assert install(env, make_venv(tmp_path / "other"), url, "alpha==1.1").returncode == 0
    before = manifest(tmp_path / "venv")
    fetched = len(index_server.requests_for(f"/files/{wheel}"))
    result = install(env, venv, url, "alpha==1.1", plugins=DOWNLOAD)
    assert result.returncode == 1
    assert f"{wheel} (from {url}) was refused once downloaded" in result.stderr
    assert f"hook_download: {wheel} is not on the allow-list" in result.stderr
    assert manifest(tmp_path / "venv") == before
    # The wheel came from roost's own store, not from the index, and was still checked.
    assert len(index_server.requests_for(f"/files/{wheel}")) == fetched
    assert read_log(log) == [{"filename": wheel, "verified": True}]
    # With an empty cache it is refused as it arrives; files allowed go through.
    cold = hooks_env(tmp_path, home="cold", HOOK_DOWNLOAD_LOG=str(log), HOOK_REFUSE="alpha-*")
    again = install(cold, venv, url, "beta", plugins=DOWNLOAD)
    assert again.returncode == 1 and f"hook_download: {wheel}" in again.stderr
    assert manifest(tmp_path / "venv") == before
    assert {"filename": "beta-1.0-py3-none-any.whl", "verified": True} in read_log(log)


def test_download_saves_nothing_refused(tmp_path: Path, index_server: IndexServer) -> None:
    log = tmp_path / "seen.jsonl"
    env = hooks_env(tmp_path, HOOK_DOWNLOAD_LOG=str(log), HOOK_REFUSE="*")
    dest, url = tmp_path / "saved", index_server.url
    # Fetched once without the plugin, so the second time it comes from the wheel cache.
    run_roost("download", "-d", str(tmp_path / "first"), "-i", url, "delta", env=env, check=True)
    result = run_roost(
        "-p", "hook_download", "download", "-d", str(dest), "-i", url, "delta", env=env
    )
    assert result.returncode == 1
    assert "hook_download: delta-1.0-py3-none-any.whl is not on the allow-list" in result.stderr
    assert list(dest.iterdir()) == []
    assert read_log(log) == [{"filename": "delta-1.0-py3-none-any.whl", "verified": True}]


def test_an_sdist_is_checked_before_it_is_unpacked_or_built(tmp_path: Path) -> None:
    index = PackageIndex(tmp_path / "index")
    # No PKG-INFO that vouches for its metadata: using it means building it, and the
    # in-tree backend writes its name to INTREE_BUILD_LOG when it builds.
    project = in_tree_project(tmp_path / "project", "sdistdemo", "1.0")
    index.add_file(make_sdist(project, tmp_path / "dist", "sdistdemo", "1.0"))
    index.write()
    log, built = tmp_path / "seen.jsonl", tmp_path / "built.log"
    env = hooks_env(
        tmp_path, HOOK_DOWNLOAD_LOG=str(log), HOOK_REFUSE="sdistdemo-*",
        INTREE_BUILD_LOG=str(built), ROOST_BUILD_SANDBOX_WRITABLE=str(tmp_path),
    )  # fmt: skip
    venv = make_venv(tmp_path / "venv")
    before = manifest(tmp_path / "venv")
    with IndexServer(index) as server:
        refused = install(env, venv, server.url, "sdistdemo", plugins=DOWNLOAD)
        assert refused.returncode == 1
        assert "hook_download: sdistdemo-1.0.tar.gz is not on the allow-list" in refused.stderr
        assert not built.exists() and manifest(tmp_path / "venv") == before
        assert read_log(log) == [{"filename": "sdistdemo-1.0.tar.gz", "verified": True}]
        # Allowed, the same sdist is built; the wheel built from it is checked as well.
        allowed = install(
            {**env, "HOOK_REFUSE": "none"}, venv, server.url, "sdistdemo", plugins=DOWNLOAD
        )
    assert allowed.returncode == 0, allowed.stderr
    assert built.read_text().split() == ["sdistdemo"]
    assert installed(venv) == {"sdistdemo": "1.0"}
    checked = [entry["filename"] for entry in read_log(log)]
    assert checked == ["sdistdemo-1.0.tar.gz"] * 2 + ["sdistdemo-1.0-py3-none-any.whl"]


# -- roost_check_plan -------------------------------------------------------------------

PLAN = ("hook_plan",)


def change(name: str, version: str, action: str, replaces: str | None = None) -> dict[str, object]:
    """A plan entry as the plan plugin logs it, for a distribution from the index."""
    return {"name": name, "version": version, "action": action, "replaces": replaces,
            "metadata_name": name, "requested": True, "direct_url": None}  # fmt: skip


def test_the_plan_check_sees_every_change_with_its_versions(
    tmp_path: Path, index_server: IndexServer
) -> None:
    log = tmp_path / "plans.jsonl"
    env, venv = hooks_env(tmp_path, HOOK_PLAN_LOG=str(log)), make_venv(tmp_path / "venv")
    for args in (
        ("alpha==1.0", "delta"),
        ("alpha==1.1", "gamma"),
        ("alpha==1.0",),
        ("--force-reinstall", "alpha==1.0"),
        ("alpha==1.0", "delta"),  # nothing to change: nothing to check
    ):
        assert install(env, venv, index_server.url, *args, plugins=PLAN).returncode == 0
    plans = read_log(log)
    assert {plan["command"] for plan in plans} == {"install"}
    # In install order, pip's: projects that need nothing else, by name from the last.
    assert [plan["entries"] for plan in plans] == [
        [change("delta", "1.0", "install"), change("alpha", "1.0", "install")],
        [change("gamma", "1.0", "install"), change("alpha", "1.1", "upgrade", "1.0")],
        [change("alpha", "1.0", "downgrade", "1.1")],
        [change("alpha", "1.0", "reinstall", "1.0")],
    ]
    assert installed(venv) == {"alpha": "1.0", "delta": "1.0", "gamma": "1.0"}


def test_a_refused_plan_writes_nothing(tmp_path: Path, index_server: IndexServer) -> None:
    log = tmp_path / "plans.jsonl"
    env = hooks_env(tmp_path, HOOK_PLAN_LOG=str(log), HOOK_REFUSE="1")
    venv, url = make_venv(tmp_path / "venv"), index_server.url
    assert install(env, venv, url, "alpha==1.0").returncode == 0
    before = manifest(tmp_path / "venv")
    result = install(env, venv, url, "alpha==1.1", "beta", plugins=PLAN)
    assert result.returncode == 1
    assert "the install plan (2 distribution(s)" in result.stderr
    assert "hook_plan: alpha, beta: not approved\n    - ask the lead" in result.stderr
    assert manifest(tmp_path / "venv") == before
    (plan,) = read_log(log)
    assert plan["entries"] == [
        change("alpha", "1.1", "upgrade", "1.0"),
        change("beta", "1.0", "install"),
    ]


def test_the_plan_check_sees_an_uninstall_and_can_refuse_it(
    tmp_path: Path, index_server: IndexServer
) -> None:
    log = tmp_path / "plans.jsonl"
    env, venv = hooks_env(tmp_path, HOOK_PLAN_LOG=str(log)), make_venv(tmp_path / "venv")
    assert install(env, venv, index_server.url, "beta", "delta").returncode == 0
    before = manifest(tmp_path / "venv")
    args = ("-p", "hook_plan", "uninstall", "-y", "--python", str(venv), "alpha", "delta")
    result = run_roost(*args, env={**env, "HOOK_REFUSE": "1"})
    assert result.returncode == 1
    assert "the uninstall plan (2 distribution(s)" in result.stderr
    assert "hook_plan: alpha, delta: not approved" in result.stderr
    assert manifest(tmp_path / "venv") == before
    run_roost(*args, env=env, check=True)
    assert installed(venv) == {"beta": "1.0"}
    removals = [change("alpha", "1.1", "remove"), change("delta", "1.0", "remove")]
    assert read_log(log) == [{"command": "uninstall", "entries": removals}] * 2


def test_build_environments_are_filtered_and_checked_but_their_plans_are_roosts_own(
    tmp_path: Path,
) -> None:
    index = PackageIndex(tmp_path / "index")
    index.add(WheelSpec("extra-dep", "1.0"))
    index.add(WheelSpec("extra-dep", "2.0"))
    index.write()
    project = in_tree_project(tmp_path / "project", "builtdemo", "1.0")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[]", '["extra-dep"]'))
    logs = {name: tmp_path / f"{name}.jsonl" for name in ("plan", "download", "filter")}
    env = hooks_env(
        tmp_path, HOOK_PLAN_LOG=str(logs["plan"]), HOOK_DOWNLOAD_LOG=str(logs["download"]),
        HOOK_FILTER_LOG=str(logs["filter"]), HOOK_PROJECT="extra-dep", HOOK_BANNED="2.0",
        ROOST_BUILD_SANDBOX_WRITABLE=str(tmp_path),
    )  # fmt: skip
    venv = make_venv(tmp_path / "venv")
    with IndexServer(index) as server:
        result = install(env, venv, server.url, str(project), plugins=PLAN + DOWNLOAD + FILTER)
    assert result.returncode == 0, result.stderr
    assert installed(venv) == {"builtdemo": "1.0"}
    # The build environment's requirement was filtered (2.0 excluded) and its wheel
    # checked, as was the wheel built from the project ...
    assert [entry["project"] for entry in read_log(logs["filter"])] == ["extra-dep"]
    checked = {entry["filename"] for entry in read_log(logs["download"])}
    assert checked == {"extra_dep-1.0-py3-none-any.whl", "builtdemo-1.0-py3-none-any.whl"}
    # ... but the only plan checked is the one for the user's environment.
    (plan,) = read_log(logs["plan"])
    (entry,) = plan["entries"]  # type: ignore[misc]
    assert (plan["command"], entry["name"], entry["action"], entry["direct_url"]) == (
        "install", "builtdemo", "install", ["dir_info", "url"],
    )  # fmt: skip
