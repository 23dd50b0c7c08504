"""Signing in to the review page over HTTP in every setting it meets: the browser's ``Origin: null``, a
LAN bind, a reverse proxy (``--public-url``, ``--trusted-proxy``), the throttle behind it, refusals a
person can read, sessions that end on logout and on a new password, and parameters that are checked."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from conftest import invoke, swept_copy
from serving import files_under, items, make_swept, served, signed_in

from cleaner.serve.config import parse_public_url

PASSWORD = "correct horse battery"
NAS = "https://nas.example"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_swept(tmp_path_factory.mktemp("template") / "photos")


@pytest.fixture
def root(template: Path, tmp_path: Path) -> Path:
    return swept_copy(template, tmp_path / "photos")


def login_form(s: requests.Session, url: str, headers: dict[str, str] | None = None) -> str:
    form = s.get(url + "login", headers=headers, timeout=10)
    assert form.status_code == 200, form.text
    return re.search(r'name="csrf" value="([^"]+)"', form.text)[1]  # type: ignore[index]


def log_in(s: requests.Session, url: str, password: str, headers: dict[str, str] | None = None) -> requests.Response:
    token = login_form(s, url, headers)
    data = {"csrf": token, "password": password}
    return s.post(url + "login", data=data, headers=headers, allow_redirects=False, timeout=30)


def test_a_login_post_with_origin_null_signs_in_and_a_foreign_origin_is_refused_saying_why(root: Path):
    """What Chromium sends from the login form under Referrer-Policy: no-referrer is ``Origin: null``."""
    with served(root, password=PASSWORD) as running:
        assert requests.get(running.url + "login", timeout=10).headers["Referrer-Policy"] == "same-origin"
        s = requests.Session()
        signed = log_in(s, running.url, PASSWORD, {"Origin": "null"})
        assert signed.status_code == 302 and signed.headers["Location"] == "/", signed.text
        assert "grey.jpg" in items(s, running)

        other = requests.Session()
        refused = log_in(other, running.url, PASSWORD, {"Origin": "http://evil.example"})
        assert refused.status_code == 403 and refused.headers["Content-Type"].startswith("text/html")
        assert "came from a page at http://evil.example" in refused.text and "--public-url" in refused.text
        assert other.get(running.url + "api/items", timeout=10).status_code == 401
        api = other.post(running.url + "api/act", json={"action": "keep", "ids": ["x"]}, timeout=10)
        assert api.status_code == 401 and "not signed in" in api.json()["error"]
        no_cookie = requests.post(running.url + "login", data={"csrf": "x", "password": PASSWORD}, timeout=10)
        assert no_cookie.status_code == 403 and "cookie" in no_cookie.text


def test_behind_a_proxy_the_public_url_is_the_origin_and_forwarded_headers_come_only_from_it(root: Path):
    public = parse_public_url(NAS)
    with served(root, password=PASSWORD, public_url=public, trusted_proxy="127.0.0.1") as running:
        # nginx's default proxy_pass: Host is the page's own, Origin the public URL's
        s = requests.Session()
        assert log_in(s, running.url, PASSWORD, {"Origin": NAS}).status_code == 302
        _, token = signed_in_again(s, running.url)
        tiles = items(s, running)
        kept = s.post(
            running.url + "api/act",
            json={"action": "keep", "ids": [tiles["grey.jpg"]["id"]]},
            headers={"X-CSRF-Token": token, "Origin": NAS},
            timeout=30,
        )
        assert kept.status_code == 200 and (root / "grey.jpg").exists()
        # with the forwarded headers: the page knows it is https://nas.example, and its cookie is Secure
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "nas.example", "X-Forwarded-For": "192.0.2.7"}
        form = requests.get(running.url + "login", headers=forwarded, timeout=10)
        assert form.status_code == 200 and "Secure" in form.headers["Set-Cookie"]  # (so requests keeps it for https)
        # the public URL's name is answered; another name for 127.0.0.1 still is not (DNS rebinding)
        assert requests.get(running.url + "login", headers={"Host": "nas.example"}, timeout=10).status_code == 200
        rebound = requests.get(running.url + "login", headers={"Host": "evil.example"}, timeout=10)
        assert rebound.status_code == 403 and "not as evil.example" in rebound.text

    with served(root, password=PASSWORD, public_url=public, trusted_proxy="192.0.2.1") as running:
        # a peer that is not the proxy: its forwarded headers are dropped, the page stays http
        form = requests.get(running.url + "login", headers={"X-Forwarded-Proto": "https"}, timeout=10)
        assert form.status_code == 200 and "Secure" not in form.headers["Set-Cookie"]
        forged = log_in(requests.Session(), running.url, PASSWORD, {"X-Forwarded-Host": "nas.example", "Origin": NAS})
        assert forged.status_code == 302  # the public URL is an origin the page accepts, from anyone


def signed_in_again(s: requests.Session, url: str) -> tuple[requests.Session, str]:
    page = s.get(url, timeout=10)
    assert page.status_code == 200, page.text
    return s, re.search(r'name="csrf-token" content="([^"]+)"', page.text)[1]  # type: ignore[index]


def test_a_guesser_behind_the_trusted_proxy_cannot_lock_the_owner_out(root: Path, caplog: pytest.LogCaptureFixture):
    with served(root, password=PASSWORD, trusted_proxy="127.0.0.1") as running:
        guesser, owner = {"X-Forwarded-For": "198.51.100.66"}, {"X-Forwarded-For": "198.51.100.1"}
        g = requests.Session()
        for _ in range(3):
            assert "Wrong password." in log_in(g, running.url, "guess-guess", guesser).text
        assert log_in(g, running.url, PASSWORD, guesser).status_code == 429  # the guesser waits
        s = requests.Session()
        assert log_in(s, running.url, PASSWORD, owner).status_code == 302  # the owner does not
        assert "grey.jpg" in items(s, running)

    caplog.set_level(logging.WARNING, logger="face-clean")
    with served(root, password=PASSWORD) as running:  # no trusted proxy: X-Forwarded-For is anyone's to write
        g = requests.Session()
        for n in range(3):
            forged = {"X-Forwarded-For": f"198.51.100.{n}"}
            assert "Wrong password." in log_in(g, running.url, "guess-guess", forged).text
        assert log_in(requests.Session(), running.url, PASSWORD, {"X-Forwarded-For": "203.0.113.9"}).status_code == 429
    assert caplog.text.count("start face-clean with --trusted-proxy 127.0.0.1") == 1  # said once, naming the peer


def test_logout_ends_the_session_even_for_a_copy_of_its_cookie(root: Path):
    with served(root, password=PASSWORD) as running:
        s, token = signed_in(running, PASSWORD)
        stolen = requests.Session()
        stolen.cookies.update(s.cookies)
        assert "grey.jpg" in items(stolen, running)
        out = s.post(running.url + "logout", headers={"X-CSRF-Token": token}, timeout=10)
        assert out.status_code == 200
        assert stolen.get(running.url + "api/items", timeout=10).status_code == 401
        act = {"action": "keep", "ids": ["x"]}
        again = stolen.post(running.url + "api/act", json=act, headers={"X-CSRF-Token": token}, timeout=10)
        assert again.status_code == 401
        assert files_under(root / ".face-clean/review") == {"uncertain/grey.jpg"}


def test_a_changed_password_file_signs_everyone_out_and_the_new_password_holds(root: Path, tmp_path: Path):
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    with served(root, password=PASSWORD, password_file=secret) as running:
        s, _ = signed_in(running, PASSWORD)
        assert "grey.jpg" in items(s, running)
        secret.write_text("a brand new password\n")
        time.sleep(1.2)  # the file is looked at once a second
        assert s.get(running.url + "api/items", timeout=10).status_code == 401
        assert "Wrong password." in log_in(requests.Session(), running.url, PASSWORD).text
        n = requests.Session()
        assert log_in(n, running.url, "a brand new password").status_code == 302
        assert "grey.jpg" in items(n, running)
        secret.unlink()  # gone: everyone out, and no one in (never back to no password)
        time.sleep(1.2)
        assert n.get(running.url + "api/items", timeout=10).status_code == 401
        assert "Wrong password." in log_in(requests.Session(), running.url, "a brand new password").text


@pytest.mark.parametrize("since", ["1" * 40, "²", "-1", "1e3", " 5", "9" * 5000])
def test_every_parameter_is_parsed_with_a_400_that_says_which(root: Path, since: str):
    with served(root) as running:
        s, _ = signed_in(running)
        answer = s.get(running.url + "api/items", params={"since": since}, timeout=10)
        assert answer.status_code == 400 and "since=" in answer.json()["error"]
        assert s.get(running.url + "api/items", params={"since": "3"}, timeout=10).status_code == 200


def test_a_bad_bind_public_url_or_proxy_is_a_usage_error(root: Path, tmp_path: Path):
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    for option in (["--bind", "127.0.0.1:80²"], ["--bind", "127.0.0.1:99999"], ["--bind", "nas²:80"]):
        result = invoke("serve", root, *option)
        assert result.exit_code == 2 and "is not an address to listen on" in result.output, result.output
    for url in ("ftp://nas.example", "https://nas.example/photos", "nas.example", "https://nas.example:99999"):
        result = invoke("serve", root, "--public-url", url, "--password-file", secret)
        assert result.exit_code == 2 and "is not a public URL" in result.output, result.output
    result = invoke("watch", root, "--keep", "Man", "--serve", "0", "--trusted-proxy", "nginx")
    assert result.exit_code == 2 and "is not an address for --trusted-proxy" in result.output, result.output


def test_the_log_names_an_address_a_person_can_open(root: Path, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.INFO, logger="face-clean"), served(root, PASSWORD, bind="0.0.0.0:0") as running:
        port = running.url.rsplit(":", 1)[1].strip("/")
        assert "grey.jpg" in items(signed_in(running, PASSWORD)[0], running)  # reached on 127.0.0.1 only
    said = caplog.text
    assert f"is at http://<this machine's address>:{port}/" in said and f"is at http://127.0.0.1:{port}" not in said
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="face-clean"), served(root, PASSWORD, public_url=parse_public_url(NAS)):
        pass
    assert "is at https://nas.example/" in caplog.text and "--trusted-proxy" in caplog.text


def test_the_public_url_and_proxy_come_from_the_environment_or_a_config_file(root: Path, tmp_path: Path, monkeypatch):
    secret, config = tmp_path / "password", tmp_path / "config.yaml"
    secret.write_text(PASSWORD + "\n")
    config.write_text(f"public_url: {NAS}\n")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "FACE_CLEAN_CONFIG": str(config)}
    env["FACE_CLEAN_TRUSTED_PROXY"] = "127.0.0.1"
    command = [sys.executable, "-m", "cleaner", "serve", str(root), "--bind", "127.0.0.1:0", "--password-file", secret]
    serve = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        said = ""
        while " is at " not in said and serve.poll() is None:
            said += serve.stdout.readline()  # type: ignore[union-attr]
    finally:
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=30)
    assert f"is at {NAS}/" in said and "--trusted-proxy" not in said + out, said + out
    config.write_text("public_url: nas.example\n")
    monkeypatch.setenv("FACE_CLEAN_CONFIG", str(config))
    result = invoke("serve", root, "--password-file", secret)
    assert result.exit_code == 2 and "is not a public URL" in result.output
