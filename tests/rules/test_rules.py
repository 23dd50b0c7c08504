"""Rules files: what is accepted, how it is read, and how mistakes are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleaner.records import Action
from cleaner.rules import loading as rules

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return path


def test_documented_rules_are_the_built_in_defaults():
    assert (REPO / "rules.yaml").read_bytes() == (REPO / "cleaner" / "rules" / "default_rules.yaml").read_bytes()
    rs = rules.load(REPO / "rules.yaml")
    assert [r.name for r in rs.rules] == ["no-face", "keep-man", "not-man"]
    assert rs.engine == "onnx" and rs.detector == "opencv"
    assert rs.rules[1].min_gender_confidence == 0.8
    assert rs.rules[1].on_uncertain is Action.REVIEW


def test_check_prints_rules_as_understood(cli):
    result = cli("check", REPO / "rules.yaml")
    assert result.exit_code == 0
    assert "1. no-face: if faces = 0 -> quarantine to no-face/" in result.output
    assert "gender is Man (at confidence >= 0.80) -> keep; if uncertain -> review to uncertain/" in result.output
    assert "otherwise -> keep" in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "rules:\n  - name: a\n    action: keep\n  - name: men\n    when: {gender: male}\n    action: keep\n",
            "rule 2 ('men'): when: field 'gender': expected one of Man, Woman, got 'male'",
        ),
        ("rules:\n  - name: x\n    action: delete\n", "rule 1 ('x'): field 'action': expected one of keep, quarantine"),
        (
            "rules:\n  - name: x\n    when: {face_size: {min: 90, max: 10}}\n    action: keep\n",
            "rule 1 ('x'): when: field 'face_size'",
        ),
        (
            "rules:\n  - name: x\n    when: {gendr: Man}\n    action: keep\n",
            "rule 1 ('x'): when: unknown field 'gendr'",
        ),
        ("rules:\n  - action: keep\n", "rule 1: field 'name'"),
        ("rules:\n  - name: x\n    action: quarantine\n    reason: ../../etc\n", "rule 1 ('x'): field 'reason'"),
        ("rules:\n  - {name: x, action: keep}\n  - {name: x, action: keep}\n", "rule name 'x' is used twice"),
        ("min_gender_confidence: 0.3\n", "field 'min_gender_confidence': expected a number from 0.5 to 1"),
        ("engine: pytorch\n", "field 'engine': expected one of onnx, tensorflow"),
        ("rules: [\n", "not valid YAML"),
        ("!!python/object/apply:os.system ['touch /tmp/pwned']\n", "not valid YAML"),
    ],
)
def test_invalid_rules_name_the_rule_and_field_and_exit_2(cli, tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(rules.RulesError, match=None) as err:
        rules.load(path)
    assert expected in str(err.value)
    result = cli("check", path)
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output


def test_oversized_rules_file_is_refused(tmp_path):
    path = write(tmp_path, "#" * (rules.MAX_RULES_BYTES + 1))
    with pytest.raises(rules.RulesError, match="larger than"):
        rules.load(path)


def test_keep_shortcut_spells_out_rules_and_respects_no_face_setting(tmp_path):
    rs = rules.load(write(tmp_path, "no_face: keep\nmin_gender_confidence: 0.9\n"), keep="Woman")
    assert [(r.name, r.action) for r in rs.rules] == [
        ("no-face", Action.KEEP),
        ("keep-woman", Action.KEEP),
        ("not-woman", Action.QUARANTINE),
    ]
    assert rs.rules[1].min_gender_confidence == 0.9
    assert not rules.load(None, keep="all").moves_files


def test_age_condition_turns_on_the_age_model(tmp_path):
    rs = rules.load(write(tmp_path, "rules:\n  - {name: minors, when: {age: {max: 17}}, action: review}\n"))
    assert rs.attributes == {"gender", "age"}


def test_command_line_overrides_win(tmp_path):
    rs = rules.with_overrides(rules.load(None), engine="tensorflow", detector="ssd", min_confidence=0.95)
    assert (rs.engine, rs.detector) == ("tensorflow", "ssd")
    assert {r.min_gender_confidence for r in rs.rules} == {0.95}
    with pytest.raises(rules.RulesError, match="--min-confidence"):
        rules.with_overrides(rs, min_confidence=1.5)
