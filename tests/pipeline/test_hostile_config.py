"""Hostile configuration, state rows, names and sizes (issue 15, causes 6 and 9): a rules file built
to exhaust the parser, a rules path that never ends, a crafted state database, terminal escapes in
file names, and files whose reading or decoding would not fit in memory."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import hostile
import photos
import pytest
from conftest import audit_records
from watching import noise_jpegs

LOG, Q = Path(".face-clean/audit.jsonl"), Path(".face-clean/quarantine")
LIMITED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # a runaway parser fails here instead of the machine
sys.argv = ["face-clean", *sys.argv[1:]]
from cleaner.cli import main
main()
"""


def face_clean(*args: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The command in a subprocess with its address space capped; a hang is a TimeoutExpired."""
    cmd = [sys.executable, "-c", LIMITED, *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def alias_bomb(levels: int = 9) -> str:
    anchors = ["&a0 [x, x, x, x, x, x, x, x, x]"]
    anchors += [f"&a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "exclude: [" + ", ".join(anchors) + "]\n"


@pytest.mark.parametrize(
    "text,message",
    [
        (alias_bomb(), "an alias bomb is not accepted"),
        ("rules: " + "[" * 20_000 + "]" * 20_000 + "\n", "nested too deeply"),
        ("max_pixels: " + "7" * 5000 + "\n", "digits"),
        ("analyze: [[gender], age]\n", "field 'analyze': expected a list of gender and/or age"),
    ],
)
def test_rules_built_to_exhaust_the_parser_are_a_quick_clear_error(tmp_path: Path, text: str, message: str):
    rules = tmp_path / "rules.yaml"
    rules.write_text(text)
    proc = face_clean("check", rules, timeout=30)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr) < 2000


def bomb_of(levels: int = 10) -> str:
    """A flow list of 10^levels leaves in a few hundred bytes."""
    anchors = ["&b0 [x, x, x, x, x, x, x, x, x, x]"]
    anchors += [f"&b{i} [{', '.join([f'*b{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "[" + ", ".join(anchors) + "]"


@pytest.mark.parametrize(
    "where,text",
    [
        ("rules", f"engine: {bomb_of()}\n"),
        ("rules", f"rules:\n  - name: {bomb_of()}\n    keep: true\n"),
        ("config", f"keep: {bomb_of()}\n"),
        ("config", f"engine: {bomb_of()}\n"),
        ("folder", f"keep: {bomb_of()}\n"),
        ("folder", f"detector: {bomb_of()}\n"),
    ],
)
def test_alias_bombs_of_a_billion_values_are_refused_at_once_wherever_yaml_is_read(
    tmp_path: Path, where: str, text: str
):
    """Issue 26: 10^9 leaves in ``engine``, a rule's name or a config file's ``keep`` ran out of
    memory after 30-50 s (str(value), did_you_mean, the error listing); they are refused unparsed."""
    root = tmp_path / "photos"
    photos.save(photos.astronaut(), root / "man.jpg")
    written = tmp_path / "bomb.yaml"
    if where == "folder":
        assert face_clean("run", root, "--keep", "all").returncode == 0
        written = root / ".face-clean" / "config.yaml"
    written.write_text(text)
    args = ("check", written) if where == "rules" else ("run", root)
    env = {**os.environ, "FACE_CLEAN_CONFIG": str(written)} if where == "config" else None
    cmd = [sys.executable, "-c", LIMITED, *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=env)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"{written}: its aliases (*name) stand for more than 100,000 values" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr) < 2000


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
def test_a_rules_path_that_is_not_a_file_is_refused_at_once(tmp_path: Path, kind: str):
    rules = tmp_path / "rules.yaml"
    if kind == "fifo":
        os.mkfifo(rules)
    else:
        rules = Path(kind)
    (tmp_path / "photos").mkdir()
    proc = face_clean("run", tmp_path / "photos", "--rules", rules, "--dry-run", timeout=30)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"{rules}: cannot read the rules file: not a regular file" in proc.stderr
    assert not (tmp_path / "photos/.face-clean").exists()


JUNK_RESULTS = [
    "[]",
    "not json",
    '{"status": "bogus", "error": null, "width": 1, "height": 1, "faces": [], "notes": []}',
    '{"status": "analysed", "error": null, "width": 1, "height": 1, "faces": [{"box": 1}], "notes": []}',
    '{"status": "analysed", "faces": 5}',
    "[" * 100_000 + "]" * 100_000,
]


def test_crafted_state_database_rows_are_ignored(cli, tmp_path: Path):
    root = tmp_path / "photos"
    names = [p.name for p in noise_jpegs(root, len(JUNK_RESULTS))]
    assert cli("run", root, "--keep", "all").exit_code == 0
    with sqlite3.connect(root / ".face-clean/state.db") as db:
        shas = [row[0] for row in db.execute("SELECT sha256 FROM analyses ORDER BY sha256")]
        for sha, junk in zip(shas, JUNK_RESULTS, strict=True):
            db.execute("UPDATE analyses SET result = ? WHERE sha256 = ?", (junk, sha))
        db.execute("UPDATE files SET size = 'big', mtime_ns = x'00'")
        db.execute("UPDATE decided SET size = 'x'")
        db.execute("UPDATE model_hashes SET sha256 = 'not a hash', size = 'x'")
    result = cli("run", root, "--keep", "Man")
    assert result.exit_code == 0, result.output
    moved = {r["path"] for r in audit_records(root / LOG)[len(names) :] if r["moved"]}
    assert moved == set(names)  # each one analysed afresh: no face, quarantined


ESCAPES = "\x1b]0;owned\x07\x1b[2J\x9b31mred\u202egpj.jpg"


def test_terminal_escapes_in_names_are_printed_escaped(cli, tmp_path: Path):
    root = tmp_path / "photos"
    photos.save(photos.data.coffee(), root / ESCAPES, format="JPEG", quality=90)
    run = cli("run", root, "--keep", "Man", "-v")
    restore = cli("restore", root, "--all", "-v")
    assert run.exit_code == 0 and restore.exit_code == 0, run.output + restore.output
    for out in (run.output, restore.output):
        assert not any(c in out for c in "\x1b\x07\x9b\u202e"), repr(out)
        assert "\\x1b]0;owned\\x07\\x1b[2J\\x9b31mred\\u202egpj.jpg" in out
    assert (root / ESCAPES).is_file()


# -- cause 6: memory ------------------------------------------------------------------------------

BUDGET = """
import re, resource, sys
from cleaner.analysis.decode import Unreadable, decode
data = open(sys.argv[1], "rb").read()
in_use = int(re.search(r"VmSize:\\s+(\\d+) kB", open("/proc/self/status").read())[1]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (in_use + 2**30, in_use + 2**30))
try:
    decode(data, 200_000_000)
except Unreadable as err:
    print(err)
"""


def test_a_tiny_webp_claiming_192_megapixels_is_refused_from_its_header(tmp_path: Path):
    bomb = tmp_path / "bomb.webp"
    bomb.write_bytes(hostile.webp_bomb(16383, 11720))
    assert bomb.stat().st_size < 40
    proc = subprocess.run([sys.executable, "-c", BUDGET, str(bomb)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("16383x11720 pixels need about 4") and "over the memory budget" in proc.stdout


PEAK = """
import atexit, resource, sys
atexit.register(lambda: print("peak", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr))
sys.argv = ["face-clean", *sys.argv[1:]]
from cleaner.cli import main
main()
"""


def peak_mb(*args: object) -> tuple[int, subprocess.CompletedProcess[str]]:
    proc = subprocess.run([sys.executable, "-c", PEAK, *map(str, args)], capture_output=True, text=True, timeout=300)
    return int(proc.stderr.rsplit("peak ", 1)[1]), proc


def test_a_huge_video_is_never_read_whole(tmp_path: Path):
    root = tmp_path / "photos"
    photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    baseline, _ = peak_mb("run", root, "--keep", "Man", "--dry-run")
    video = root / "holiday.mp4"
    with video.open("wb") as fh:
        fh.write(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41")
        fh.truncate(1 << 30)  # 1 GiB, sparse
    (root / LOG).unlink()
    peak, proc = peak_mb("run", root, "--keep", "Man", "--dry-run")
    assert proc.returncode == 0, proc.stderr  # a video beside the photos is no problem: skipped
    record = next(r for r in audit_records(root / LOG) if r["path"] == "holiday.mp4")
    assert (record["status"], record["action"]) == ("skipped", "keep")
    assert record["error"] == "not an image: a video (MP4/QuickTime)"
    assert record["sha256"] is not None  # hashed as a stream: known by content if renamed
    assert peak < baseline + 200, (peak, baseline)


def test_the_memory_budget_is_a_setting(cli, tmp_path: Path):
    root = tmp_path / "photos"
    big = photos.save(photos.data.coffee(), root / "big.png")
    from PIL import Image

    Image.open(big).resize((3000, 3000)).save(big)  # 9 megapixels
    rules = tmp_path / "rules.yaml"
    rules.write_text("memory_budget: 64\n")
    result = cli("run", root, "--keep", "face", "--rules", rules, "--dry-run")
    assert result.exit_code == 0, result.output
    [record] = audit_records(root / LOG)
    assert (record["status"], record["action"]) == ("skipped", "keep")
    assert "over the memory budget of 64 MB (memory_budget in the rules)" in record["error"]
    rules.write_text("memory_budget: 1024\n")
    assert cli("run", root, "--keep", "face", "--rules", rules, "--dry-run").exit_code == 0
    assert audit_records(root / LOG)[-1]["status"] == "analysed"
    rules.write_text("memory_budget: 1\n")
    bad = cli("check", rules)
    assert bad.exit_code == 2 and "field 'memory_budget': expected a number from 32" in bad.output
