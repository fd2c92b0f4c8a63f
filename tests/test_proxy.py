"""Proxies: a real forwarding proxy (proxy.py) on loopback, reached through the
environment (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY), --proxy and ROOST_PROXY."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from roost.net.client import no_proxy_matches, proxy_for
from tests.support.envs import installed, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer

PROXY_USER, PROXY_PASSWORD = "proxyuser", "s3cret-proxy-pw"


class ForwardProxy:
    """proxy.py in a subprocess on 127.0.0.1, with its access log in a file."""

    def __init__(self, folder: Path, *extra: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / "access.log"
        port_file = folder / "port"
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", "0",
                "--port-file", str(port_file), "--num-workers", "1", "--num-acceptors", "1",
                "--log-file", str(self.log), *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=folder,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("proxy.py did not start")
            time.sleep(0.05)
        self.port = int(port_file.read_text().split()[0])
        self.url = f"http://127.0.0.1:{self.port}"

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def saw(self, text: str) -> bool:
        # The access log is written as the connection closes; give it a moment.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines()):
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_bundle(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "corp-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="module")
def https_server(ca: trustme.CA, corpus_index: PackageIndex) -> Iterator[IndexServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with IndexServer(corpus_index, ssl_context=context) as server:
        yield server


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForwardProxy]:
    server = ForwardProxy(tmp_path_factory.mktemp("proxy"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def auth_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForwardProxy]:
    folder = tmp_path_factory.mktemp("auth-proxy")
    server = ForwardProxy(folder, "--basic-auth", f"{PROXY_USER}:{PROXY_PASSWORD}")
    yield server
    server.stop()


def roost_install(
    venv: Path, index: str, *extra: str, env: dict[str, str], verbose: bool = False
) -> tuple[int, str]:
    result = run_roost(
        *(["-v"] if verbose else []),
        "install",
        "--python",
        str(venv),
        "-i",
        index,
        *extra,
        "delta",
        env=env,
    )
    return result.returncode, result.stdout + result.stderr


def test_https_index_through_https_proxy_from_the_environment(
    venv: Path,
    https_server: IndexServer,
    proxy: ForwardProxy,
    ca_bundle: Path,
    tmp_home: dict[str, str],
) -> None:
    env = {**tmp_home, "HTTPS_PROXY": proxy.url, "SSL_CERT_FILE": str(ca_bundle)}
    code, output = roost_install(venv, https_server.url, env=env)
    assert code == 0, output
    assert installed(venv) == {"delta": "1.0"}
    assert proxy.saw(f"CONNECT 127.0.0.1:{https_server.port}")


def test_lowercase_and_all_proxy(
    venv: Path, https_server: IndexServer, proxy: ForwardProxy, tmp_home: dict[str, str],
    ca_bundle: Path,
) -> None:  # fmt: skip
    # Lowercase wins over uppercase, as in curl and urllib.
    env = {**tmp_home, "https_proxy": proxy.url, "HTTPS_PROXY": "http://127.0.0.1:1"}
    code, output = roost_install(venv, https_server.url, "--cert", str(ca_bundle), env=env)
    assert code == 0, output
    env = {**tmp_home, "ALL_PROXY": proxy.url}
    code, output = roost_install(
        venv, https_server.url, "--cert", str(ca_bundle), "--force-reinstall", env=env
    )
    assert code == 0, output


def test_plain_http_index_through_http_proxy(
    venv: Path, index_server: IndexServer, proxy: ForwardProxy, tmp_home: dict[str, str]
) -> None:
    code, output = roost_install(venv, index_server.url, env={**tmp_home, "HTTP_PROXY": proxy.url})
    assert code == 0, output
    assert proxy.saw(f"127.0.0.1:{index_server.port}/simple/delta/")


def test_no_proxy_bypasses_the_proxy(
    venv: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    dead = "http://127.0.0.1:1"
    env = {**tmp_home, "HTTP_PROXY": dead, "NO_PROXY": "localhost,127.0.0.1"}
    code, output = roost_install(venv, index_server.url, env=env)
    assert code == 0, output
    env = {**tmp_home, "HTTP_PROXY": dead}
    code, output = roost_install(
        venv, index_server.url, "--retries", "0", "--force-reinstall", env=env
    )
    assert code != 0
    assert "through the proxy http://127.0.0.1:1" in output


def test_proxy_option_with_credentials_is_redacted(
    venv: Path,
    https_server: IndexServer,
    auth_proxy: ForwardProxy,
    ca_bundle: Path,
    tmp_home: dict[str, str],
) -> None:
    with_login = f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{auth_proxy.port}"
    code, output = roost_install(
        venv,
        https_server.url,
        "--proxy",
        with_login,
        "--cert",
        str(ca_bundle),
        env=tmp_home,
        verbose=True,
    )
    assert code == 0, output
    assert PROXY_PASSWORD not in output
    assert auth_proxy.saw(f"CONNECT 127.0.0.1:{https_server.port}")

    wrong = f"http://{PROXY_USER}:wrong-pw-123@127.0.0.1:{auth_proxy.port}"
    code, output = roost_install(
        venv, https_server.url, "--proxy", wrong, "--cert", str(ca_bundle),
        "--force-reinstall", env=tmp_home, verbose=True,
    )  # fmt: skip
    assert code != 0
    assert "wrong-pw-123" not in output
    assert f"{PROXY_USER}:****@127.0.0.1:{auth_proxy.port}" in output
    assert "407" in output


def test_roost_proxy_setting(
    venv: Path, https_server: IndexServer, auth_proxy: ForwardProxy, ca_bundle: Path,
    tmp_home: dict[str, str],
) -> None:  # fmt: skip
    with_login = f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{auth_proxy.port}"
    env = {**tmp_home, "ROOST_PROXY": with_login, "ROOST_CERT": str(ca_bundle)}
    code, output = roost_install(venv, https_server.url, env=env, verbose=True)
    assert code == 0, output
    assert PROXY_PASSWORD not in output
    assert installed(venv) == {"delta": "1.0"}


def test_proxy_from_pip_conf(
    venv: Path, index_server: IndexServer, proxy: ForwardProxy, tmp_home: dict[str, str],
    tmp_path: Path,
) -> None:  # fmt: skip
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nproxy = {proxy.url}\n")
    code, output = roost_install(
        venv, index_server.url, "--no-deps", env={**tmp_home, "PIP_CONFIG_FILE": str(conf)}
    )
    assert code == 0, output
    assert proxy.saw(f"127.0.0.1:{index_server.port}/simple/delta/")


def test_https_proxy_is_verified_with_the_same_context(
    venv: Path, https_server: IndexServer, ca: trustme.CA, ca_bundle: Path,
    tmp_home: dict[str, str],
) -> None:  # fmt: skip
    tmp_path = Path(tmp_home["HOME"]).parent
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file = tmp_path / "proxy.crt", tmp_path / "proxy.key"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    tls_proxy = ForwardProxy(
        tmp_path / "tls-proxy", "--cert-file", str(cert_file), "--key-file", str(key_file)
    )
    try:
        url = f"https://127.0.0.1:{tls_proxy.port}"
        env = {**tmp_home, "HTTPS_PROXY": url, "SSL_CERT_FILE": str(ca_bundle)}
        code, output = roost_install(venv, https_server.url, env=env)
        assert code == 0, output
        assert tls_proxy.saw(f"CONNECT 127.0.0.1:{https_server.port}")
        # Without the CA, the proxy's own certificate is refused.
        env = {**tmp_home, "HTTPS_PROXY": url}
        code, output = roost_install(venv, https_server.url, "--force-reinstall", env=env)
        assert code != 0
        assert "not trusted" in output
    finally:
        tls_proxy.stop()


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "expected"),
    [
        ("*", "index.corp.example", 443, True),
        ("corp.example", "index.corp.example", 443, True),
        (".corp.example", "index.corp.example", 443, True),
        ("corp.example", "notcorp.example", 443, False),
        ("index.corp.example:8443", "index.corp.example", 443, False),
        ("index.corp.example:8443", "index.corp.example", 8443, True),
        ("10.0.0.0/8", "10.1.2.3", 443, True),
        ("10.0.0.0/8", "index.corp.example", 443, False),
        (" a.example , index.corp.example ", "index.corp.example", 443, True),
        ("", "index.corp.example", 443, False),
    ],
)
def test_no_proxy_matching(no_proxy: str, host: str, port: int, expected: bool) -> None:
    assert no_proxy_matches(no_proxy, host, port) is expected


def test_proxy_for_choices() -> None:
    env = {
        "HTTP_PROXY": "proxy.corp.example:3128",
        "https_proxy": "http://tls-proxy.corp.example:3128",
        "NO_PROXY": "internal.corp.example",
    }
    url = "https://index.corp.example/simple/"
    assert proxy_for(url, None, env) == "http://tls-proxy.corp.example:3128"
    assert proxy_for("http://index.corp.example/", None, env) == "http://proxy.corp.example:3128"
    assert proxy_for("https://internal.corp.example/", None, env) is None
    assert proxy_for(url, "http://cli.corp.example:8080", env) == "http://cli.corp.example:8080"
    assert proxy_for(url, None, {"ALL_PROXY": "socks5://s.corp.example"}) == (
        "socks5://s.corp.example"
    )
    assert proxy_for(url, None, {}) is None
