"""Private indexes: credentials in URLs, .netrc, a keyring backend; 401/403 are hard
errors without fall-through; passwords never shown; Authorization never leaves its origin."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from roost.manager import Manager
from roost.net.client import Client
from roost.plugins.keyring_auth import service_names
from roost.types import Settings
from tests.support.envs import installed, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer

USER, PASSWORD = "alice", "pa55-w0rd-XYZ"


@pytest.fixture(scope="module")
def private(corpus_index: PackageIndex) -> Iterator[IndexServer]:
    with IndexServer(corpus_index, auth=(USER, PASSWORD)) as server:
        yield server


@pytest.fixture
def public(corpus_index: PackageIndex) -> Iterator[IndexServer]:
    with IndexServer(corpus_index) as server:
        yield server


def with_login(server: IndexServer, user: str = USER, password: str = PASSWORD) -> str:
    return server.url.replace("http://", f"http://{user}:{password}@")


def roost(venv: Path, *args: str, env: dict[str, str], verbose: bool = False) -> tuple[int, str]:
    result = run_roost(
        *(["-v"] if verbose else []), "install", "--python", str(venv), *args, env=env
    )
    return result.returncode, result.stdout + result.stderr


def test_credentials_in_the_index_url(
    venv: Path, private: IndexServer, tmp_home: dict[str, str]
) -> None:
    code, output = roost(venv, "-i", with_login(private), "beta", env=tmp_home, verbose=True)
    assert code == 0, output
    assert installed(venv) == {"alpha": "1.1", "beta": "1.0"}
    assert PASSWORD not in output
    # Files on the same origin got the index's credentials too.
    assert private.requests_for("/files/*")
    assert all("Authorization" in r.headers for r in private.requests_for("/files/*"))


def test_netrc_in_home(venv: Path, private: IndexServer, tmp_home: dict[str, str]) -> None:
    netrc = Path(tmp_home["HOME"]) / ".netrc"
    netrc.write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
    netrc.chmod(0o600)
    code, output = roost(venv, "-i", private.url, "delta", env=tmp_home, verbose=True)
    assert code == 0, output
    assert PASSWORD not in output


def test_netrc_named_by_the_environment(
    venv: Path, private: IndexServer, tmp_home: dict[str, str]
) -> None:
    netrc = Path(tmp_home["HOME"]).parent / "corp-netrc"
    netrc.write_text(f"machine 127.0.0.1\n  login {USER}\n  password {PASSWORD}\n")
    netrc.chmod(0o600)
    code, output = roost(venv, "-i", private.url, "delta", env={**tmp_home, "NETRC": str(netrc)})
    assert code == 0, output


def test_missing_credentials_are_a_clear_error(
    venv: Path, private: IndexServer, tmp_home: dict[str, str]
) -> None:
    code, output = roost(venv, "-i", private.url, "delta", env=tmp_home)
    assert code != 0
    assert f"the index at http://127.0.0.1:{private.port} answered 401" in output
    assert "needs credentials" in output
    assert "netrc" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("verbose", [False, True])
def test_wrong_credentials_fail_without_falling_through(
    venv: Path, private: IndexServer, public: IndexServer, tmp_home: dict[str, str], verbose: bool
) -> None:
    # The private index is asked first (extra indexes come before the main one).
    args = ("--extra-index-url", with_login(private, password="wr0ng-secret"), "-i", public.url)
    code, output = roost(venv, *args, "delta", env=tmp_home, verbose=verbose)
    assert code != 0
    assert "401" in output
    assert "credentials sent were refused" in output
    assert f"{USER}:****@127.0.0.1:{private.port}" in output
    assert "wr0ng-secret" not in output
    assert public.requests_for("/simple/*") == []
    assert installed(venv) == {}


def test_forbidden_is_a_hard_error_too(
    venv: Path, corpus_index: PackageIndex, public: IndexServer, tmp_home: dict[str, str]
) -> None:
    from tests.support.server import Fault

    with IndexServer(corpus_index) as forbidding:
        forbidding.set_fault("/simple/*", Fault(status=403, times=None))
        url = forbidding.url.replace("http://", "http://tok3n-abc@")
        code, output = roost(
            venv, "--extra-index-url", url, "-i", public.url, "delta", env=tmp_home, verbose=True
        )
        port = forbidding.port
    assert code != 0
    assert "403" in output
    assert "tok3n-abc" not in output
    assert f"****@127.0.0.1:{port}" in output
    assert public.requests_for("/simple/*") == []


KEYRING_BACKEND = '''
import json, os
from keyring.backend import KeyringBackend
from keyring.credentials import SimpleCredential


class FileKeyring(KeyringBackend):
    """A keyring backend over a JSON file {service: [user, password]}."""

    priority = 1

    def _entries(self):
        with open(os.environ["ROOST_TEST_KEYRING"]) as handle:
            return json.load(handle)

    def get_credential(self, service, username):
        with open(os.environ["ROOST_TEST_KEYRING"] + ".log", "a") as log:
            log.write(service + "\\n")
        entry = self._entries().get(service)
        if entry is None or (username is not None and entry[0] != username):
            return None
        return SimpleCredential(*entry)

    def get_password(self, service, username):
        found = self.get_credential(service, username)
        return None if found is None else found.password

    def set_password(self, service, username, password):
        raise NotImplementedError

    def delete_password(self, service, username):
        raise NotImplementedError
'''


def keyring_backend(tmp_home: dict[str, str], port: int) -> tuple[Path, dict[str, str]]:
    """A file-backed keyring holding the login for 127.0.0.1:*port*; its store and the
    environment that makes roost's keyring use it (each call is logged to store.log)."""
    folder = Path(tmp_home["HOME"]).parent / "keyring-backend"
    folder.mkdir()
    (folder / "roost_test_keyring.py").write_text(KEYRING_BACKEND)
    store = folder / "store.json"
    store.write_text(json.dumps({f"127.0.0.1:{port}": [USER, PASSWORD]}))
    env = {
        **tmp_home,
        "PYTHONPATH": str(folder),
        "PYTHON_KEYRING_BACKEND": "roost_test_keyring.FileKeyring",
        "ROOST_TEST_KEYRING": str(store),
    }
    return store, env


def test_keyring_backend_supplies_credentials(
    venv: Path, private: IndexServer, tmp_home: dict[str, str]
) -> None:
    store, env = keyring_backend(tmp_home, private.port)
    private.clear_requests()
    code, output = roost(venv, "-i", private.url, "delta", env=env, verbose=True)
    assert code == 0, output
    assert PASSWORD not in output
    # Asked once, after the index's first 401 (as pip and uv ask a keyring).
    assert private.requests[0].headers.get("Authorization") is None
    asked = Path(f"{store}.log").read_text().splitlines()
    assert asked and asked[-1] == f"127.0.0.1:{private.port}"
    # Blocked, the keyring is not asked and the index refuses.
    result = run_roost(
        "-p", "no:keyring_auth", "install", "--python", str(venv), "-i", private.url,
        "--force-reinstall", "delta", env=env,
    )  # fmt: skip
    assert result.returncode != 0
    assert "401" in result.stderr


def test_keyring_is_not_asked_by_an_index_that_needs_no_login(
    venv: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    store, env = keyring_backend(tmp_home, index_server.port)
    code, output = roost(venv, "-i", index_server.url, "delta", env=env)
    assert code == 0, output
    assert not Path(f"{store}.log").exists()


def test_keyring_service_names() -> None:
    assert service_names("https://index.corp.example:8443/simple/x/") == [
        "https://index.corp.example:8443/simple/x/",
        "https://index.corp.example:8443",
        "index.corp.example:8443",
        "index.corp.example",
    ]


class Redirector:
    """Answers every GET with a redirect to *target* + path, recording the headers it got."""

    def __init__(self, target: str) -> None:
        self.seen: list[dict[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.seen.append(dict(self.headers.items()))
                self.send_response(302)
                self.send_header("Location", target + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_authorization_is_dropped_on_a_redirect_to_another_origin(
    venv: Path, public: IndexServer, tmp_home: dict[str, str]
) -> None:
    redirector = Redirector(public.root_url)
    try:
        url = f"http://{USER}:{PASSWORD}@127.0.0.1:{redirector.port}/simple"
        code, output = roost(venv, "-i", url, "delta", env=tmp_home, verbose=True)
    finally:
        redirector.close()
    assert code == 0, output
    assert redirector.seen and all("Authorization" in h for h in redirector.seen)
    assert public.requests
    assert not [r for r in public.requests if "Authorization" in r.headers]
    assert PASSWORD not in output


def test_same_origin_redirect_keeps_inline_credentials(private: IndexServer) -> None:
    manager = Manager.build(warn=lambda message: None)
    with Client(manager, Settings()) as client:
        response = client.get(with_login(private) + "/Delta/")
    assert response.status_code == 200
    assert str(response.url).endswith("/simple/delta/")
    assert PASSWORD not in str(response.url)
