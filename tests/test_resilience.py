"""Transient failures end in a verified install within the retry bound; permanent ones
(404, an exhausted bound) fail fast with a clear message. A flaky server of our own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.envs import installed, manifest, run_roost
from tests.support.index import PackageIndex
from tests.support.server import Fault, IndexServer

WHEEL = "/files/delta-*.whl"
PAGE = "/simple/delta/"


@pytest.fixture
def flaky(corpus_index: PackageIndex) -> Iterator[IndexServer]:
    with IndexServer(corpus_index) as server:
        yield server


def install(venv: Path, server: IndexServer, *extra: str, env: dict[str, str]) -> tuple[int, str]:
    result = run_roost(
        "install", "--python", str(venv), "-i", server.url, "--retries", "3", *extra, "delta",
        env=env,
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


def test_503_then_200(venv: Path, flaky: IndexServer, tmp_home: dict[str, str]) -> None:
    flaky.set_fault(PAGE, Fault(status=503))
    flaky.set_fault(WHEEL, Fault(status=502))
    code, output = install(venv, flaky, env=tmp_home)
    assert code == 0, output
    assert installed(venv) == {"delta": "1.0"}
    assert len(flaky.requests_for(PAGE)) == 2
    assert len(flaky.requests_for(WHEEL)) == 2


def test_429_honours_retry_after(venv: Path, flaky: IndexServer, tmp_home: dict[str, str]) -> None:
    flaky.set_fault(PAGE, Fault(status=429, retry_after=1))
    started = time.monotonic()
    code, output = install(venv, flaky, env=tmp_home)
    assert code == 0, output
    assert len(flaky.requests_for(PAGE)) == 2
    assert time.monotonic() - started >= 1.0


def test_reset_in_the_middle_of_the_body(
    venv: Path, flaky: IndexServer, tmp_home: dict[str, str]
) -> None:
    flaky.set_fault(WHEEL, Fault(reset=True, truncate_after=200))
    code, output = install(venv, flaky, env=tmp_home)
    assert code == 0, output
    assert installed(venv) == {"delta": "1.0"}
    # A reset may discard bytes already received, so this is a resume or a restart.
    first, second = flaky.requests_for(WHEEL)
    assert "Range" not in first.headers
    assert second.headers.get("Range", "bytes=200-") == "bytes=200-"


def test_body_shorter_than_content_length(
    venv: Path, flaky: IndexServer, tmp_home: dict[str, str]
) -> None:
    flaky.set_fault(WHEEL, Fault(truncate_after=100, times=2))
    flaky.set_fault(PAGE, Fault(truncate_after=10))
    code, output = install(venv, flaky, env=tmp_home)
    assert code == 0, output
    assert installed(venv) == {"delta": "1.0"}
    wheel_requests = flaky.requests_for(WHEEL)
    assert len(wheel_requests) == 3
    assert len(flaky.requests_for(PAGE)) == 2
    # The cut-short download is resumed where it stopped, then verified whole.
    assert wheel_requests[1].headers.get("Range") == "bytes=100-"


def test_read_timeout_is_retried(venv: Path, flaky: IndexServer, tmp_home: dict[str, str]) -> None:
    flaky.set_fault(PAGE, Fault(delay=2.0))
    code, output = install(venv, flaky, "--timeout", "0.5", env=tmp_home)
    assert code == 0, output
    assert len(flaky.requests_for(PAGE)) == 2


def test_404_is_not_retried(venv: Path, flaky: IndexServer, tmp_home: dict[str, str]) -> None:
    flaky.set_fault(WHEEL, Fault(status=404, times=None))
    before = manifest(venv.parent.parent)
    code, output = install(venv, flaky, env=tmp_home)
    assert code != 0
    assert "404" in output
    assert "Traceback" not in output
    assert len(flaky.requests_for(WHEEL)) == 1
    assert manifest(venv.parent.parent) == before


def test_the_retry_bound_holds(venv: Path, flaky: IndexServer, tmp_home: dict[str, str]) -> None:
    flaky.set_fault(PAGE, Fault(status=503, times=None))
    code, output = install(venv, flaky, "--retries", "2", env=tmp_home)
    assert code != 0
    assert "503" in output
    assert len(flaky.requests_for(PAGE)) == 3


def test_retries_from_pip_configuration(
    venv: Path, flaky: IndexServer, tmp_home: dict[str, str]
) -> None:
    flaky.set_fault(PAGE, Fault(status=503, times=None))
    env = {**tmp_home, "PIP_RETRIES": "1"}
    result = run_roost("install", "--python", str(venv), "-i", flaky.url, "delta", env=env)
    assert result.returncode != 0
    assert len(flaky.requests_for(PAGE)) == 2


def test_a_reset_on_every_attempt_gives_up(
    venv: Path, flaky: IndexServer, tmp_home: dict[str, str]
) -> None:
    flaky.set_fault(WHEEL, Fault(reset=True, times=None))
    code, output = install(venv, flaky, "--retries", "1", env=tmp_home)
    assert code != 0
    assert "after 2 attempt(s)" in output
    assert len(flaky.requests_for(WHEEL)) == 2
    assert installed(venv) == {}


def test_connection_refused_names_the_url(venv: Path, tmp_home: dict[str, str]) -> None:
    result = run_roost(
        "install", "--python", str(venv), "-i", "http://u:hidden-pw@127.0.0.1:1/simple",
        "--retries", "1", "delta", env=tmp_home,
    )  # fmt: skip
    assert result.returncode != 0
    assert "could not get http://u:****@127.0.0.1:1/simple/delta/ after 2 attempt(s)" in (
        result.stderr
    )
    assert "hidden-pw" not in result.stdout + result.stderr


def test_retry_after_is_capped_and_read_as_a_date() -> None:
    import httpx

    from roost.net.failures import MAX_RETRY_AFTER, retry_after

    assert retry_after(httpx.Response(429, headers={"Retry-After": "3600"})) == MAX_RETRY_AFTER
    assert retry_after(httpx.Response(429, headers={"Retry-After": "2"})) == 2.0
    past = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert retry_after(httpx.Response(503, headers={"Retry-After": past})) == 0.0
    assert retry_after(httpx.Response(503)) is None
