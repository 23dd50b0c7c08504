"""A verdict about a person beside ``watch --serve``: the daemon moves that person's photos out of review at
once, one record each, and decides nothing twice when it sees them come back."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from conftest import audit_records
from people_photos import BIDEN, OBAMA, two_people
from serving import LOG, R, files_under, served, signed_in
from watching import ThreadDaemon, wait_for

from cleaner.pipeline.verdicts.inbox import Inbox
from cleaner.serve.actors import InboxActor
from cleaner.store.db import StateDB


def test_keep_all_beside_watch_brings_that_persons_photos_back_at_once(tmp_path: Path):
    root = tmp_path / "photos"
    rules = two_people(root)
    inbox = Inbox()
    with ThreadDaemon(root, polling=False, keep=None, rules_file=rules, inbox=inbox):
        wait_for(lambda: len(files_under(root / R / "uncertain")) == 6, 120, "six photos in review")
        with StateDB(root / ".face-clean/state.db") as state:
            face = state.faces_of(hashlib.sha256((root / R / "uncertain" / OBAMA[0]).read_bytes()).hexdigest())
        obama = face[0].person
        with served(root, actor=InboxActor(inbox)) as running:
            s, token = signed_in(running)
            answer = s.post(
                running.url + "api/person",
                json={"person": obama, "action": "keep"},
                headers={"X-CSRF-Token": token},
                timeout=90,
            )
            assert answer.status_code == 200, answer.text
        wait_for(lambda: all((root / n).is_file() for n in OBAMA), 30, "Obama's photos back in the folder")
        time.sleep(3)  # the daemon sees them arrive: decided already, nothing recorded twice
    assert files_under(root / R / "uncertain") == set(BIDEN)
    kept = [r for r in audit_records(root / LOG) if r["decided_by"] == "person"]
    assert sorted(r["path"] for r in kept) == sorted(OBAMA)
    assert {(r["action"], r["rule"]) for r in kept} == {("keep", f"person:{obama}")}
    assert len(audit_records(root / LOG)) == 9
