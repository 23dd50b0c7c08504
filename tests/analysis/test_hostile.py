"""Hostile input (tests/hostile.py) through the real command: the run finishes, every file has
exactly one audit record with a clear outcome, and nothing is moved that the rules did not ask for."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import hostile
import photos
import pytest
import tiny_models
from ci import unavailable
from conftest import all_hashes, audit_records, sha256
from PIL import ImageFile

import cleaner.commands.run

LOG = Path(".face-clean/audit.jsonl")
NOBODY = 65534


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The size of every image Pillow decodes pixels of, from any thread."""
    seen: list[tuple[int, int]] = []
    real = ImageFile.ImageFile.load

    def load(self: ImageFile.ImageFile) -> object:
        seen.append(self.size)
        return real(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return seen


def by_path(log: Path) -> dict[str, dict]:
    records = audit_records(log)
    paths = Counter(r["path"] for r in records)
    assert all(n == 1 for n in paths.values()), f"one record per file: {paths.most_common(3)}"
    return {r["path"]: r for r in records}


def test_every_hostile_file_gets_one_clear_record_and_nothing_is_lost(cli, tmp_path: Path, monkeypatch, loads):
    root, outside = tmp_path / "photos", tmp_path / "outside"
    hostile.build(root)
    changing = {c.name: c.after_scan for c in hostile.CASES if c.after_scan}
    before = Counter(all_hashes(root)) - Counter(sha256(root / name) for name in changing)
    outside_before = all_hashes(outside)

    real_scan = cleaner.commands.run.scan

    def scan_then_change(*args: object, **kwargs: object) -> list[Path]:
        found = real_scan(*args, **kwargs)
        for name, change in changing.items():
            change(root / name)
        return found

    monkeypatch.setattr(cleaner.commands.run, "scan", scan_then_change)
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 1, result.output  # done, but some files could not be read
    assert "Traceback" not in result.output

    records = by_path(root / LOG)
    assert set(records) == {c.name for c in hostile.CASES if c.outcome != hostile.GONE}
    unreadable = sum(c.status == "unreadable" and c.outcome != hostile.GONE for c in hostile.CASES)
    assert f"unreadable: {unreadable} " in result.output, result.output  # a vanished file is not counted
    for case in hostile.CASES:
        if case.outcome == hostile.GONE:
            continue
        r = records[case.name]
        where = f"{case.name!r}: {r['status']}, {r['action']}, {r['error']!r}, {r['notes']}"
        action = case.outcome.split("/")[0]
        assert (r["status"], r["action"]) == (case.status, action), where
        if case.error is None:
            assert r["error"] is None, where
        else:
            assert case.error.lower() in (r["error"] or "").lower(), where
        if case.note:
            assert any(case.note in n for n in r["notes"]), where
        if case.size:
            assert (r["width"], r["height"]) == case.size, where
        if case.status == "analysed" and case.outcome != hostile.NO_FACE:
            assert len(r["faces"]) == 1, where
        if action == "keep":
            assert not r["moved"] and r["destination"] is None, where
            assert case.after_scan or os.path.lexists(root / case.name), where
            if case.status == "analysed":
                assert sha256(root / case.name) == r["sha256"], where
        else:
            expected = root / ".face-clean" / case.outcome / case.name
            assert r["moved"] and r["destination"] == str(expected), where
            assert sha256(expected) == r["sha256"] and not os.path.lexists(root / case.name), where

    # the astronaut is found as a man, in the same upright place, whatever the EXIF orientation
    boxes = [records[f"orientation-{o}.jpg"]["faces"][0] for o in range(1, 9)]
    assert all(f["dominant_gender"] == "Man" and f["gender"]["Man"] > 0.95 for f in boxes)
    first = boxes[0]["box"]
    for face in boxes[1:]:
        assert all(abs(face["box"][k] - first[k]) <= 6 for k in "xywh"), (face["box"], first)
    large = records["large-orientation-6.jpg"]["faces"][0]["box"]
    assert abs(large["x"] - (150 + 1.5 * first["x"])) < 20 and abs(large["y"] - (100 + 1.5 * first["y"])) < 20

    # bombs are refused from their header: no pixel of them was decoded; the panorama, without a
    # face, was only ever decoded at 1/8 scale
    assert not [size for size in loads if size[0] * size[1] > 200_000_000], loads
    assert (6000, 6000) not in loads  # over the memory budget, refused from its header
    assert (2500, 38) in loads and not [size for size in loads if size[0] >= 20000], loads

    # links: never followed, never moved, their targets untouched
    assert (root / "link.jpg").is_symlink() and (root / "loop.jpg").is_symlink()
    assert (root / "became-a-link.jpg").is_symlink() and not os.path.lexists(root / "vanished.jpg")
    assert all_hashes(outside) == outside_before
    assert not any(p.startswith("loop-dir/") for p in records)

    # every photo's bytes exactly once, in the folder or the quarantine
    assert Counter(all_hashes(root)) == before


def test_max_pixels_from_the_rules_file_moves_the_limit(cli, tmp_path: Path, loads):
    root = tmp_path / "p"
    root.mkdir()
    (root / "bomb.png").write_bytes(hostile.png_bomb(20_000, 20_000))  # 400 megapixels, header and a few rows
    photos.save(photos.astronaut(), root / "man.jpg")
    rules = tmp_path / "rules.yaml"
    loads.clear()  # (scikit-image reads its photos with Pillow)

    rules.write_text("max_pixels: 100000\n")  # less than the astronaut's 262144 pixels
    assert cli("run", root, "--keep", "Man", "--rules", rules, "--dry-run").exit_code == 1
    records = by_path(root / LOG)
    assert records["man.jpg"]["status"] == "unreadable"
    assert records["man.jpg"]["error"] == "image too large: 512x512 = 262144 pixels exceeds max_pixels 100000"
    assert "exceeds max_pixels 100000" in records["bomb.png"]["error"]
    assert not [s for s in loads if s in {(512, 512), (20_000, 20_000)}]

    (root / LOG).unlink()
    rules.write_text("max_pixels: 500000000\n")  # within max_pixels now, but not within the memory budget
    assert cli("run", root, "--keep", "Man", "--rules", rules, "--dry-run").exit_code == 0
    bomb = by_path(root / LOG)["bomb.png"]
    assert (bomb["status"], bomb["action"]) == ("skipped", "keep") and "over the memory budget" in bomb["error"]
    assert (20_000, 20_000) not in loads

    (root / LOG).unlink()
    rules.write_text("max_pixels: 500000000\nmemory_budget: 1000000\n")  # now it is let through to the decoder...
    assert cli("run", root, "--keep", "Man", "--rules", rules).exit_code == 1
    records = by_path(root / LOG)
    assert (20_000, 20_000) in loads
    bomb = records["bomb.png"]
    assert (bomb["status"], bomb["action"], bomb["moved"]) == ("unreadable", "keep", False)
    assert "truncated" in bomb["error"]  # ...which finds the few rows it holds
    assert records["man.jpg"]["rule"] == "keep-man" and (root / "bomb.png").exists()


MEMORY_LIMITED = """
import re, resource, sys
from cleaner.analysis.decode import Unreadable, decode
data = open(sys.argv[1], "rb").read()
in_use = int(re.search(r"VmSize:\\s+(\\d+) kB", open("/proc/self/status").read())[1]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (in_use + 2**30, in_use + 2**30))  # 1 GiB more than now
try:
    decode(data, max_pixels=10**10, budget=2**40)  # past both limits: the decoder itself runs out
except Unreadable as err:
    print(err)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_an_image_within_max_pixels_but_beyond_memory_says_so(tmp_path: Path):
    """Not an empty "truncated or corrupt PNG: " from a bare MemoryError."""
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(hostile.png_bomb(30_000, 30_000))  # 2.7 GB of pixels, or 3.6 GB as Pillow keeps them
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", MEMORY_LIMITED, str(bomb)], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        proc.stdout.strip() == "not enough memory to decode 30000x30000 pixels; lower max_pixels to refuse such images"
    )


def test_files_and_folders_without_permission_as_an_ordinary_user(tmp_path: Path):
    """Root reads anything, so the run goes as ``nobody`` over a folder that user owns."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        unavailable("it needs root and setpriv, to run face-clean as an ordinary user")
    base = Path(tempfile.mkdtemp(prefix="face-clean-nobody-"))  # tmp_path's parents are closed to nobody
    try:
        home, root = base / "home", base / "photos"
        tiny_models.install(home)
        photos.save(photos.astronaut(), root / "man.jpg")
        photos.save(photos.data.coffee(), root / "coffee.jpg")
        photos.save(photos.astronaut(), root / "secret.jpg").chmod(0)
        photos.save(photos.astronaut(), root / "locked" / "inside.jpg")
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(base)], check=True)
        (root / "locked").chmod(0)
        digests = Counter(all_hashes(root))
        env = {**os.environ, "DEEPFACE_HOME": str(home), "HOME": str(home)}
        as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        proc = subprocess.run(
            [*as_nobody, sys.executable, "-m", "cleaner", "run", str(root), "--keep", "Man"],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr
        records = by_path(root / LOG)
        assert set(records) == {"man.jpg", "coffee.jpg", "secret.jpg", "locked"}
        secret, locked = records["secret.jpg"], records["locked"]
        assert (secret["status"], secret["action"], secret["moved"]) == ("unreadable", "keep", False)
        assert secret["error"] == "cannot read file: Permission denied"
        assert (locked["status"], locked["action"], locked["moved"]) == ("unreadable", "keep", False)
        assert locked["error"] == "cannot list folder: Permission denied; its files were not looked at"
        assert records["man.jpg"]["rule"] == "keep-man" and records["coffee.jpg"]["moved"]
        (root / "locked").chmod(0o755)
        assert Counter(all_hashes(root)) == digests
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_name_that_is_not_utf8_is_recorded_and_moved(cli, tmp_path: Path):
    root = tmp_path / "p"
    root.mkdir()
    hostile.coffee()(root / hostile.NON_UTF8)
    photos.save(photos.astronaut(), root / "man.jpg")
    before = Counter(all_hashes(root))
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 0, result.output
    records = by_path(root / LOG)
    assert set(records) == {"man.jpg", hostile.NON_UTF8}  # JSON keeps the raw byte as "\udce9": os.fsencode undoes it
    assert records[hostile.NON_UTF8]["destination"] == str(root / ".face-clean/quarantine/no-face" / hostile.NON_UTF8)
    assert Counter(all_hashes(root)) == before
