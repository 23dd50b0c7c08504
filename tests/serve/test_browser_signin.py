"""Signing in with a password in Debian's Chromium (headless, through playwright) in each setting a
person meets, then keeping and rejecting photos and seeing the files move: (a) on 127.0.0.1, (b) bound
to every address (0.0.0.0, reached on 127.0.0.1 only), (c) behind nginx with TLS as nas.example, both
with nginx's plain ``proxy_pass`` and with the forwarded headers of docs/nas/reverse-proxy.md, and
behind Caddy's ``reverse_proxy``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ci import unavailable
from conftest import CHROMIUM, audit_records, swept_copy
from proxying import NAME, caddy, free_port, nginx
from serving import LOG, Q, R, files_under, make_swept, served, tile, until

from cleaner.serve.config import parse_public_url

PASSWORD = "correct horse battery"
FLAGS = [  # as a test wants it: no sandbox (root in CI), nothing fetched in the background
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--metrics-recording-only",
    f"--host-resolver-rules=MAP {NAME} 127.0.0.1",  # nas.example is this machine, for this browser only
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM:
        unavailable("chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_swept(tmp_path_factory.mktemp("template") / "photos")


def sign_in_keep_and_reject(chromium, url: str, root: Path, who: str) -> None:
    """Open ``url``, sign in with the password, keep grey.jpg (from review), reject man.jpg (kept)."""
    context = chromium.new_context(ignore_https_errors=True)  # the test's own self-signed certificate
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    try:
        tab.goto(url)
        assert tab.url == url + "login", tab.url  # no session: the sign-in page
        tab.fill('input[name="password"]', "not the password")
        tab.click('button[type="submit"]')
        assert "Wrong password." in tab.inner_text("body")
        tab.fill('input[name="password"]', PASSWORD)
        tab.click('button[type="submit"]')
        tab.wait_for_selector("body[data-ready]", timeout=20_000)  # Forbidden, here, on main: Origin null
        assert tab.url == url
        tab.click(tile(tab, "grey.jpg") + " button.keep")
        until(tab, "faceCleanServe().done === 1")
        tab.click(tile(tab, "man.jpg") + " button.reject")
        until(tab, "faceCleanServe().done === 2")
        assert errors == []
    finally:
        context.close()
    assert (root / "grey.jpg").exists() and files_under(root / R) == set()
    assert not (root / "man.jpg").exists() and files_under(root / Q / "rejected") == {"man.jpg"}
    people = [(r["path"], r["action"], r["who"]) for r in audit_records(root / LOG) if r["decided_by"] == "person"]
    assert people == [("grey.jpg", "keep", who), ("man.jpg", "reject", who)]


@pytest.mark.parametrize("bind", ["127.0.0.1:0", "0.0.0.0:0"])
def test_sign_in_with_a_password_then_keep_and_reject(chromium, template: Path, tmp_path: Path, bind: str):
    root = swept_copy(template, tmp_path / "photos")
    with served(root, PASSWORD, bind=bind) as running:
        assert running.url.startswith("http://127.0.0.1:")  # bound to 0.0.0.0, reached on loopback only
        sign_in_keep_and_reject(chromium, running.url, root, "web (127.0.0.1)")


@pytest.mark.parametrize("forwarded", [False, True], ids=["plain-proxy-pass", "forwarded-headers"])
def test_sign_in_through_nginx_with_tls_then_keep_and_reject(chromium, template: Path, tmp_path: Path, forwarded):
    root = swept_copy(template, tmp_path / "photos")
    port = free_port()
    public = parse_public_url(f"https://{NAME}:{port}")
    proxy = "127.0.0.1" if forwarded else None
    with served(root, PASSWORD, public_url=public, trusted_proxy=proxy) as running:
        with nginx(tmp_path / "nginx", running.url, forwarded, port) as url:
            assert url == public.origin + "/"
            # behind the trusted proxy the client is the browser (127.0.0.1 too, here), not the proxy
            sign_in_keep_and_reject(chromium, url, root, "web (127.0.0.1)")


def test_sign_in_through_caddy_with_tls_then_keep_and_reject(chromium, template: Path, tmp_path: Path):
    root = swept_copy(template, tmp_path / "photos")
    port = free_port()
    public = parse_public_url(f"https://{NAME}:{port}")
    with served(root, PASSWORD, public_url=public, trusted_proxy="127.0.0.1") as running:
        with caddy(tmp_path / "caddy", running.url, port) as url:
            sign_in_keep_and_reject(chromium, url, root, "web (127.0.0.1)")
