"""Defaults that must not surprise a newcomer: no policy, no moves; one --keep, spelled any way; no
quarantine inside the photo folder, and no old one scanned; every command's help with examples and
exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import photos
import pytest
from conftest import audit_records

from cleaner.cli import main

LOG = Path(".face-clean/audit.jsonl")


def files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    photos.save(photos.swapped(), root / "album" / "woman.png")
    photos.save(photos.data.coffee(), root / "album" / "coffee.jpg", quality=90)
    return root


@pytest.mark.parametrize("command", ["run", "watch"])
def test_without_a_policy_nothing_runs_and_the_choices_are_listed(cli, folder: Path, command: str):
    before = files(folder)
    result = cli(command, folder)
    assert result.exit_code == 2
    assert "no policy: say what to keep with --keep or --rules; nothing was moved" in result.output
    for choice in ("--keep Man", "--keep Woman", "--keep face", "--keep all", "--rules FILE", "--dry-run"):
        assert choice in result.output
    assert files(folder) == before and not (folder / ".face-clean").exists()  # nothing written either


def test_run_help_says_the_policy_is_required(cli):
    text = cli("run", "--help").output
    assert "A policy is required: --keep or --rules" in " ".join(text.split())


def test_a_repeated_keep_is_an_error_and_nothing_moves(cli, folder: Path):
    before = files(folder)
    result = cli("run", folder, "--keep", "Man", "--keep", "Woman")
    assert result.exit_code == 2
    assert "given 2 times (Man, Woman); give one policy" in " ".join(result.output.split())
    assert files(folder) == before
    assert cli("check", "--keep", "Man", "--keep", "men").exit_code == 0  # the same policy twice is one policy


@pytest.mark.parametrize(
    ("spelling", "rules"),
    [
        ("man", "keep-man"),
        ("MEN", "keep-man"),
        ("male", "keep-man"),
        ("woman", "keep-woman"),
        ("Women", "keep-woman"),
        ("Face", "keep-faces"),
        ("faces", "keep-faces"),
        ("ALL", "keep-all"),
    ],
)
def test_keep_accepts_any_case_and_plurals(cli, spelling: str, rules: str):
    result = cli("check", "--keep", spelling)
    assert result.exit_code == 0 and f"{rules}:" in result.output, result.output


def test_keep_refuses_other_words_with_the_choices(cli, folder: Path):
    result = cli("run", folder, "--keep", "cats")
    assert result.exit_code == 2 and "'cats' is not a policy: choose one of Man, Woman, face, all" in result.output


def test_run_with_keep_men_keeps_the_man_and_moves_the_rest(cli, folder: Path):
    assert cli("run", folder, "--keep", "men").exit_code == 0
    assert files(folder) - {p for p in files(folder) if p.startswith(".face-clean/") and "quarantine" not in p} == {
        "man.jpg",
        ".face-clean/quarantine/not-man/album/woman.png",
        ".face-clean/quarantine/no-face/album/coffee.jpg",
    }


@pytest.mark.parametrize("option", ["--quarantine", "--review-dir"])
def test_a_quarantine_inside_the_photo_folder_is_refused(cli, folder: Path, option: str):
    before = files(folder)
    result = cli("run", folder, "--keep", "Man", option, folder / "album" / "q")
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert f"{option} {folder / 'album' / 'q'} (the command line) is inside {folder}, the folder being cleaned" in text
    assert f"Choose a folder outside {folder}, or leave {option} out" in text
    assert files(folder) == before


def test_an_old_quarantine_inside_the_folder_is_never_scanned(cli, folder: Path, tmp_path: Path):
    """A quarantine an older face-clean was given inside the folder: the audit log says files went there,
    so a run without it (after the refusal above) leaves it alone, and remembers it for good."""
    assert cli("run", folder, "--keep", "Man").exit_code == 0
    old, q = folder / "album" / "rejected", folder / ".face-clean" / "quarantine"
    shutil.move(q, old)  # as an older version left it: the quarantine inside the folder...
    log = folder / LOG
    log.write_text(log.read_text().replace(str(q), str(old)))  # ...and the log saying so
    (folder / ".face-clean" / "remembered.json").unlink()  # no memory yet: the log is all there is
    before = audit_records(log)
    photos.save(photos.data.rocket(), folder / "rocket.jpg", quality=90)
    result = cli("run", folder, "--keep", "Man")
    assert result.exit_code == 0, result.output
    new = audit_records(log)[len(before) :]
    assert [r["path"] for r in new] == ["rocket.jpg"]  # not album/rejected/no-face/album/coffee.jpg
    assert (old / "no-face" / "album" / "coffee.jpg").is_file()
    remembered = json.loads((folder / ".face-clean" / "remembered.json").read_text())
    assert str(old) in remembered["moved_to"]
    photos.save(photos.data.rocket(), old / "no-face" / "another.jpg", quality=80)
    assert cli("run", folder, "--keep", "Man").exit_code == 0  # from memory now: still not scanned
    assert all("rejected" not in r["path"] for r in audit_records(log))


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += commands(command, f"{prefix}{name} ")
    return found


@pytest.mark.parametrize(("name", "command"), commands(main), ids=[n for n, _ in commands(main)])
def test_every_command_help_has_examples_and_exit_codes(cli, name: str, command: click.Command):
    text = cli(*name.split(), "--help").output
    assert "Examples:" in text and f"face-clean {name.split()[0]}" in text.split("Examples:")[1]
    assert "Exit codes:" in text and "  0 " in text.split("Exit codes:")[1]


def test_folder_in_use_has_its_own_exit_code_in_the_help(cli):
    assert "5   the folder (or its quarantine or audit log) is in use by another face-clean" in cli("--help").output
    assert "5   the folder" in cli("run", "--help").output and "5   the folder" in cli("restore", "--help").output
