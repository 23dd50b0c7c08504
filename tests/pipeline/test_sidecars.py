"""Sidecars travel with their photo (issue 26, cause 5): moved with it, journalled and verified,
each with its own audit record naming the photo, named in the photo's record, and restored with it;
a sidecar is never decided on its own while its photo is beside it."""

from __future__ import annotations

from pathlib import Path

import photos
from conftest import audit_records, sha256

LOG, Q = Path(".face-clean/audit.jsonl"), Path(".face-clean/quarantine/no-face")
SIDECARS = {
    "IMG_0002.jpg": ["IMG_0002.AAE", "IMG_0002.xmp"],  # an iPhone's edits, Lightroom's
    "album/IMG_0001.jpg": ["album/IMG_0001.jpg.json"],  # Google Takeout's metadata
    "IMG_0003.JPG": ["IMG_0003.MOV"],  # a Live Photo's video
}


def build(root: Path) -> dict[str, str]:
    for photo in SIDECARS:
        photos.save(photos.data.coffee(), root / photo)  # no face: quarantined by --keep Man
    photos.save(photos.astronaut(), root / "man.jpg")  # kept, and its sidecar with it
    texts = {"IMG_0002.AAE": "<plist/>", "IMG_0002.xmp": "<x:xmpmeta/>", "album/IMG_0001.jpg.json": '{"title": 1}'}
    texts |= {"man.xmp": "<x:xmpmeta/>", "orphan.xmp": "<x:xmpmeta/>"}
    for name, text in texts.items():
        (root / name).write_text(text)
    (root / "IMG_0003.MOV").write_bytes(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + bytes(100))
    return {p.relative_to(root).as_posix(): sha256(p) for p in root.rglob("*") if p.is_file()}


def test_sidecars_move_with_their_photo_and_come_back_with_it(cli, tmp_path: Path):
    root = tmp_path / "photos"
    hashes = build(root)
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 0, result.output
    records = {r["path"]: r for r in audit_records(root / LOG)}
    # the kept photo's sidecar, not decided alone, has no record; an orphan is decided like any file
    assert "man.xmp" not in records and (root / "man.xmp").is_file()
    assert records["orphan.xmp"]["status"] == "skipped" and not records["orphan.xmp"]["moved"]
    for photo, sidecars in SIDECARS.items():
        assert records[photo]["moved"] and records[photo]["sidecars"] == sidecars
        for sidecar in sidecars:
            r = records[sidecar]
            assert r["moved"] and r["sidecar_of"] == photo and r["reason"] == "no-face", r
            assert r["destination"] == str(root / Q / sidecar) and r["move_id"]
            assert sha256(root / Q / sidecar) == hashes[sidecar] == r["sha256"]
            assert not (root / sidecar).exists()
    assert len(records) == len(SIDECARS) + sum(map(len, SIDECARS.values())) + 2  # photos, sidecars, man, orphan

    # restoring a photo by its name brings back its sidecars
    restored = cli("restore", root, "album/IMG_0001.jpg")
    assert restored.exit_code == 0, restored.output
    assert sha256(root / "album/IMG_0001.jpg.json") == hashes["album/IMG_0001.jpg.json"]
    assert (root / "album/IMG_0001.jpg").is_file() and (root / "IMG_0003.MOV").exists() is False
    assert cli("restore", root, "--all").exit_code == 0
    assert {
        p.relative_to(root).as_posix(): sha256(p)
        for p in root.rglob("*")
        if p.is_file() and ".face-clean" not in p.parts
    } == hashes


def test_a_sidecar_follows_its_photo_to_the_name_it_got(cli, tmp_path: Path):
    root = tmp_path / "photos"
    build(root)
    taken = root / Q / "IMG_0002.jpg"
    photos.save(photos.astronaut(), taken)  # the quarantine has a photo by that name already
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 0, result.output
    assert (root / Q / "IMG_0002 (1).jpg").is_file()
    assert (root / Q / "IMG_0002 (1).xmp").is_file() and (root / Q / "IMG_0002 (1).AAE").is_file()
