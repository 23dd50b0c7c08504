"""Rules files as a newcomer writes them: one set of defaults, every mistake listed at once with what
was meant, YAML errors that name the file, `check --rules`, and rules that can never match."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cleaner.errors import RulesError
from cleaner.rules import loading as rules
from cleaner.rules.lint import never_matching

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "my-rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_short_rules_file_gets_every_documented_default(tmp_path: Path):
    short = rules.load(write(tmp_path, "rules:\n  - {name: men, when: {gender: Man}, action: keep}\n"))
    documented = rules.load(REPO / "rules.yaml")
    assert short.min_face_size == 40  # was 0 for a file that left it out, 40 for the built-in rules
    same = replace(short, rules=documented.rules, source=documented.source)
    assert same == documented, "every setting a rules file leaves out is the documented default"
    men = short.rules[0]  # and each rule the documented defaults of rules
    assert (men.min_gender_confidence, men.multi_face, men.uncertain_reason) == (0.8, "any", "uncertain")
    assert rules.load(write(tmp_path, "min_face_size: 0\n")).min_face_size == 0  # what is given is kept


def test_yaml_errors_name_the_file_line_and_column(cli, tmp_path: Path):
    path = write(tmp_path, "min_face_size: 40\nrules: [\n  {name: x, action: keep}\n")
    with pytest.raises(RulesError) as err:
        rules.load(path)
    message = str(err.value)
    assert message.startswith(f"{path}: line 4, column 1: not valid YAML")
    assert "<unicode string>" not in message and "\n" not in message
    result = cli("check", "--rules", path)
    assert result.exit_code == 2 and f"face-clean: {path}: line 4" in result.output


def test_every_rules_error_is_listed_with_did_you_mean(cli, tmp_path: Path):
    text = """\
min_face_sise: 40
engine: onnxx
rules:
  - name: men
    when: {gendr: Man}
    action: keep
  - name: women
    when: {gender: women}
    action: quarantine
    reasn: women
  - name: x
    action: delete
"""
    path = write(tmp_path, text)
    result = cli("check", "--rules", path)
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0] == f"face-clean: {path}: 6 problems:"
    expected = [
        "unknown field 'min_face_sise' (did you mean 'min_face_size'?)",
        "field 'engine': expected one of onnx, tensorflow, got 'onnxx' (did you mean 'onnx'?)",
        "rule 1 ('men'): when: unknown field 'gendr' (did you mean 'gender'?)",
        "rule 2 ('women'): unknown field 'reasn' (did you mean 'reason'?)",
        "rule 2 ('women'): when: field 'gender': expected one of Man, Woman, got 'women' (did you mean 'Woman'?)",
        "rule 3 ('x'): field 'action': expected one of keep, quarantine, review, got 'delete'",
    ]
    assert sorted(line.removeprefix("  - ") for line in lines[1:]) == sorted(expected)


def test_check_takes_rules_like_every_other_command(cli, tmp_path: Path):
    path = write(tmp_path, "rules:\n  - {name: everyone, action: keep}\n")
    by_option, by_argument = cli("check", "--rules", path), cli("check", path)
    assert by_option.exit_code == by_argument.exit_code == 0
    assert by_option.output == by_argument.output and f"Rules from {path}" in by_option.output
    assert "1. everyone: always -> keep" in by_option.output
    assert "0.95" in cli("check", "--rules", path, "--min-confidence", "0.95", "--keep", "Man").output
    both = cli("check", path, "--rules", write(tmp_path, "version: 1\n", "other.yaml"))
    assert both.exit_code == 2 and "two rules files" in both.output
    bare = cli("check")
    assert bare.exit_code == 0 and "No policy given (--keep or --rules)" in bare.output


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        ("{name: late, when: {gender: Woman}, action: review}", "rule 1 ('all') before it matches every photo"),
        ("{name: tiny, when: {face_size: {max: 30}}, action: review}", "under min_face_size (40 px)"),
        ("{name: none, when: {faces: 0, gender: Man}, action: review}", "faces of photos that have none"),
        (
            "{name: unsure, when: {gender: Man, gender_confidence: {max: 0.6}}, action: review}",
            "a gender counts only at confidence >= 0.8",
        ),
    ],
)
def test_a_rule_that_can_never_match_gets_a_warning(cli, tmp_path: Path, rule: str, why: str):
    first = "{name: all, action: keep}" if "before it" in why else "{name: a, when: {faces: 3}, action: keep}"
    path = write(tmp_path, f"rules:\n  - {first}\n  - {rule}\n")
    [warning] = never_matching(rules.load(path))
    assert "rule 2" in warning and "can never match" in warning and why in warning, warning
    result = cli("check", "--rules", path)
    assert result.exit_code == 0 and f"warning: {warning}" in result.output
    assert never_matching(rules.load(REPO / "rules.yaml")) == []
    assert never_matching(rules.load(None, "Man")) == [] and never_matching(rules.load(None, "all")) == []


def test_run_warns_about_a_rule_that_can_never_match(cli, tmp_path: Path):
    path = write(tmp_path, "rules:\n  - {name: all, action: keep}\n  - {name: late, action: quarantine}\n")
    (tmp_path / "photos").mkdir()
    result = cli("run", tmp_path / "photos", "--rules", path)
    assert result.exit_code == 0 and "rule 2 ('late') can never match" in result.output
