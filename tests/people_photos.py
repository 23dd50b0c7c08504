"""Photos of two people, three each, for the people tests: Barack Obama and Joe Biden from
../shared/labelled (face_recognition's examples; README there), each also cut from their photo side by
side. ../shared sits beside the repository in CI; a test without it fails there (tests/ci.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ci import unavailable
from PIL import Image

LABELLED = Path(__file__).resolve().parents[1].parent / "shared" / "labelled"
OBAMA = ("obama1.jpg", "obama2.jpg", "obama3.jpg")
BIDEN = ("biden1.jpg", "biden2.jpg", "biden3.jpg")
RULES = """version: 1
min_gender_confidence: 1.0  # no model is that sure: every face is uncertain, every photo goes to review
rules:
  - name: keep-man
    when: {gender: Man}
    action: keep
  - name: not-man
    action: quarantine
    reason: not-man
"""


def two_people(root: Path) -> Path:
    """Six photos in ``root`` (Obama's and Biden's), and the rules that send them all to review, returned."""
    if not (LABELLED / "Man").is_dir():
        unavailable(f"the labelled photos are not at {LABELLED}")
    root.mkdir(parents=True, exist_ok=True)
    man = LABELLED / "Man"
    for src, name in [
        ("face_recogni_examples_obama.jpg", OBAMA[0]),
        ("face_recogni_examples_obama2.jpg", OBAMA[1]),
        ("face_recogni_examples_biden.jpg", BIDEN[0]),
        ("face_recogni_examples_knn_examples_train_biden_biden2.jpg", BIDEN[1]),
    ]:
        shutil.copyfile(man / src, root / name)
    with Image.open(LABELLED / "mixed" / "face_recogni_examples_two_people.jpg") as both:
        w, h = both.size
        both.crop((0, 0, w // 2, h)).save(root / OBAMA[2], quality=92)  # Obama stands on the left
        both.crop((w // 2, 0, w, h)).save(root / BIDEN[2], quality=92)
    rules = root.parent / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    return rules
