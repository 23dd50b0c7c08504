""" "Cannot tell" on real photos: what the models cannot judge goes to review, each with its reason.

Photos from ``../shared/labelled-wild/`` (read-only; copied into a temporary folder), run through
``face-clean run --keep ...`` with the built-in models: a small face, a near miss, a child, a group
photo whose men are all small.  Each must land in the review folder with its reason in the audit
log; with the check turned off in the rules, the same photo is moved as before (so the review is
the check's doing).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ci import unavailable
from conftest import STAND_IN_DEFAULTS, audit_records

WILD = Path(__file__).resolve().parents[2].parent / "shared" / "labelled-wild"

CASES = [
    # photo, policy, reason, the rules' setting that turns the check off, and the decision then
    ("Man/wider_38_Tennis_Tennis_38_142.jpg", "Man", "small-face", "small_faces: 0", "no-face"),
    # a man, and beside him a detection just under the threshold: under --keep Woman it may be a woman
    (
        "Man/wider_48_Parachutist_Paratrooper_Parachutist_Paratrooper_48_122.jpg",
        "Woman",
        "near-miss",
        "near_miss: false",
        "not-woman",
    ),
    ("Man/fairface_0456.jpg", "Man", "child", "child_age: 0", "keep-man"),
    ("mixed/wider_58_Hockey_icehockey_puck_58_835.jpg", "Man", "small-face", "small_faces: 0", "no-face"),
]


@pytest.fixture(autouse=True)
def builtin_models(monkeypatch):
    for name in STAND_IN_DEFAULTS:  # face-clean's own defaults: yunet and the built-in models
        monkeypatch.delenv(name)


def copied(photo: str, root: Path) -> Path:
    source = WILD / photo
    if not source.is_file():
        unavailable(f"{source} is missing (the labelled photos live in ../shared/labelled-wild/)")
    root.mkdir(parents=True)
    return Path(shutil.copy(source, root / Path(photo).name))


@pytest.mark.parametrize(("photo", "policy", "reason", "off", "then"), CASES, ids=[f"{c[2]}-{c[0]}" for c in CASES])
def test_a_photo_the_models_cannot_judge_goes_to_review_with_its_reason(
    cli, tmp_path: Path, photo: str, policy: str, reason: str, off: str, then: str
):
    root = tmp_path / "photos"
    path = copied(photo, root)
    result = cli("run", root, "--keep", policy)
    assert result.exit_code == 0, result.output
    (record,) = audit_records(root / ".face-clean" / "audit.jsonl")
    assert (record["action"], record["reason"], record["uncertain"]) == ("review", reason, True)
    destination = Path(record["destination"])
    assert record["moved"] and not path.exists() and destination.is_file()
    assert destination.parent.name == reason  # the review folder's subfolder for that reason

    # the check turned off: the photo is decided as it was before it existed
    again = tmp_path / "again"
    copied(photo, again)
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"cannot_tell: {{{off}}}\n")
    result = cli("run", again, "--keep", policy, "--rules", rules, "--dry-run")
    assert result.exit_code == 0, result.output
    (record,) = audit_records(again / ".face-clean" / "audit.jsonl")
    assert record["rule"] == then


def test_check_explains_every_reason(cli):
    result = cli("check", "--keep", "Man")
    assert result.exit_code == 0, result.output
    for reason in ("near-miss:", "small-face:", "child:"):
        assert reason in result.output
    assert "child_age: 0 turns this off" in result.output
