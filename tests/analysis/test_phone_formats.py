"""The files phones and NAS shares really hold: HEIC and AVIF photos (turned by their EXIF orientation),
videos, sidecars and notes beside them (skipped, not unreadable), photos named as another format (read
by content), and a summary that names the files it could not read."""

from __future__ import annotations

from pathlib import Path

import photos
import pillow_heif
import pytest
from conftest import audit_records
from PIL import Image

LOG = Path(".face-clean/audit.jsonl")
TAKEOUT = '{"title": "IMG_0001.HEIC", "photoTakenTime": {"timestamp": "1700000000"}, "geoData": {}}\n'
XMP = '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>\n<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>\n'
AAE = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "x">\n<plist/>\n'
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(3000)
MOV = b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + bytes(3000)


def turned(img: Image.Image, path: Path, fmt: str) -> Path:
    """Stored on its side, with EXIF orientation 6 saying how to show it upright (as phones do)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    path.parent.mkdir(parents=True, exist_ok=True)
    img.transpose(Image.Transpose.ROTATE_90).save(path, format=fmt, exif=exif.tobytes(), quality=90)
    return path


def by_path(root: Path) -> dict[str, dict]:
    return {r["path"]: r for r in audit_records(root / LOG)}


def test_heic_and_avif_are_read_upright(cli, tmp_path: Path):
    pillow_heif.register_heif_opener()  # to write HEIC here (face-clean registers it to read)
    root = tmp_path / "photos"
    photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    turned(Image.fromarray(photos.astronaut()), root / "IMG_0001.HEIC", "HEIF")
    turned(Image.fromarray(photos.swapped()), root / "IMG_0002.avif", "AVIF")
    photos.save(photos.data.coffee(), root / "IMG_0003.heic", format="HEIF", quality=90)
    assert Image.open(root / "IMG_0001.HEIC").format == "HEIF" and Image.open(root / "IMG_0002.avif").format == "AVIF"
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 0, result.output
    records = by_path(root)
    heic, avif, coffee = records["IMG_0001.HEIC"], records["IMG_0002.avif"], records["IMG_0003.heic"]
    assert (heic["status"], heic["rule"], heic["action"]) == ("analysed", "keep-man", "keep")
    assert (avif["rule"], avif["action"], avif["moved"]) == ("not-man", "quarantine", True)
    assert (coffee["rule"], coffee["moved"]) == ("no-face", True)
    [upright] = records["man.jpg"]["faces"]
    for record in (heic, avif):  # found where the upright photo has it: the orientation was applied first
        [face] = record["faces"]
        assert abs(face["box"]["x"] - upright["box"]["x"]) < 10 and abs(face["box"]["y"] - upright["box"]["y"]) < 10
    assert (root / ".face-clean/quarantine/not-man/IMG_0002.avif").is_file()


@pytest.fixture
def phone_folder(tmp_path: Path) -> Path:
    """A phone's upload, or a Takeout export: photos, with videos, sidecars and notes beside them."""
    root = tmp_path / "photos"
    photos.save(photos.astronaut(), root / "IMG_0001.jpg", quality=90)
    photos.save(photos.astronaut(), root / "IMG_0002.png", format="JPEG", quality=90)  # a JPEG named .png
    (root / "IMG_0003.MP4").write_bytes(MP4)
    (root / "IMG_0004.MOV").write_bytes(MOV)
    with (root / "long.mp4").open("wb") as fh:  # larger than what is ever read whole
        fh.write(MP4[:32])
        fh.truncate(200 << 20)
    (root / "IMG_0001.jpg.json").write_text(TAKEOUT)
    (root / "IMG_0001.xmp").write_text(XMP)
    (root / "IMG_0001.AAE").write_text(AAE)
    (root / "notes.txt").write_text("the photos of the 2nd of May\n")
    (root / "data.bin").write_bytes(bytes(range(256)) * 4)  # no known kind, no image name
    photos.truncated_jpeg(root / "broken.jpg")
    return root


SKIPPED = {
    "IMG_0003.MP4": "not an image: a video (MP4/QuickTime)",
    "IMG_0004.MOV": "not an image: a video (MP4/QuickTime)",
    "long.mp4": "not an image: a video (MP4/QuickTime)",
    "notes.txt": "not an image: text",
    "data.bin": "not an image: no known image format",
}
# beside their photo, which stays: not decided on their own, so no record, and left where they are
# (issue 26: they travel with it, tests/pipeline/test_sidecars.py)
SIDECARS = ("IMG_0001.jpg.json", "IMG_0001.xmp", "IMG_0001.AAE")


def test_videos_sidecars_and_notes_are_skipped_not_unreadable(cli, phone_folder: Path, tmp_path: Path):
    root = phone_folder
    rules = tmp_path / "rules.yaml"  # a rule that moves unreadable files moves no video and no sidecar
    rules.write_text("rules:\n  - {name: broken, when: {unreadable: true}, action: quarantine}\n")
    result = cli("run", root, "--rules", rules)
    assert result.exit_code == 1, result.output  # the broken photo, and only it
    records = by_path(root)
    assert {p: (r["status"], r["error"]) for p, r in records.items() if p in SKIPPED} == {
        p: ("skipped", why) for p, why in SKIPPED.items()
    }
    assert all(not records[p]["moved"] and (root / p).is_file() for p in SKIPPED)
    assert all(p not in records and (root / p).is_file() for p in SIDECARS)
    assert records["long.mp4"]["sha256"] is not None  # hashed as a stream, never held whole
    assert (records["broken.jpg"]["status"], records["broken.jpg"]["moved"]) == ("unreadable", True)
    assert "skipped: 5" in result.output and "unreadable: 1" in result.output
    (root / ".face-clean/quarantine/broken/broken.jpg").unlink()
    photos.save(photos.astronaut(), root / "IMG_0005.jpg", quality=90)
    assert cli("run", root, "--keep", "face").exit_code == 0  # videos and sidecars alone: no exit 1


def test_a_photo_named_as_another_format_is_read_by_content(cli, phone_folder: Path):
    assert cli("run", phone_folder, "--keep", "Man", "--dry-run").exit_code == 1
    png = by_path(phone_folder)["IMG_0002.png"]
    assert (png["status"], png["rule"]) == ("analysed", "keep-man")
    assert png["notes"] == ["a JPEG image named .png: read by its content"]
    assert by_path(phone_folder)["IMG_0001.jpg"]["notes"] == []


def test_include_and_exclude_patterns(cli, tmp_path: Path):
    root = tmp_path / "photos"
    for name in ("a.jpg", "b.png", "drafts/c.jpg", "2019/d.jpg", "2020/E.JPG", "2020/RAW/f.jpg"):
        photos.save(photos.data.coffee(), root / name, format="JPEG", quality=80)
    rules = tmp_path / "rules.yaml"
    rules.write_text('include: ["*.jpg"]\nexclude: ["drafts", "2019/*", "*/raw"]\n')
    assert cli("run", root, "--keep", "all", "--rules", rules).exit_code == 0
    assert set(by_path(root)) == {"a.jpg", "2020/E.JPG"}  # case does not matter


def test_the_summary_names_the_files_it_could_not_read_also_when_quiet(cli, tmp_path: Path):
    root = tmp_path / "photos"
    for i in range(7):
        photos.truncated_jpeg(root / f"broken-{i}.jpg")
    (root / "clip.mp4").write_bytes(MP4)
    loud = cli("run", root, "--keep", "Man", "--dry-run")
    assert loud.exit_code == 1
    lines = loud.stdout.splitlines()
    at = lines.index(next(line for line in lines if "could not be processed: 7" in line))
    named = lines[at + 1 : at + 6]
    assert [line.split(":")[0].strip() for line in named] == [f"broken-{i}.jpg" for i in range(5)]
    assert all("truncated or corrupt JPEG" in line for line in named)
    assert f"and 2 more: their records in {root / LOG} say why" in lines[at + 6]
    (root / LOG).unlink()
    (root / ".face-clean/state.db").unlink()
    quiet = cli("run", root, "--keep", "Man", "--dry-run", "-q")
    assert quiet.exit_code == 1 and quiet.stdout == ""
    assert "could not be processed: 7" in quiet.stderr and "broken-0.jpg: truncated" in quiet.stderr
    assert "and 2 more" in quiet.stderr and "clip.mp4" not in quiet.stderr


def test_run_verbose_prints_each_file_with_its_outcome_on_stdout(cli, phone_folder: Path):
    photos.save(photos.data.coffee(), phone_folder / "coffee.jpg", quality=90)
    dry = cli("run", phone_folder, "--keep", "Man", "--dry-run", "-v").stdout.splitlines()
    assert "would quarantine coffee.jpg (no-face)" in dry
    assert "would keep IMG_0001.jpg (keep-man)" in dry
    assert any(line.startswith("unreadable broken.jpg: truncated or corrupt JPEG") for line in dry)
    assert "skipped IMG_0003.MP4: not an image: a video (MP4/QuickTime)" in dry
    real = cli("run", phone_folder, "--keep", "Man", "-v").stdout.splitlines()
    assert "quarantined coffee.jpg (no-face)" in real
