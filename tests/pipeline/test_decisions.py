"""What makes a decision the same one: the rules' content and the models, in any process; and
the analysis cache following a file that is rewritten while face-clean runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import photos
from conftest import audit_records

from cleaner.audit.log import AuditLog
from cleaner.commands.session import local_analyzer
from cleaner.moves.mover import Mover
from cleaner.paths import Layout
from cleaner.pipeline.job import Job
from cleaner.rules import loading as rules
from cleaner.store.db import StateDB

LOG = Path(".face-clean/audit.jsonl")
AGE_RULES = """version: 1
rules:
  - name: no-face
    when: {faces: 0}
    action: quarantine
    reason: no-face
  - name: grown-man
    when: {gender: Man, age: {min: 18}}
    action: keep
  - name: others
    action: review
    reason: others
"""
SEEDS = ("0", "1", "2", "3", "4", "5", "6", "7")

# the decision key of a Job, as a restarted daemon or a second run computes it in its own process
KEY = """
import sys
from pathlib import Path
from types import SimpleNamespace
from cleaner.rules import loading as rules
from cleaner.paths import Layout
from cleaner.pipeline.job import Job
for path in sys.argv[1:]:
    analyzer = SimpleNamespace(identity=SimpleNamespace(key="the models"))
    print(Job(rules.load(Path(path)), Layout.for_root(Path(path).parent), analyzer, None, None).decision_key)
"""


def face_clean(*args: str | Path, seed: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    cmd = [sys.executable, "-m", "cleaner", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


def test_the_decision_key_is_the_same_in_every_process_and_wherever_the_rules_file_is(tmp_path: Path):
    first = tmp_path / "config" / "rules.yaml"
    first.parent.mkdir()
    first.write_text(AGE_RULES)  # an age rule: the attributes are {gender, age}, a set
    moved = tmp_path / "elsewhere" / "renamed.yaml"
    moved.parent.mkdir()
    shutil.copy(first, moved)
    keys = set()
    for seed in SEEDS:
        out = subprocess.run(
            [sys.executable, "-c", KEY, str(first), str(moved)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert out.returncode == 0, out.stderr
        keys.update(out.stdout.split())
    assert len(keys) == 1, keys
    other = tmp_path / "other.yaml"
    other.write_text(AGE_RULES.replace("min: 18", "min: 21"))
    analyzer = SimpleNamespace(identity=SimpleNamespace(key="the models"))
    job = Job(rules.load(other), Layout.for_root(tmp_path), analyzer, None, None)  # type: ignore[arg-type]
    assert job.decision_key not in keys  # what the rules say is what counts


def test_a_second_run_in_another_process_repeats_no_decision(tmp_path: Path):
    root = tmp_path / "photos"
    photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    photos.save(photos.swapped(), root / "woman.jpg", quality=90)
    photos.save(photos.data.coffee(), root / "coffee.jpg", quality=90)
    config = tmp_path / "config" / "rules.yaml"
    config.parent.mkdir()
    config.write_text(AGE_RULES)
    assert face_clean("run", root, "--rules", config, seed="1").returncode == 0
    first = audit_records(root / LOG)
    rules_of = {r["path"]: r["rule"] for r in first}
    assert rules_of == {"man.jpg": "grown-man", "woman.jpg": "others", "coffee.jpg": "no-face"}
    moved = tmp_path / "rules-v2.yaml"  # the same rules, moved: still the same decisions
    config.rename(moved)
    for seed in SEEDS[1:4]:
        result = face_clean("run", root, "--rules", moved, seed=seed)
        assert result.returncode == 0, result.stderr
        assert "already decided: 1" in result.stdout, result.stdout
    assert audit_records(root / LOG) == first


def test_a_file_rewritten_after_a_cache_hit_has_its_new_analysis_cached(tmp_path: Path):
    """The daemon's state database lives for weeks: a file answered from the cache, then rewritten
    with another photo, must have the new photo's analysis stored, not be analysed at every look."""
    root = tmp_path / "photos"
    photo = photos.save(photos.astronaut(), root / "photo.jpg", quality=90)
    layout = Layout.for_root(root)
    with StateDB(layout.state_db) as state, AuditLog(layout.audit_log) as audit:

        def decide(keep: str) -> None:
            rs = rules.load(None, keep)
            mover = Mover(layout.journal, audit)
            Job(rs, layout, local_analyzer(rs, state, 0), state, audit, mover).decide_all([photo])
            mover.close()

        decide("Man")  # analysed
        decide("face")  # other rules: answered from the cache
        photos.save(photos.swapped(), photo, quality=90)  # another photo at the same name
        decide("Woman")  # analysed: new bytes
        decide("all")  # other rules again: the new photo's analysis, from the cache
        remembered = len(state._unchanged)
    cached = [r["cached"] for r in audit_records(layout.audit_log)]
    assert cached == [False, True, False, True]
    assert remembered == 0  # and cache hits are not remembered once they are stored: no growth
    last = audit_records(layout.audit_log)[-1]
    assert last["faces"][0]["dominant_gender"] == "Woman"
