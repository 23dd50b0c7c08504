"""The review page over HTTP: who may start it where, who may read and act, and that nothing a request
names can reach a file the page did not offer."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests
from conftest import audit_records, invoke, sha256, swept_copy
from serving import LOG, Q, R, files_under, items, make_swept, served, signed_in

from cleaner.paths import Layout
from cleaner.pipeline.lock import lock_layout

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_swept(tmp_path_factory.mktemp("template") / "photos")


@pytest.fixture
def root(template: Path, tmp_path: Path) -> Path:
    return swept_copy(template, tmp_path / "photos")


def everything(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): sha256(p) for p in root.rglob("*") if p.is_file() and "state.db" not in p.name
    }


@pytest.mark.parametrize("command", ["serve", "watch"])
def test_a_public_address_without_a_password_refuses_to_start(root: Path, tmp_path: Path, monkeypatch, command):
    for name in ("FACE_CLEAN_PASSWORD", "FACE_CLEAN_PASSWORD_FILE"):
        monkeypatch.delenv(name, raising=False)
    option = "--bind" if command == "serve" else "--serve"
    result = invoke(command, root, option, "0.0.0.0:0")
    assert result.exit_code == 2 and "refusing to listen on 0.0.0.0 without a password" in result.output
    short = tmp_path / "short"
    short.write_text("abc\n")
    result = invoke(command, root, option, "0.0.0.0:0", "--password-file", short)
    assert result.exit_code == 2 and "too short" in result.output
    monkeypatch.setenv("FACE_CLEAN_PASSWORD_FILE", str(tmp_path / "missing"))
    result = invoke(command, root, option, "0.0.0.0:0")
    assert result.exit_code == 2 and "cannot read the password file" in result.output


def test_no_session_is_401_and_a_missing_csrf_token_403(root: Path):
    before = everything(root)
    with served(root) as running:
        anyone = requests.Session()
        assert anyone.get(running.url + "api/items", timeout=10).status_code == 401
        assert (
            anyone.post(running.url + "api/act", json={"action": "keep", "ids": ["x"]}, timeout=10).status_code == 401
        )
        s, token = signed_in(running)
        grey = items(s, running)["grey.jpg"]
        assert anyone.get(running.url + "thumb/" + grey["id"], timeout=10).status_code == 401
        act = {"action": "keep", "ids": [grey["id"]]}
        assert s.post(running.url + "api/act", json=act, timeout=10).status_code == 403  # no token
        bad = {"X-CSRF-Token": token[:-2] + "xx"}
        assert s.post(running.url + "api/act", json=act, headers=bad, timeout=10).status_code == 403
        other = {"X-CSRF-Token": token, "Origin": "http://evil.example"}
        assert s.post(running.url + "api/act", json=act, headers=other, timeout=10).status_code == 403
        assert everything(root) == before  # nothing moved, nothing written

        page = s.get(running.url, timeout=10)
        csp = page.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["X-Frame-Options"] == "DENY"
        cookie = requests.get(running.url, timeout=10).headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        rebound = requests.get(running.url, headers={"Host": "evil.example"}, timeout=10)
        assert rebound.status_code == 403  # DNS rebinding: another name for 127.0.0.1 gets nothing


def test_a_forged_id_or_a_path_is_404_and_nothing_moves(root: Path):
    before = everything(root)
    with served(root) as running:
        s, token = signed_in(running)
        grey = items(s, running)["grey.jpg"]
        for forged in ("AAAAAAAAAAAAAAAA", str(root / R / "uncertain/grey.jpg"), "../../../etc/passwd", "grey.jpg"):
            act = {"action": "keep", "ids": [grey["id"], forged]}
            answer = s.post(running.url + "api/act", json=act, headers={"X-CSRF-Token": token}, timeout=10)
            assert answer.status_code == 404, forged
            assert s.get(running.url + "thumb/" + forged, timeout=10).status_code == 404
            assert s.get(running.url + "photo/" + forged, timeout=10).status_code == 404
        for path in ("static/../../setup.cfg", "static/app.py", "static/%2e%2e%2fapp.py"):
            assert s.get(running.url + path, timeout=10).status_code == 404
        assert everything(root) == before


def test_keep_reject_and_leave_over_http(root: Path):
    with served(root) as running:
        s, token = signed_in(running)
        tiles = items(s, running)
        assert [tiles[p]["group"] for p in ("grey.jpg", "woman.png", "man.jpg")] == [
            "review: uncertain",
            "quarantined: not-man",
            "kept",
        ]
        thumb = s.get(running.url + "thumb/" + tiles["man.jpg"]["id"], timeout=10)
        assert thumb.headers["Content-Type"] == "image/jpeg" and thumb.content[:2] == b"\xff\xd8"

        def act(action: str, *paths: str) -> list[dict]:
            body = {"action": action, "ids": [tiles[p]["id"] for p in paths]}
            answer = s.post(running.url + "api/act", json=body, headers={"X-CSRF-Token": token}, timeout=30)
            assert answer.status_code == 200, answer.text
            return answer.json()["results"]

        kept = act("keep", "grey.jpg", "woman.png")
        assert [r["ok"] for r in kept] == [True, True] and {r["item"]["outcome"] for r in kept} == {"kept"}
        [rejected] = act("reject", "man.jpg")
        assert rejected["ok"] and rejected["item"]["outcome"] == "quarantined"
        assert (root / "grey.jpg").exists() and (root / "woman.png").exists() and not (root / "man.jpg").exists()
        assert files_under(root / Q / "rejected") == {"man.jpg"} and files_under(root / R) == set()
        [left] = act("withdraw", "woman.png")
        assert left["ok"] and left["item"]["decided_by"] is None
        records = audit_records(root / LOG)[-4:]
        assert [(r["path"], r["action"], r["decided_by"]) for r in records] == [
            ("grey.jpg", "keep", "person"),
            ("woman.png", "keep", "person"),
            ("man.jpg", "reject", "person"),
            ("woman.png", "withdraw", "person"),
        ]
        assert {r["who"] for r in records} == {"web (127.0.0.1)"}
        with lock_layout(Layout.for_root(root), "run", dry_run=False):  # a run holds the folder: refused, said why
            busy = s.post(
                running.url + "api/act",
                json={"action": "keep", "ids": [tiles["coffee.jpg"]["id"]]},
                headers={"X-CSRF-Token": token},
                timeout=10,
            )
        assert busy.status_code == 409 and "in use by another face-clean" in busy.json()["error"]
        assert files_under(root / Q / "no-face") == {"coffee.jpg", "rocket.jpg", "cats/chelsea.png"}


def test_a_password_signs_in_and_wrong_ones_are_slowed(root: Path):
    with served(root, password=PASSWORD) as running:
        s = requests.Session()
        assert s.get(running.url, allow_redirects=False, timeout=10).headers["Location"] == "/login"
        assert s.get(running.url + "api/items", timeout=10).status_code == 401
        form = s.get(running.url + "login", timeout=10).text
        token = re.search(r'name="csrf" value="([^"]+)"', form)[1]
        assert s.post(running.url + "login", data={"password": PASSWORD}, timeout=10).status_code == 403  # no token
        started = time.monotonic()
        for _ in range(3):
            wrong = s.post(running.url + "login", data={"csrf": token, "password": "guess"}, timeout=30)
            assert wrong.status_code == 200 and "Wrong password." in wrong.text
        assert time.monotonic() - started >= 3.0  # a second per wrong password
        waited = s.post(running.url + "login", data={"csrf": token, "password": PASSWORD}, timeout=30)
        assert waited.status_code == 429 and "try again in" in waited.text  # the address must wait now
        assert s.get(running.url + "api/items", timeout=10).status_code == 401

    with served(root, password=PASSWORD) as running:
        s, csrf = signed_in(running, PASSWORD)
        assert "grey.jpg" in items(s, running) and len(csrf) > 20
        assert requests.get(running.url + "api/items", timeout=10).status_code == 401  # the cookie is the key
