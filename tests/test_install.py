"""`roost install` end to end: a real index on loopback, real venvs, real wheels."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
from installer.sources import WheelFile

from tests.support.envs import installed, make_venv, manifest, need_pyenv, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel


def site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def roost_ok(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_roost(*args, env=env, check=True)


def test_installs_latest_final_with_script_and_metadata(
    venv: Path, index_server: IndexServer
) -> None:
    result = roost_ok("install", "--python", str(venv), "-i", index_server.url, "alpha")
    assert "Successfully installed alpha-2.0" in result.stdout
    assert installed(venv) == {"alpha": "2.0"}
    script = venv.parent / "alpha"
    assert script.exists()
    assert script.read_text().splitlines()[0] == f"#!{venv}"
    ran = subprocess.run([str(script)], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "alpha 2.0"
    dist_info = site_packages(venv) / "alpha-2.0.dist-info"
    assert (dist_info / "INSTALLER").read_text() == "roost\n"
    assert (dist_info / "REQUESTED").exists()
    assert not (dist_info / "direct_url.json").exists()
    data = venv.parent.parent / "share" / "alpha" / "alpha.txt"
    assert data.exists()
    # Every RECORD row names a file that exists with the recorded hash.
    rows = list(csv.reader((dist_info / "RECORD").read_text().splitlines()))
    assert any(row[0].endswith("alpha/__init__.py") for row in rows)
    for path, digest, _size in rows:
        full = (dist_info.parent / path).resolve()
        assert full.exists(), path
        if digest:
            import base64
            import hashlib

            algo, _, value = digest.partition("=")
            actual = base64.urlsafe_b64encode(hashlib.new(algo, full.read_bytes()).digest())
            assert actual.rstrip(b"=").decode() == value, path


def test_pre_release_only_when_asked(venv: Path, index_server: IndexServer) -> None:
    roost_ok("install", "--python", str(venv), "-i", index_server.url, "--pre", "alpha")
    assert installed(venv) == {"alpha": "2.1rc1"}


def test_dependency_skips_yanked_and_pin_allows_it(
    tmp_path: Path, index_server: IndexServer
) -> None:
    first = make_venv(tmp_path / "a")
    roost_ok("install", "--python", str(first), "-i", index_server.url, "beta")
    assert installed(first) == {"alpha": "1.1", "beta": "1.0"}
    second = make_venv(tmp_path / "b")
    roost_ok("install", "--python", str(second), "-i", index_server.url, "alpha==1.5")
    assert installed(second) == {"alpha": "1.5"}


def test_extras_and_markers_follow_the_target(tmp_path: Path, index_server: IndexServer) -> None:
    plain = make_venv(tmp_path / "plain")
    roost_ok("install", "--python", str(plain), "-i", index_server.url, "gamma")
    assert installed(plain) == {"gamma": "1.0"}
    fast = make_venv(tmp_path / "fast")
    roost_ok("install", "--python", str(fast), "-i", index_server.url, "gamma[fast]")
    assert installed(fast) == {"delta": "1.0", "gamma": "1.0"}


@pytest.mark.parametrize(("version", "expected"), [("3.10", "delta"), ("3.12", "zeta")])
def test_markers_evaluated_against_target_interpreter(
    tmp_path: Path, index_server: IndexServer, version: str, expected: str
) -> None:
    env = make_venv(tmp_path / "v", need_pyenv(version))
    roost_ok("install", "--python", str(env), "-i", index_server.url, "epsilon", "onlynew")
    want = {"epsilon": "1.0", expected: "1.0"}
    want["onlynew"] = "1.0" if version == "3.12" else "0.9"
    assert installed(env) == want


def test_no_compatible_wheel_lists_what_was_found(venv: Path, index_server: IndexServer) -> None:
    before = manifest(venv.parent.parent)
    result = run_roost("install", "--python", str(venv), "-i", index_server.url, "binary")
    assert result.returncode != 0
    assert "binary-1.0-cp27-cp27mu-linux_armv6l.whl" in result.stderr
    assert "Traceback" not in result.stderr
    assert manifest(venv.parent.parent) == before
    sdist = run_roost("install", "--python", str(venv), "-i", index_server.url, "sdistonly")
    assert sdist.returncode != 0
    # Built from source, whose backend (setuptools) this index does not have.
    assert "building sdistonly-1.0.tar.gz" in sdist.stderr or "sdistonly" in sdist.stderr
    assert "build-system.requires (setuptools>=40.8.0) could not be installed" in sdist.stderr
    missing = run_roost("install", "--python", str(venv), "-i", index_server.url, "nosuchthing")
    assert missing.returncode != 0
    assert "nosuchthing" in missing.stderr
    assert index_server.url in missing.stderr  # names the index it asked
    assert manifest(venv.parent.parent) == before


def test_conflict_names_each_requirement_and_parent(venv: Path, index_server: IndexServer) -> None:
    before = manifest(venv.parent.parent)
    result = run_roost(
        "install", "--python", str(venv), "-i", index_server.url, "conflict-a", "conflict-b"
    )
    assert result.returncode == 1
    assert "delta==1.0 (asked for by conflict-a 1.0)" in result.stderr
    assert "delta>1.0 (asked for by conflict-b 1.0)" in result.stderr
    assert manifest(venv.parent.parent) == before


def test_upgrade_replaces_old_version_by_record(venv: Path, index_server: IndexServer) -> None:
    roost_ok("install", "--python", str(venv), "-i", index_server.url, "alpha==1.0")
    site = site_packages(venv)
    assert (site / "alpha-1.0.dist-info").is_dir()
    again = roost_ok("install", "--python", str(venv), "-i", index_server.url, "alpha")
    assert "Requirement already satisfied: alpha" in again.stdout
    assert installed(venv) == {"alpha": "1.0"}
    roost_ok("install", "--python", str(venv), "-i", index_server.url, "-U", "alpha")
    assert installed(venv) == {"alpha": "2.0"}
    assert not (site / "alpha-1.0.dist-info").exists()
    assert not list(site.glob(".roost-tx-*"))
    ran = subprocess.run([str(venv.parent / "alpha")], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "alpha 2.0"


def test_upgrade_then_downgrade_leaves_the_same_files_as_a_fresh_install(
    tmp_path: Path, index_server: IndexServer
) -> None:
    fresh = make_venv(tmp_path / "fresh")
    roost_ok("install", "--python", str(fresh), "-i", index_server.url, "alpha==1.1")
    moved = make_venv(tmp_path / "moved")
    roost_ok("install", "--python", str(moved), "-i", index_server.url, "alpha==2.0")
    roost_ok("install", "--python", str(moved), "-i", index_server.url, "alpha==1.1")
    assert _files(fresh) == _files(moved)


def _files(python: Path) -> set[str]:
    root = python.parent.parent
    return {p for p in manifest(root) if "__pycache__" not in p and "pyvenv.cfg" not in p}


def test_no_deps_and_force_reinstall(venv: Path, index_server: IndexServer) -> None:
    roost_ok("install", "--python", str(venv), "-i", index_server.url, "--no-deps", "beta")
    assert installed(venv) == {"beta": "1.0"}
    result = roost_ok(
        "install", "--python", str(venv), "-i", index_server.url, "--force-reinstall", "beta"
    )
    assert "Successfully installed" in result.stdout
    assert "beta-1.0" in result.stdout
    assert installed(venv) == {"alpha": "1.1", "beta": "1.0"}


@pytest.mark.parametrize("formats", [frozenset({"json"}), frozenset({"html"})])
def test_json_only_and_html_only_indexes(
    venv: Path, corpus_index: PackageIndex, formats: frozenset[str]
) -> None:
    with IndexServer(corpus_index, formats=formats) as server:
        roost_ok("install", "--python", str(venv), "-i", server.url, "beta")
    assert installed(venv) == {"alpha": "1.1", "beta": "1.0"}


def test_file_index_and_find_links(tmp_path: Path, corpus_index: PackageIndex) -> None:
    from_file = make_venv(tmp_path / "file")
    roost_ok("install", "--python", str(from_file), "-i", corpus_index.file_url, "gamma[fast]")
    assert installed(from_file) == {"delta": "1.0", "gamma": "1.0"}
    links = make_venv(tmp_path / "links")
    roost_ok(
        "install",
        "--python",
        str(links),
        "--no-index",
        "-f",
        str(corpus_index.files_dir),
        "beta",
    )
    # A folder of files says nothing about yanking, so 1.5 is as good as any there.
    assert installed(links) == {"alpha": "1.5", "beta": "1.0"}


def test_requirements_and_constraints_files(tmp_path: Path, index_server: IndexServer) -> None:
    python = make_venv(tmp_path / "v")
    (tmp_path / "base.txt").write_text("# base\nbeta \\\n  >=1.0\n")
    (tmp_path / "constraints.txt").write_text("alpha<1.1\n")
    (tmp_path / "requirements.txt").write_text(
        f"--index-url {index_server.url}\n-r base.txt\n-c constraints.txt\n"
        'gamma[fast] ; python_version >= "3"\n'
    )
    roost_ok("install", "--python", str(python), "-r", str(tmp_path / "requirements.txt"))
    assert installed(python) == {"alpha": "1.0", "beta": "1.0", "delta": "1.0", "gamma": "1.0"}


def test_local_wheel_path_gets_direct_url(tmp_path: Path, venv: Path) -> None:
    wheel = build_wheel(
        WheelSpec("localpkg", "0.3", console_scripts={"lp": "localpkg:main"}), tmp_path / "dist"
    )
    result = roost_ok("install", "--python", str(venv), str(wheel))
    assert "Successfully installed localpkg-0.3" in result.stdout
    dist_info = site_packages(venv) / "localpkg-0.3.dist-info"
    direct = json.loads((dist_info / "direct_url.json").read_text())
    assert direct["url"] == wheel.as_uri()
    assert direct["archive_info"]["hashes"]["sha256"]
    with WheelFile.open(wheel) as source:
        source.validate_record()


def test_file_url_with_percent_signs_in_its_path(tmp_path: Path, venv: Path) -> None:
    """A file: URL's escapes are decoded once: the folder "100%41 x" is
    ``100%2541%20x`` in the URL, and decoding twice would look in "100A x"."""
    wheel = build_wheel(WheelSpec("pctpkg", "1.0"), tmp_path / "100%41 x")
    (tmp_path / "100A x").mkdir()  # where a second decoding would look
    result = roost_ok("install", "--python", str(venv), f"pctpkg @ {wheel.as_uri()}")
    assert "Successfully installed pctpkg-1.0" in result.stdout
    direct = json.loads(
        (site_packages(venv) / "pctpkg-1.0.dist-info" / "direct_url.json").read_text()
    )
    assert direct["url"] == wheel.as_uri()


def test_pip_configuration_supplies_the_index(
    venv: Path, index_server: IndexServer, tmp_home: dict[str, str], tmp_path: Path
) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nindex-url = {index_server.url}\n")
    roost_ok(
        "install",
        "--python",
        str(venv),
        "alpha==1.0",
        env={**tmp_home, "PIP_CONFIG_FILE": str(conf)},
    )
    assert installed(venv) == {"alpha": "1.0"}
    roost_ok(
        "install",
        "--python",
        str(venv),
        "delta",
        env={**tmp_home, "PIP_INDEX_URL": index_server.url},
    )
    assert installed(venv) == {"alpha": "1.0", "delta": "1.0"}
    roost_ok(
        "install",
        "--python",
        str(venv),
        "zeta",
        env={**tmp_home, "ROOST_INDEX_URL": index_server.url},
    )
    assert installed(venv)["zeta"] == "1.0"


def test_first_index_strategy_prevents_dependency_confusion(
    tmp_path: Path, index_server: IndexServer
) -> None:
    # A general index that also has "alpha" (a newer, hostile one) and a project of its
    # own; the user's index is the extra one, asked first.
    other = PackageIndex(tmp_path / "other")
    other.add(WheelSpec("alpha", "99.0"))
    other.add(WheelSpec("onlyother", "1.0", requires=["alpha"]))
    other.write()
    with IndexServer(other) as second:
        safe = make_venv(tmp_path / "safe")
        roost_ok(
            "install",
            "--python",
            str(safe),
            "-i",
            second.url,
            "--extra-index-url",
            index_server.url,
            "onlyother",
        )
        assert installed(safe) == {"alpha": "2.0", "onlyother": "1.0"}
        merged = make_venv(tmp_path / "merged")
        roost_ok(
            "install",
            "--python",
            str(merged),
            "-i",
            second.url,
            "--extra-index-url",
            index_server.url,
            "--index-strategy",
            "unsafe-best-match",
            "onlyother",
        )
        assert installed(merged) == {"alpha": "99.0", "onlyother": "1.0"}


def test_verbose_and_quiet(venv: Path, index_server: IndexServer) -> None:
    quiet = roost_ok("-q", "install", "--python", str(venv), "-i", index_server.url, "delta")
    assert quiet.stdout == ""
    failing = run_roost("-v", "install", "--python", str(venv), "-i", index_server.url, "binary")
    assert failing.returncode == 1
    assert "Traceback" in failing.stderr


def test_python_m_roost_targets_its_own_interpreter(
    tmp_path: Path, index_server: IndexServer
) -> None:
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "roost", "install", "--dry-run", "-i", index_server.url, "delta"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    # The test interpreter is a venv: the guard lets it through and the plan is shown.
    assert result.returncode == 0, result.stderr
    assert "Would install delta-1.0" in result.stdout


def test_ignore_installed_reinstalls_without_removing(
    venv: Path, index_server: IndexServer
) -> None:
    roost_ok("install", "--python", str(venv), "-i", index_server.url, "delta")
    again = roost_ok("install", "--python", str(venv), "-i", index_server.url, "-I", "delta")
    assert "Successfully installed delta-1.0" in again.stdout
    assert installed(venv) == {"delta": "1.0"}


def test_noop_install_asks_no_index(venv: Path, corpus_index: PackageIndex) -> None:
    with IndexServer(corpus_index) as server:
        roost_ok("install", "--python", str(venv), "-i", server.url, "beta", "gamma[fast]")
        server.clear_requests()
        again = roost_ok("install", "--python", str(venv), "-i", server.url, "beta", "gamma[fast]")
        assert "Requirement already satisfied: beta" in again.stdout
        assert server.requests == []
        # A constraint the installed set breaks, or -U, goes back to the index.
        roost_ok("install", "--python", str(venv), "-i", server.url, "-U", "beta")
        assert server.requests
        server.clear_requests()
        roost_ok("install", "--python", str(venv), "-i", server.url, "beta", "alpha<1.1")
        assert installed(venv)["alpha"] == "1.0"
        assert server.requests


def test_a_missing_dependency_fails_at_once_beside_a_requires_python(
    tmp_path: Path,
) -> None:
    """A dependency no index has, next to a project with Requires-Python: resolvelib
    must be told the one Python is ruled out, or it backjumps for ever."""
    from tests.support.wheels import WheelSpec

    index = PackageIndex(tmp_path / "index")
    index.add(WheelSpec("bbb", "1.0", requires_python=">=3"))
    index.add(WheelSpec("zzz", "1.0", requires=["m1"]))
    index.write()
    venv = make_venv(tmp_path / "venv")
    with IndexServer(index) as server:
        result = run_roost(
            "install", "--python", str(venv), "-i", server.url, "zzz", "bbb", timeout=60
        )
    assert result.returncode == 1
    assert "No matching distribution found for m1 (from zzz)" in result.stderr


def test_force_reinstall_of_a_version_no_source_offers_is_a_clear_error(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    """Installed from a wheel file; the index has no such project: pip stops, and so
    does roost, before anything is changed (it used to fail an internal assertion)."""
    venv = make_venv(tmp_path / "venv")
    wheel = build_wheel(WheelSpec("solo", "1.0"), tmp_path / "wheels")
    first = run_roost("install", "--python", str(venv), str(wheel), env=tmp_home)
    assert first.returncode == 0, first.stderr
    before = manifest(tmp_path / "venv")
    result = run_roost(
        "install", "--python", str(venv), "-i", index_server.url, "--force-reinstall", "solo",
        env=tmp_home,
    )  # fmt: skip
    assert result.returncode == 1
    assert "--force-reinstall: solo 1.0 cannot be reinstalled" in result.stderr
    assert "Traceback" not in result.stderr
    assert manifest(tmp_path / "venv") == before
