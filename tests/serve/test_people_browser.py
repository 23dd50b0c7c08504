"""The people view in Debian's Chromium (headless, through playwright), as a person uses it: two people in
review, "this person is a man" on one of them, and the next run keeps that person's photos with one
record each naming the person's verdict; a rerun repeats nothing; withdrawing brings the rules back."""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import audit_records, invoke
from people_photos import BIDEN, OBAMA, two_people
from serving import LOG, R, files_under, served, signed_in, until

from cleaner.store.db import StateDB

WEB = "web (127.0.0.1)"


def person_of(root: Path, name: str) -> int:
    with StateDB(root / ".face-clean/state.db") as state:
        (face,) = state.faces_of(hashlib.sha256((root / R / "uncertain" / name).read_bytes()).hexdigest())
    return face.person


def test_this_person_is_a_man_keeps_their_photos_and_withdrawing_brings_the_rules_back(browser, tmp_path: Path):
    root = tmp_path / "photos"
    rules = two_people(root)
    assert invoke("run", root, "--rules", rules).exit_code == 0
    assert files_under(root / R / "uncertain") == set(OBAMA + BIDEN)
    biden, obama = person_of(root, BIDEN[0]), person_of(root, OBAMA[0])
    errors: list[str] = []
    with served(root) as running:
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(running.url)  # signs in (loopback, no password)
        tab.wait_for_selector("body[data-ready]")
        tab.goto(running.url + "people")
        tab.wait_for_selector("body[data-ready]")
        cards = tab.evaluate("[...document.querySelectorAll('section.person')].map(s => s.dataset.person)")
        assert sorted(cards) == sorted([str(biden), str(obama)])
        card = f'section.person[data-person="{biden}"]'
        assert "3 photos" in tab.text_content(card + " .model")
        until(tab, f"[...document.querySelectorAll('{card} .strip img')].every(i => i.complete && i.naturalWidth > 0)")
        tab.click(card + ' button[data-action="man"]')
        until(tab, "faceCleanPeople().done === 1")
        tab.wait_for_selector(card + " .verdict")
        assert tab.text_content(card + " .verdict") == f"this person is a man (by {WEB})"

        before = len(audit_records(root / LOG))
        assert invoke("run", root, "--rules", rules).exit_code == 0
        assert all((root / n).is_file() for n in BIDEN)  # kept: back in the folder
        assert files_under(root / R / "uncertain") == set(OBAMA)
        new = audit_records(root / LOG)[before:]
        assert sorted(r["path"] for r in new) == sorted(BIDEN)  # one record each
        assert {(r["action"], r["rule"], r["decided_by"], r["who"]) for r in new} == {
            ("keep", f"person:{biden}", "person", WEB)
        }
        assert all(f"person:{biden} is a man (by {WEB})" in "; ".join(r["notes"]) for r in new)

        assert invoke("run", root, "--rules", rules).exit_code == 0  # a rerun repeats nothing
        assert len(audit_records(root / LOG)) == before + 3

        tab.click(card + ' button[data-action="withdraw"]')
        until(tab, "faceCleanPeople().done === 2")
        until(tab, f"!document.querySelector('{card} .verdict')")
        assert errors == []  # no CSP violation, no script error
    assert invoke("run", root, "--rules", rules).exit_code == 0
    assert files_under(root / R / "uncertain") == set(OBAMA + BIDEN)  # the rules again: uncertain, to review
    again = audit_records(root / LOG)[before + 3 :]
    assert sorted(r["path"] for r in again) == sorted(BIDEN) and {r["decided_by"] for r in again} == {None}


def test_the_people_api_is_behind_the_session_and_the_csrf_token(tmp_path: Path):
    root = tmp_path / "photos"
    rules = two_people(root)
    assert invoke("run", root, "--rules", rules).exit_code == 0
    biden = person_of(root, BIDEN[0])
    with served(root, password="secret words") as running:
        import requests

        anonymous = requests.Session()
        assert anonymous.get(running.url + "api/people", timeout=10).status_code == 401
        act = {"person": biden, "action": "man"}
        assert anonymous.post(running.url + "api/person", json=act, timeout=10).status_code in (401, 403)
        s, token = signed_in(running, "secret words")
        assert s.post(running.url + "api/person", json=act, timeout=10).status_code == 403  # no token
        people = s.get(running.url + "api/people", timeout=10).json()["people"]
        assert all(p["verdict"] is None for p in people)
        split = {"faces": [people[0]["faces"][0]]}
        assert s.post(running.url + "api/person/split", json=split, timeout=10).status_code == 403
        ok = s.post(running.url + "api/person", json=act, headers={"X-CSRF-Token": token}, timeout=10)
        assert ok.status_code == 200, ok.text
        people = {p["id"]: p for p in s.get(running.url + "api/people", timeout=10).json()["people"]}
        assert people[biden]["verdict"] == "man"
        out = {"faces": [people[biden]["faces"][0]]}  # take a face out: a person of its own
        split = s.post(running.url + "api/person/split", json=out, headers={"X-CSRF-Token": token}, timeout=10)
        assert split.status_code == 200, split.text
        people = {p["id"]: p for p in s.get(running.url + "api/people", timeout=10).json()["people"]}
        alone = split.json()["result"]
        assert people[alone]["photos"] == 1 and people[alone]["verdict"] is None
        assert people[biden]["photos"] == 2 and people[biden]["verdict"] == "man"
        gone = s.post(
            running.url + "api/person",
            json={"person": 999999, "action": "man"},
            headers={"X-CSRF-Token": token},
            timeout=10,
        )
        assert gone.status_code == 404
