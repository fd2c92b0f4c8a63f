"""Requirements files that include others, parsed as pip parses them: ``-r`` and ``-c``
relative to the including file, options from nested files, recursion refused with both
files named, missing and unreadable files, ``file:`` URLs, and includes fetched from a
real loopback HTTP server (credentials kept out of errors)."""

from __future__ import annotations

import functools
import http.server
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from roost.errors import RequirementError
from roost.resolve.reqfile import parse_requirements_file
from tests.support.reqfiles import names, parse, write

# --- nested files -------------------------------------------------------------------


def test_nested_files_are_inlined_relative_to_the_including_file(tmp_path: Path) -> None:
    write(tmp_path / "base" / "common.txt", "beta\n-r ../more/extra.txt\n")
    write(tmp_path / "more" / "extra.txt", "gamma\n")
    write(tmp_path / "base" / "pins.txt", "beta==2\n")
    top = write(
        tmp_path / "requirements.txt",
        "alpha\n-r base/common.txt\n--constraint=base/pins.txt\ndelta\n",
    )
    result = parse_requirements_file(top, env={})
    assert names(result) == ["alpha", "beta", "gamma", "beta==2", "delta"]
    assert [r.constraint for r in result.requirements] == [False, False, False, True, False]
    assert result.requirements[2].origin == f"{tmp_path / 'more' / 'extra.txt'}:1"


def test_options_in_nested_files_apply(tmp_path: Path) -> None:
    write(tmp_path / "idx.txt", "-i https://nested.invalid/simple\n--require-hashes\n")
    result = parse(tmp_path, "--requirement idx.txt\n")
    assert result.index_url == "https://nested.invalid/simple"
    assert result.require_hashes


def test_constraint_file_and_what_it_includes(tmp_path: Path) -> None:
    write(tmp_path / "more-pins.txt", "gamma<3\n")
    write(tmp_path / "reqs.txt", "delta\n")
    path = write(tmp_path / "c.txt", "alpha<2\n-c more-pins.txt\n-r reqs.txt\n")
    result = parse_requirements_file(path, constraint=True, env={})
    by_name = {r.requirement.name: r.constraint for r in result.requirements if r.requirement}
    # As in pip: ``-c`` includes constraints and ``-r`` includes requirements,
    # whichever kind of file the line is in.
    assert by_name == {"alpha": True, "gamma": True, "delta": False}


def test_direct_recursion_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RequirementError, match="recursively") as info:
        parse(tmp_path, "alpha\n-r requirements.txt\n")
    assert "requirements.txt:2" in str(info.value)


def test_indirect_recursion_names_both_files(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "-r sub/b.txt\n")
    write(tmp_path / "sub" / "b.txt", "alpha\n-c ../a.txt\n")
    with pytest.raises(RequirementError) as info:
        parse_requirements_file(tmp_path / "a.txt", env={})
    message = str(info.value)
    assert f"{tmp_path / 'sub' / 'b.txt'}:2" in message
    assert "a.txt includes itself recursively" in message


def test_a_file_included_twice_side_by_side_is_not_recursion(tmp_path: Path) -> None:
    write(tmp_path / "shared.txt", "zeta\n")
    write(tmp_path / "one.txt", "-r shared.txt\n")
    write(tmp_path / "two.txt", "-r shared.txt\n")
    result = parse(tmp_path, "-r one.txt\n-r two.txt\n")
    assert names(result) == ["zeta", "zeta"]


def test_missing_nested_file(tmp_path: Path) -> None:
    with pytest.raises(RequirementError) as info:
        parse(tmp_path, "alpha\n-c nope.txt\n")
    message = str(info.value)
    assert "(from line 2 of " in message and "requirements.txt)" in message
    assert message.startswith("Could not open requirements file: [Errno 2]")
    assert f"{tmp_path / 'nope.txt'}'" in message


def test_missing_top_level_file(tmp_path: Path) -> None:
    with pytest.raises(RequirementError, match=r"^Could not open requirements file:.*absent\.txt"):
        parse_requirements_file(tmp_path / "absent.txt")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(RequirementError, match=r"^Could not open requirements file: \[Errno 21\]"):
        parse_requirements_file(tmp_path)  # a directory


def test_file_url_as_top_level(tmp_path: Path) -> None:
    write(tmp_path / "nested.txt", "beta\n")
    path = write(tmp_path / "r.txt", "alpha\n-r nested.txt\n")
    assert names(parse_requirements_file(path.as_uri(), env={})) == ["alpha", "beta"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on loopback serving tmp_path/www."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def http_fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")  # type: ignore[no-any-return]


def test_remote_includes_use_fetch_and_url_joins(tmp_path: Path, served: str) -> None:
    write(tmp_path / "www" / "reqs" / "top.txt", "alpha\n-r ../pins/more.txt\n")
    write(tmp_path / "www" / "pins" / "more.txt", "beta==1\n")
    local = write(tmp_path / "local.txt", f"-r {served}/reqs/top.txt\ngamma\n")
    result = parse_requirements_file(local, env={}, fetch=http_fetch)
    assert names(result) == ["alpha", "beta==1", "gamma"]
    assert result.requirements[1].origin == f"{served}/pins/more.txt:1"


def test_remote_include_without_fetch_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RequirementError) as info:
        parse(tmp_path, "-r https://user:hunter2@h.invalid/r.txt\n")
    message = str(info.value)
    assert "requirements.txt:1" in message
    assert "hunter2" not in message and "user:****@h.invalid" in message
