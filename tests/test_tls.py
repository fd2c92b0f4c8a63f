"""TLS: the system trust store (truststore), --cert, --client-cert, --trusted-host, fallbacks.

Real HTTPS servers on loopback with certificates from a trustme test CA.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from roost.errors import NetworkError
from roost.manager import Manager
from roost.net.client import Client, host_matches, is_loopback
from roost.types import Settings, SettingsLayer
from tests.support.envs import installed, manifest, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_bundle(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "corp-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def https_server(ca: trustme.CA, corpus_index: PackageIndex) -> Iterator[IndexServer]:
    with IndexServer(corpus_index, ssl_context=server_context(ca)) as server:
        yield server


def install(venv: Path, url: str, *extra: str, env: dict[str, str]) -> tuple[int, str]:
    result = run_roost("install", "--python", str(venv), "-i", url, *extra, "delta", env=env)
    return result.returncode, result.stdout + result.stderr


def test_untrusted_certificate_is_a_clear_error_and_changes_nothing(
    venv: Path, https_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    before = manifest(venv.parent.parent)
    code, output = install(venv, https_server.url, "--retries", "3", env=tmp_home)
    assert code != 0
    assert "TLS verification failed for 127.0.0.1" in output
    assert "not trusted" in output
    for remedy in ("--cert", "SSL_CERT_FILE", "system trust store"):
        assert remedy in output
    assert "Traceback" not in output
    assert manifest(venv.parent.parent) == before
    assert installed(venv) == {}


def test_ssl_cert_file_is_trusted_through_truststore(
    venv: Path, https_server: IndexServer, ca_bundle: Path, tmp_home: dict[str, str]
) -> None:
    env = {**tmp_home, "SSL_CERT_FILE": str(ca_bundle)}
    code, output = install(venv, https_server.url, env=env)
    assert code == 0, output
    assert installed(venv) == {"delta": "1.0"}


def test_cert_option_adds_a_ca_bundle(
    venv: Path, https_server: IndexServer, ca_bundle: Path, tmp_home: dict[str, str]
) -> None:
    code, output = install(venv, https_server.url, "--cert", str(ca_bundle), env=tmp_home)
    assert code == 0, output
    assert installed(venv) == {"delta": "1.0"}


def test_pip_cert_environment_variable(
    venv: Path, https_server: IndexServer, ca_bundle: Path, tmp_home: dict[str, str]
) -> None:
    code, output = install(venv, https_server.url, env={**tmp_home, "PIP_CERT": str(ca_bundle)})
    assert code == 0, output


def test_cert_from_pip_conf_and_roost_env(
    venv: Path,
    https_server: IndexServer,
    ca_bundle: Path,
    tmp_home: dict[str, str],
    tmp_path: Path,
) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\ncert = {ca_bundle}\n")
    code, output = install(venv, https_server.url, env={**tmp_home, "PIP_CONFIG_FILE": str(conf)})
    assert code == 0, output
    code, output = install(
        venv, https_server.url, "--force-reinstall", env={**tmp_home, "ROOST_CERT": str(ca_bundle)}
    )
    assert code == 0, output


def test_unreadable_cert_names_the_setting(
    venv: Path, https_server: IndexServer, tmp_home: dict[str, str], tmp_path: Path
) -> None:
    code, output = install(
        venv, https_server.url, "--cert", str(tmp_path / "missing.pem"), env=tmp_home
    )
    assert code != 0
    assert "missing.pem" in output
    assert "Traceback" not in output


def test_blocking_truststore_falls_back_to_the_stdlib_context(
    venv: Path, https_server: IndexServer, ca_bundle: Path, tmp_home: dict[str, str]
) -> None:
    args = ("-p", "no:truststore_tls", "install", "--python", str(venv), "-i", https_server.url)
    # The fallback has no --cert option (truststore_tls adds it) but reads the setting.
    result = run_roost(*args, "delta", env={**tmp_home, "ROOST_CERT": str(ca_bundle)})
    assert result.returncode == 0, result.stderr
    result = run_roost(*args, "--force-reinstall", "delta", env=tmp_home)
    assert result.returncode != 0
    assert "TLS verification failed" in result.stderr


def test_a_third_party_plugin_replaces_the_context(
    venv: Path,
    https_server: IndexServer,
    ca_bundle: Path,
    tmp_home: dict[str, str],
    tmp_path: Path,
) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "corp_tls.py").write_text(
        "import ssl\n"
        "from roost import hookimpl\n"
        "@hookimpl\n"
        "def roost_ssl_context(settings):\n"
        f"    return ssl.create_default_context(cafile={str(ca_bundle)!r})\n"
    )
    env = {**tmp_home, "PYTHONPATH": str(plugins)}
    result = run_roost(
        "-p", "corp_tls", "install", "--python", str(venv), "-i", https_server.url, "delta",
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert installed(venv) == {"delta": "1.0"}


def test_client_certificate_for_mutual_tls(
    venv: Path, ca: trustme.CA, ca_bundle: Path, corpus_index: PackageIndex,
    tmp_home: dict[str, str],
) -> None:  # fmt: skip
    tmp_path = Path(tmp_home["HOME"]).parent
    context = server_context(ca)
    context.verify_mode = ssl.CERT_REQUIRED
    ca.configure_trust(context)
    client_pem = tmp_path / "client.pem"
    ca.issue_cert("roost-client@corp.example").private_key_and_cert_chain_pem.write_to_path(
        str(client_pem)
    )
    with IndexServer(corpus_index, ssl_context=context) as server:
        code, output = install(venv, server.url, "--cert", str(ca_bundle), env=tmp_home)
        assert code != 0
        assert "TLS connection to 127.0.0.1 failed" in output
        assert "--client-cert" in output
        assert "Traceback" not in output
        code, output = install(
            venv, server.url, "--cert", str(ca_bundle), "--client-cert", str(client_pem),
            env=tmp_home,
        )  # fmt: skip
        assert code == 0, output
    assert installed(venv) == {"delta": "1.0"}


def test_trusted_host_accepts_a_self_signed_certificate(
    venv: Path, corpus_index: PackageIndex, tmp_home: dict[str, str]
) -> None:
    other = trustme.CA()  # trusted by nobody
    with IndexServer(corpus_index, ssl_context=server_context(other)) as server:
        code, output = install(
            venv, server.url, "--trusted-host", f"127.0.0.1:{server.port}", env=tmp_home
        )
        assert code == 0, output
        # Another port of the same host is still verified.
        code, output = install(
            venv, server.url, "--force-reinstall", "--trusted-host", "127.0.0.1:1", env=tmp_home
        )
        assert code != 0
        assert "TLS verification failed" in output
    assert installed(venv) == {"delta": "1.0"}


def test_trusted_host_with_plain_http(
    venv: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    code, output = install(venv, index_server.url, "--trusted-host", "127.0.0.1", env=tmp_home)
    assert code == 0, output


def test_trusted_host_from_pip_environment(
    venv: Path, corpus_index: PackageIndex, tmp_home: dict[str, str]
) -> None:
    with IndexServer(corpus_index, ssl_context=server_context(trustme.CA())) as server:
        env = {**tmp_home, "PIP_TRUSTED_HOST": "127.0.0.1"}
        code, output = install(venv, server.url, env=env)
        assert code == 0, output


class CountingTLSServer:
    """Accepts connections, counts them and fails the TLS handshake (untrusted cert)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            try:
                with self.context.wrap_socket(conn, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                pass

    def close(self) -> None:
        self.sock.close()


def test_tls_verification_failure_is_not_retried(venv: Path, tmp_home: dict[str, str]) -> None:
    server = CountingTLSServer(server_context(trustme.CA()))
    try:
        url = f"https://127.0.0.1:{server.port}/simple"
        code, output = install(venv, url, "--retries", "4", env=tmp_home)
        assert code != 0
        assert "TLS verification failed for 127.0.0.1" in output
        # One connection: a retry would have connected again (the count, not the
        # clock, is the proof; timing assertions are not allowed in tests).
        assert server.connections == 1
    finally:
        server.close()


@pytest.mark.parametrize(
    ("pattern", "host", "port", "expected"),
    [
        ("index.corp.example", "index.corp.example", 443, True),
        ("INDEX.corp.example", "index.corp.example", 8443, True),
        ("index.corp.example:8443", "index.corp.example", 8443, True),
        ("index.corp.example:8443", "index.corp.example", 443, False),
        ("corp.example", "index.corp.example", 443, False),
        ("[::1]:8080", "::1", 8080, True),
        ("::1", "::1", 8080, True),
    ],
)
def test_trusted_host_matching(pattern: str, host: str, port: int, expected: bool) -> None:
    assert host_matches(pattern, host, port) is expected


def test_loopback_hosts() -> None:
    assert is_loopback("localhost")
    assert is_loopback("127.0.0.5")
    assert is_loopback("::1")
    assert not is_loopback("index.corp.example")
    assert not is_loopback("10.0.0.1")


def client_settings(**values: str | tuple[str, ...]) -> Settings:
    return Settings((SettingsLayer("test", values),))


def test_plain_http_to_a_remote_host_is_refused_unless_trusted() -> None:
    # A dead loopback proxy: if roost did connect, it would go there, never further.
    manager = Manager.build(warn=lambda message: None)
    url = "http://index.corp.example/simple/delta/"
    settings = client_settings(proxy="http://127.0.0.1:1", retries="0")
    refused = r"refusing plain http to index\.corp\.example"
    with Client(manager, settings) as client, pytest.raises(NetworkError, match=refused):
        client.get(url)
    settings = client_settings(
        proxy="http://127.0.0.1:1", retries="0", **{"trusted-host": ("index.corp.example",)}
    )
    via = r"through the proxy http://127\.0\.0\.1:1"
    with Client(manager, settings) as client, pytest.raises(NetworkError, match=via):
        client.get(url)
