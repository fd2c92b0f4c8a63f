"""Hostile input gets a clear error (or is skipped, said with ``-v``), never a traceback or a hang.

Real roost processes against the corpus index on 127.0.0.1 and hand-written pages
from a small server here; real devices, pipes and files. Hangs are bounded by the
subprocess timeout, never by timing assertions.
"""

from __future__ import annotations

import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from roost.errors import IndexAccessError
from roost.net.client import Client
from roost.store.fetch import Fetcher
from roost.store.wheel_cache import WheelCache
from roost.types import IndexSource, Link
from tests.support.envs import (
    ROOST_COMMAND,
    clean_env,
    dry_run_install,
    installed,
    make_venv,
    manifest,
    run_roost,
)
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel

#: Long enough for any of these runs to finish; a hang fails the test instead.
TIMEOUT = 30
#: Address space for runs that must not read much: far above what roost needs, far
#: below what reading /dev/zero or an endless pipe to the end would take.
MEMORY_LIMIT = 2 * 1024**3


def clear_failure(result: subprocess.CompletedProcess[str]) -> str:
    """The error of a run that failed cleanly: non-zero, no traceback, one ``ERROR:``."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("ERROR:") == 1, result.stderr
    return result.stderr


def run_bounded(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """*command* with a time and memory bound, so a run that reads forever fails the test
    instead of the machine."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run(
        command,
        env=env,
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=limit,
        check=False,
    )


def dry_run_command(url: str, tmp_path: Path, *args: str) -> list[str]:
    return [
        *ROOST_COMMAND, "install", "--dry-run", "--python", sys.executable,
        "--target", str(tmp_path / "target"), "-i", url, *args,
    ]  # fmt: skip


# -- item 11: a pinned yanked release ------------------------------------------------


def test_pinned_yanked_release_warns_with_its_reason(
    tmp_path: Path, index_server: IndexServer
) -> None:
    python = make_venv(tmp_path / "venv")
    result = run_roost(
        "install", "--python", str(python), "-i", index_server.url, "alpha==1.5",
        timeout=TIMEOUT, check=True,
    )  # fmt: skip
    assert installed(python) == {"alpha": "1.5"}
    assert (
        "WARNING: The candidate selected for download or install is a yanked version: "
        "'alpha' candidate (version 1.5 at "
    ) in result.stderr
    assert "\nReason for being yanked: broken\n" in result.stderr
    unyanked = dry_run_install(index_server.url, tmp_path, "alpha==1.1", env=clean_env(tmp_path))
    assert "yanked" not in unyanked.stderr


# -- item 12: bad input ------------------------------------------------------------------


def test_a_100000_character_requirement_is_refused_at_once(
    tmp_path: Path, index_server: IndexServer
) -> None:
    result = run_roost(
        "install", "--dry-run", "--python", sys.executable, "--target", str(tmp_path / "target"),
        "-i", index_server.url, "a" * 100_000, timeout=TIMEOUT,
    )  # fmt: skip
    error = clear_failure(result)
    assert "is 100,000 characters long" in error
    assert len(error) < 1000  # the message shows the start of it, not all of it


def test_a_dependency_with_a_100000_character_name_is_refused(tmp_path: Path) -> None:
    index = PackageIndex(tmp_path / "index")
    index.add(WheelSpec("greedy", "1.0", requires=["b" * 100_000]))
    index.write()
    with IndexServer(index) as server:
        result = dry_run_install(
            server.url, tmp_path, "greedy", env=clean_env(tmp_path), check=False
        )
    error = clear_failure(result)
    assert "greedy-1.0 requires a project whose name is 100,000 characters long" in error
    assert len(error) < 1000


@pytest.mark.parametrize(
    ("requirement", "said"),
    [
        ("x @ http://127.0.0.1:80x/x-1.0.tar.gz", "Port could not be cast"),
        ("http://user:hunter2@127.0.0.1:80x/x-1.0-py3-none-any.whl", "Port could not be cast"),
        ("x @ https:///x-1.0.tar.gz", "it names no host"),
        ("x @ git+https://127.0.0.1:99999/r.git", "out of range"),
    ],
)
def test_a_direct_url_that_cannot_be_asked_is_a_clear_error(
    tmp_path: Path, requirement: str, said: str
) -> None:
    result = run_roost(
        "install", "--dry-run", "--python", sys.executable, "--target", str(tmp_path / "t"),
        requirement, timeout=TIMEOUT,
    )  # fmt: skip
    error = clear_failure(result)
    assert "invalid URL in" in error and said in error
    assert "hunter2" not in error


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://127.0.0.1:80x/simple", "Port could not be cast"),
        ("http://127.0.0.1/" + "a" * 70_000, "characters long; the most is 65536"),
        ("http://127.0.0.1/sim\x01ple", "control characters"),
    ],
)
def test_an_index_url_that_cannot_be_asked_is_a_clear_error(
    tmp_path: Path, url: str, said: str
) -> None:
    # Through config (where an over-long URL once ended in a traceback) and -i alike.
    config = tmp_path / "roost.toml"
    config.write_text(f"index-url = {json.dumps(url)}\n")  # TOML takes JSON's escapes
    env = {**clean_env(tmp_path), "ROOST_CONFIG_FILE": str(config)}
    for args in ((), ("-i", url)):
        result = run_roost(
            "install", "--dry-run", "--python", sys.executable, "--target", str(tmp_path / "t"),
            *args, "six", env=env, timeout=TIMEOUT,
        )  # fmt: skip
        error = clear_failure(result)
        assert "is not a valid URL" in error and said in error


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_requirements_from_a_device_are_refused_unread(
    device: str, tmp_path: Path, index_server: IndexServer
) -> None:
    command = dry_run_command(index_server.url, tmp_path, "-r", device)
    error = clear_failure(run_bounded(command, clean_env(tmp_path)))
    assert f"Could not open requirements file: {device} is a character device" in error


def test_an_endless_requirements_pipe_is_read_only_so_far(
    tmp_path: Path, index_server: IndexServer
) -> None:
    # -r <(command) is how people pass generated requirements: a pipe is read, up to a bound.
    roost = shlex.join(dry_run_command(index_server.url, tmp_path))
    result = run_bounded(["bash", "-c", f"{roost} -r <(yes alpha)"], clean_env(tmp_path))
    error = clear_failure(result)
    assert "is too large" in error
    assert "MiB, the most roost reads" in error


def test_deeply_nested_requirements_files_stop_with_a_clear_error(
    tmp_path: Path, index_server: IndexServer
) -> None:
    files = tmp_path / "nested"
    files.mkdir()
    for level in range(1500):
        (files / f"r{level}.txt").write_text(f"-r r{level + 1}.txt\n")
    (files / "r1500.txt").write_text("alpha\n")
    command = dry_run_command(index_server.url, tmp_path, "-r", str(files / "r0.txt"))
    error = clear_failure(run_bounded(command, clean_env(tmp_path)))
    assert "roost follows at most" in error
    assert "levels" in error


def test_includes_that_multiply_stop_with_a_clear_error(
    tmp_path: Path, index_server: IndexServer
) -> None:
    # No loop and only 12 levels, but each file includes the next ten times: 10**11 reads.
    files = tmp_path / "fan"
    files.mkdir()
    for level in range(11):
        (files / f"f{level}.txt").write_text(f"-r f{level + 1}.txt\n" * 10)
    (files / "f11.txt").write_text("alpha\n")
    command = dry_run_command(index_server.url, tmp_path, "-r", str(files / "f0.txt"))
    error = clear_failure(run_bounded(command, clean_env(tmp_path)))
    assert "name more than 1000 files" in error


def test_a_line_of_256_kb_of_spaces_is_read_in_one_pass(
    tmp_path: Path, index_server: IndexServer
) -> None:
    reqs = tmp_path / "reqs.txt"
    # Trailing spaces, no comment after them: what made pip's comment pattern quadratic.
    reqs.write_text("alpha==1.1" + " " * 256 * 1024 + "\n# pinned for the test\n")
    result = run_roost(
        "install", "--dry-run", "--python", sys.executable, "--target",
        str(tmp_path / "target"), "-i", index_server.url, "-r", str(reqs), timeout=TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Would install alpha-1.1" in result.stdout


def test_control_characters_are_echoed_escaped(tmp_path: Path, index_server: IndexServer) -> None:
    # A carriage return would move back over "ERROR: ..." and print a fake line on it.
    fake = "\rERROR: all is well\x07"
    invalid = run_roost(
        "install", "--dry-run", "--python", sys.executable, "--target", str(tmp_path / "target"),
        "-i", index_server.url, "alpha" + fake, timeout=TIMEOUT,
    )  # fmt: skip
    # click's own usage errors quote what was typed too.
    extra = run_roost("config", "path", "x" + fake, timeout=TIMEOUT)
    for result in (invalid, extra):
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        assert "\r" not in result.stderr
        assert "\x07" not in result.stderr
        assert "\\rERROR: all is well\\x07" in result.stderr


def test_uninstall_from_a_read_only_venv_changes_nothing(
    tmp_path: Path, index_server: IndexServer
) -> None:
    python = make_venv(tmp_path / "venv")
    root = python.parent.parent
    env = clean_env(tmp_path / "home")
    done = run_roost(
        "install", "--python", str(python), "-i", index_server.url, "alpha==1.1",
        env=env, timeout=TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    before = manifest(root)
    command = [*ROOST_COMMAND, "uninstall", "--python", str(python), "alpha"]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to run as root without the power to write anywhere")
        # Root without capabilities obeys file modes, as any other user does.
        command = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", *command]
    subprocess.run(["chmod", "-R", "a-w", str(root)], check=True)
    try:
        result = subprocess.run(
            command,
            env=env,
            input="y\n",
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(root)], check=True)
    error = clear_failure(result)
    assert "is not writable for this user" in error
    assert "Nothing was changed" in error
    # Refused before asking: nothing to confirm that cannot be done.
    assert "Proceed" not in result.stdout
    assert manifest(root) == before
    assert installed(python) == {"alpha": "1.1"}


# -- item 13: config list --------------------------------------------------------------


def test_config_list_hides_index_passwords(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    env["ROOST_INDEX_URL"] = "https://alice:s3cret-pass@index.example/simple"
    env["PIP_EXTRA_INDEX_URL"] = "https://tok3n-value@extra.example/simple"
    result = run_roost("config", "list", env=env, timeout=TIMEOUT, check=True)
    assert "index-url='https://alice:****@index.example/simple'" in result.stdout
    assert "extra-index-url='https://****@extra.example/simple'" in result.stdout
    assert "s3cret-pass" not in result.stdout + result.stderr
    assert "tok3n-value" not in result.stdout + result.stderr


# -- items 12 and 14: links on hand-written pages ---------------------------------------


class Pages:
    """An HTTP server on 127.0.0.1 answering fixed bodies by path, 404 for the rest."""

    def __init__(self) -> None:
        self.bodies: dict[str, tuple[str, bytes]] = {}
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = pages.bodies.get(self.path)
                if found is None:
                    self.send_error(404)
                    return
                content_type, body = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def page(self, path: str, anchors: list[str]) -> None:
        links = "".join(f'<a href="{href}">file</a>\n' for href in anchors)
        self.bodies[path] = ("text/html", f"<html><body>\n{links}</body></html>\n".encode())


@pytest.fixture
def pages() -> Iterator[Pages]:
    server = Pages()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def test_links_that_leave_the_download_folder_are_skipped(tmp_path: Path, pages: Pages) -> None:
    good = build_wheel(WheelSpec("alpha", "1.0"), tmp_path / "wheels")
    pages.bodies["/files/" + good.name] = ("application/octet-stream", good.read_bytes())
    hostile = [
        "alpha-2.0-py3-none-any.%2F..%2F..%2Fescaped.whl",
        "alpha-3.0-py3-none-any.%00.whl",
    ]
    for name in hostile:
        pages.bodies["/files/" + name] = ("application/octet-stream", good.read_bytes())
    pages.page("/simple/alpha/", [f"../../files/{n}" for n in (good.name, *hostile)])
    python = make_venv(tmp_path / "venv")
    result = run_roost(
        "-v", "install", "--python", str(python), "-i", pages.url + "/simple/", "alpha",
        env=clean_env(tmp_path / "home"), timeout=TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert installed(python) == {"alpha": "1.0"}
    assert "its file name holds a path separator" in result.stderr
    assert "its file name holds a control character" in result.stderr
    assert not list(tmp_path.rglob("escaped.whl"))


def test_a_remote_page_may_link_only_http_files(tmp_path: Path, pages: Pages) -> None:
    good = build_wheel(WheelSpec("alpha", "1.0"), tmp_path / "wheels")
    # A wheel on the user's own disk that a remote page must not make roost install.
    local = build_wheel(WheelSpec("alpha", "7.0"), tmp_path / "local")
    pages.bodies["/files/" + good.name] = ("application/octet-stream", good.read_bytes())
    pages.page(
        "/simple/alpha/",
        [
            "javascript:void(0)/alpha-9.0-py3-none-any.whl",
            "data:application/zip;base64,UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==/alpha-8.0-py3-none-any.whl",
            local.as_uri(),
            f"../../files/{good.name}",
        ],
    )
    python = make_venv(tmp_path / "venv")
    result = run_roost(
        "-v", "install", "--python", str(python), "-i", pages.url + "/simple/", "alpha",
        env=clean_env(tmp_path / "home"), timeout=TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert installed(python) == {"alpha": "1.0"}
    for scheme in ("javascript", "data", "file"):
        assert f"{scheme}: link on a http: page (roost follows only http:, https:" in result.stderr
    assert result.stderr.count("skipped the link") == 3


def test_a_download_never_writes_outside_its_folder(
    tmp_path: Path, pages: Pages, client: Client
) -> None:
    # Links reach the fetcher through the finder, which skips these; a plugin or a
    # caller that hands one over directly is refused where the file would be written.
    wheel = build_wheel(WheelSpec("alpha", "1.0"), tmp_path / "wheels")
    pages.bodies["/files/alpha.whl"] = ("application/octet-stream", wheel.read_bytes())
    downloads = tmp_path / "downloads" / "run"
    downloads.mkdir(parents=True)
    source = IndexSource(pages.url + "/simple/", "index")
    fetcher = Fetcher(client, downloads, WheelCache(tmp_path / "cache", print))
    try:
        for name in ("../escaped.whl", "alpha\x00.whl"):
            link = Link(url=pages.url + "/files/alpha.whl", filename=name, source=source)
            with pytest.raises(IndexAccessError, match="cannot be saved inside roost's folders"):
                fetcher.wheel(link).result()
    finally:
        fetcher.close()
    assert not (tmp_path / "downloads" / "escaped.whl").exists()
    assert list(downloads.iterdir()) == []
