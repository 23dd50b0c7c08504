"""The review page's data, as a person checks it against the folder: one keep is one audit record, a
thumbnail is of the bytes at the path now (never another file's of the same size), and the counts
are the folder's."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import audit_records, invoke, swept_copy
from serving import LOG, items, make_swept, served, signed_in


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_swept(tmp_path_factory.mktemp("template") / "photos")


@pytest.fixture
def root(template: Path, tmp_path: Path) -> Path:
    return swept_copy(template, tmp_path / "photos")


def act(s, running, csrf: str, action: str, ids: list[str]) -> dict:
    answer = s.post(
        running.url + "api/act", json={"action": action, "ids": ids}, headers={"X-CSRF-Token": csrf}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_one_keep_from_the_page_is_one_audit_record(root: Path):
    with served(root) as running:
        s, csrf = signed_in(running)
        found = items(s, running)
        before = len(audit_records(root / LOG))
        act(s, running, csrf, "keep", [found["grey.jpg"]["id"]])
        act(s, running, csrf, "keep", [found["woman.png"]["id"]])
        act(s, running, csrf, "keep", [found["man.jpg"]["id"]])
        new = audit_records(root / LOG)[before:]
        assert [(r["path"], r["action"]) for r in new] == [
            ("grey.jpg", "keep"),
            ("woman.png", "keep"),
            ("man.jpg", "keep"),
        ], new
    listed = invoke("runs", root).output  # the page's verdicts: one run, under serve's command line
    assert listed.count(f"face-clean serve {root}") == 1 and "kept 3" in listed, listed


def test_one_keep_beside_watch_is_one_audit_record_and_the_daemon_logs_it(root: Path, caplog):
    import logging
    import time

    from watching import ThreadDaemon

    from cleaner.pipeline.verdicts.inbox import Inbox
    from cleaner.serve.actors import InboxActor

    inbox = Inbox()
    caplog.set_level(logging.INFO, logger="face-clean")
    with ThreadDaemon(root, polling=False, inbox=inbox), served(root, actor=InboxActor(inbox)) as running:
        s, csrf = signed_in(running)
        found = items(s, running)
        time.sleep(2)
        before = len(audit_records(root / LOG))
        act(s, running, csrf, "keep", [found["woman.png"]["id"]])
        time.sleep(4)  # the daemon sees the photo come back
        new = audit_records(root / LOG)[before:]
    assert [(r["path"], r["action"]) for r in new] == [("woman.png", "keep")], new
    listed = invoke("runs", root).output
    assert f"the review page of the watch run {new[0]['run_id']}" not in listed  # its own run, not the daemon's
    assert "the review page of the watch run " in listed and "kept 1" in listed, listed
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("verdict ")]
    assert said == [f"verdict keep on woman.png by web (127.0.0.1) -> {root / 'woman.png'}"]


def test_a_thumbnail_is_of_the_bytes_at_the_path_now(root: Path):
    import io

    import numpy as np
    from PIL import Image

    man = root / "man.jpg"
    with served(root) as running:
        s, _ = signed_in(running)
        url = running.url + "thumb/" + items(s, running)["man.jpg"]["id"]
        first = Image.open(io.BytesIO(s.get(url, timeout=30).content)).convert("L")
        assert np.asarray(first).std() > 20  # the astronaut
        buf = io.BytesIO()
        Image.new("RGB", (64, 64), (128, 128, 128)).save(buf, "JPEG", quality=50)
        size = man.stat().st_size
        man.write_bytes(buf.getvalue() + b"\0" * (size - len(buf.getvalue())))  # other bytes, the same size
        again = Image.open(io.BytesIO(s.get(url, timeout=30).content)).convert("L")
        assert np.asarray(again).std() < 5  # what is there now, not the cached astronaut


def test_the_page_opens_with_the_pictures_the_run_made(tmp_path: Path, monkeypatch):
    """run made the thumbnails of the photos it moved (review first) as it decided them: the page serves
    them without decoding a photo (here it could not), and the kept ones it makes on request."""
    import cleaner.serve.pictures

    root = make_swept(tmp_path / "photos")  # not a copy: the thumbnails know the files they were made of

    def no_decoding(*args: object) -> None:
        raise OSError("decoded on request")

    monkeypatch.setattr(cleaner.serve.pictures, "make_thumb", no_decoding)
    with served(root) as running:
        s, _ = signed_in(running)
        found = items(s, running)
        moved = [p for p, it in found.items() if it["outcome"] in ("review", "quarantined")]
        assert sorted(moved) == ["cats/chelsea.png", "coffee.jpg", "grey.jpg", "rocket.jpg", "woman.png"]
        for path in moved:
            answer = s.get(running.url + "thumb/" + found[path]["id"], timeout=30)
            assert answer.status_code == 200 and answer.content[:2] == b"\xff\xd8", path
        assert s.get(running.url + "thumb/" + found["man.jpg"]["id"], timeout=30).status_code == 404  # not made


def test_a_dry_run_after_a_real_one_leaves_the_page_as_the_folder_is(root: Path):
    assert invoke("run", root, "--keep", "Woman", "--dry-run").exit_code == 1  # would move man.jpg: did not
    assert (root / "man.jpg").exists()
    with served(root) as running:
        s, _ = signed_in(running)
        found = items(s, running)
    assert (found["man.jpg"]["outcome"], found["man.jpg"]["present"]) == ("kept", True)
    assert found["woman.png"]["outcome"] == "quarantined" and not (root / "woman.png").exists()


def test_a_file_gone_from_the_folder_is_counted_as_missing_not_as_kept(root: Path):
    (root / "man.jpg").unlink()  # deleted by someone else, after the run
    with served(root) as running:
        s, _ = signed_in(running)
        found = items(s, running)
    assert (found["man.jpg"]["outcome"], found["man.jpg"]["present"]) == ("missing", False)
    kept = sorted(p for p, it in found.items() if it["outcome"] == "kept")
    assert "man.jpg" not in kept and all((root / p).exists() for p in kept)
