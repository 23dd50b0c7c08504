"""Settings that are remembered for a folder, config files found in three places, `face-clean config`,
the list of runs, and undoing one run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import photos
import pytest
import requests
from ci import unavailable
from conftest import audit_records
from watching import wait_for

REMEMBERED = Path(".face-clean/remembered.json")


def files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    photos.save(photos.data.coffee(), root / "coffee.jpg", quality=90)
    photos.save(photos.swapped(), root / "album" / "woman.png")
    return root


def test_what_run_was_given_is_remembered_by_every_command(cli, folder: Path, tmp_path: Path):
    q, r, log = tmp_path / "rejects", tmp_path / "review", tmp_path / "state" / "audit.jsonl"
    first = cli("run", folder, "--keep", "Man", "--quarantine", q, "--review-dir", r, "--audit-log", log)
    assert first.exit_code == 0, first.output
    assert files(q) == {"no-face/coffee.jpg", "not-man/album/woman.png"}
    first_id = audit_records(log)[0]["run_id"]
    assert f"run {first_id}" in first.stdout  # every run says its id

    photos.save(photos.data.rocket(), folder / "rocket.jpg", quality=90)
    again = cli("run", folder)  # no options: the policy and the folders are remembered
    assert again.exit_code == 0, again.output
    assert f"remembered for this folder: --keep Man, --quarantine {q}, --review-dir {r}, --audit-log {log}" in (
        " ".join(again.stderr.split())
    )
    assert files(q) == {"no-face/coffee.jpg", "no-face/rocket.jpg", "not-man/album/woman.png"}
    assert not (folder / ".face-clean" / "quarantine").exists() and [r["path"] for r in audit_records(log)][-1] == (
        "rocket.jpg"
    )

    report = cli("report", folder)
    assert report.exit_code == 0 and (log.parent / "report.html").is_file(), report.output
    runs = cli("runs", folder)
    assert runs.exit_code == 0 and first_id in runs.output
    assert f"face-clean run {folder} --keep Man --quarantine {q}" in runs.output and f"face-clean run {folder}\n" in (
        runs.output
    )
    shown = cli("config", folder).output
    assert "keep            Man" in shown and f"remembered for this folder (run {first_id}, " in shown
    assert f"quarantine      {q}" in shown
    restore = cli("restore", folder, "--reason", "no-face", "--no-verdict")  # for the watch to decide again
    assert restore.exit_code == 0 and "Restored: 2 (no-face 2)" in restore.output, restore.output
    assert {"coffee.jpg", "rocket.jpg"} <= files(folder)

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    watch = subprocess.Popen(
        [sys.executable, "-m", "cleaner", "watch", str(folder), "--settle", "0.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:  # the watch writes its heartbeat beside the remembered audit log, and moves to the remembered quarantine
        wait_for(lambda: (log.parent / "heartbeat").exists() or watch.poll() is not None, 90, "the daemon")
        wait_for(lambda: "no-face/rocket.jpg" in files(q) or watch.poll() is not None, 60, "rocket quarantined")
    finally:
        watch.send_signal(signal.SIGTERM)
        out, _ = watch.communicate(timeout=30)
    assert watch.returncode == 0, out
    assert files(q) >= {"no-face/coffee.jpg", "no-face/rocket.jpg"}


def test_serve_and_verdict_use_the_remembered_folders(cli, folder: Path, tmp_path: Path):
    q, log = tmp_path / "rejects", tmp_path / "state" / "audit.jsonl"
    assert cli("run", folder, "--keep", "Man", "--quarantine", q, "--audit-log", log).exit_code == 0
    serve = subprocess.Popen(
        [sys.executable, "-m", "cleaner", "serve", str(folder), "--bind", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:  # the page shows what run moved to the remembered quarantine, from the remembered log
        said = ""
        while " is at http" not in said and serve.poll() is None:
            said += serve.stdout.readline()  # type: ignore[union-attr]
        assert f"remembered for this folder: --quarantine {q}, --audit-log {log}" in " ".join(said.split()), said
        url = said.split(" is at ")[1].split()[0]
        session = requests.Session()
        assert session.get(url, timeout=30).status_code == 200
        page = {it["path"]: it for it in session.get(url + "api/items", timeout=30).json()["items"]}
        assert page["album/woman.png"]["group"] == "quarantined: not-man" and page["coffee.jpg"]["present"] is True
    finally:
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=30)
    assert serve.returncode == 0, out

    kept = cli("verdict", "keep", folder, q / "not-man" / "album" / "woman.png")
    assert kept.exit_code == 0, kept.output
    assert (folder / "album" / "woman.png").is_file() and audit_records(log)[-1]["decided_by"] == "person"
    listed = cli("verdict", "list", folder)
    assert listed.exit_code == 0 and "album/woman.png" in listed.stdout, listed.output


def test_a_different_value_is_used_and_said(cli, folder: Path, tmp_path: Path):
    assert cli("run", folder, "--keep", "Man", "--quarantine", tmp_path / "q1").exit_code == 0
    photos.save(photos.data.rocket(), folder / "rocket.jpg", quality=90)
    result = cli("run", folder, "--quarantine", tmp_path / "q2", "--keep", "face")
    assert result.exit_code == 0
    said = " ".join(result.stderr.split())
    q1, q2 = tmp_path / "q1", tmp_path / "q2"
    assert f"--quarantine {q2} instead of the remembered --quarantine {q1}, and remembered" in said
    assert f"`face-clean restore DIR --quarantine {tmp_path / 'q1'}` brings them back" in said
    assert "--keep face instead of the remembered --keep Man" in said
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules: [{name: all, action: keep}]\n")
    other = cli("run", folder, "--rules", rules)
    assert f"--rules {rules} instead of the remembered --keep face" in " ".join(other.stderr.split())
    assert files(tmp_path / "q2") == {"no-face/rocket.jpg"}
    remembered = json.loads((folder / REMEMBERED).read_text())["settings"]
    assert remembered == {"rules": str(rules), "quarantine": str(tmp_path / "q2")}  # the policy is one setting


def test_a_dry_run_remembers_nothing(cli, folder: Path):
    assert cli("run", folder, "--keep", "Man", "--dry-run").exit_code == 0
    assert not (folder / REMEMBERED).exists()
    assert cli("run", folder).exit_code == 2  # the policy tried out is not the policy


def test_a_planted_or_copied_memory_is_never_trusted(cli, folder: Path, tmp_path: Path):
    """A remembered quarantine says where photos go: one face-clean did not write, for this folder, as
    this user, is ignored, and photos go where the command line (or the default) says."""
    elsewhere = tmp_path / "elsewhere"
    other = tmp_path / "other"
    photos.save(photos.data.rocket(), other / "rocket.jpg", quality=90)
    assert cli("run", other, "--keep", "Man", "--quarantine", elsewhere).exit_code == 0  # signed, for `other`
    shutil.copytree(other / ".face-clean", folder / ".face-clean")  # a state folder brought along
    result = cli("run", folder, "--keep", "Man")
    assert result.exit_code == 0
    assert f"it was written for another folder ('{other}')" in " ".join(result.stderr.split())
    assert files(elsewhere) == {"no-face/rocket.jpg"}  # nothing of folder's went there
    assert "no-face/coffee.jpg" in files(folder / ".face-clean" / "quarantine")

    forged = json.loads((folder / REMEMBERED).read_text())
    forged["settings"]["quarantine"] = str(elsewhere)  # edited: its signature no longer matches
    (folder / REMEMBERED).write_text(json.dumps(forged))
    photos.save(photos.data.chelsea(), folder / "cat.png")
    result = cli("run", folder)
    assert result.exit_code == 2 and "its signature does not match" in result.output  # ignored: no policy either
    assert files(elsewhere) == {"no-face/rocket.jpg"}


def test_a_state_folder_of_another_user_is_set_aside_and_its_memory_unread(cli, folder: Path, tmp_path: Path):
    if os.geteuid() != 0:
        unavailable("giving a folder to another user needs root")
    assert cli("run", folder, "--keep", "Man", "--quarantine", tmp_path / "mine").exit_code == 0
    for p in [folder / ".face-clean", *(folder / ".face-clean").rglob("*")]:
        os.lchown(p, 4321, 4321)  # as if an uploader had made it
    photos.save(photos.data.rocket(), folder / "rocket.jpg", quality=90)
    result = cli("run", folder, "--keep", "Man")
    assert result.exit_code == 0
    assert "ignored the settings remembered" in result.output and "set aside, unread" in result.output
    assert files(tmp_path / "mine") == {"no-face/coffee.jpg", "not-man/album/woman.png"}  # rocket not sent there


def test_config_files_are_found_in_order_and_shown(cli, folder: Path, tmp_path: Path, monkeypatch):
    user = tmp_path / "xdg" / "face-clean" / "config.yaml"
    user.parent.mkdir(parents=True)
    user.write_text("keep: all\nquarantine: user-q\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    shown = cli("config", folder).output
    assert "keep            all" in shown and f"{user}" in shown
    assert f"quarantine      {user.parent / 'user-q'}" in shown  # relative to the file's folder

    env_file = tmp_path / "site.yaml"
    env_file.write_text("keep: Man\n")
    monkeypatch.setenv("FACE_CLEAN_CONFIG", str(env_file))
    own = folder / ".face-clean" / "config.yaml"
    own.parent.mkdir(mode=0o700)
    own.write_text("detector: opencv\n")
    own.chmod(0o600)
    lines = {line.split()[0]: line for line in cli("config", folder).output.splitlines() if line.startswith("  ")}
    assert lines["keep"].split()[1:3] == ["Man", str(env_file)]  # $FACE_CLEAN_CONFIG before the user's file
    assert lines["quarantine"].endswith(str(user))
    assert lines["detector"].split()[1:3] == ["opencv", str(own)]  # the folder's own before both
    assert lines["gender_model"].endswith("environment FACE_CLEAN_GENDER_MODEL")  # (the tests' stand-in)

    result = cli("run", folder)  # the policy from $FACE_CLEAN_CONFIG
    assert result.exit_code == 0 and files(user.parent / "user-q") == {
        "no-face/coffee.jpg",
        "not-man/album/woman.png",
    }
    assert json.loads((folder / REMEMBERED).read_text())["settings"] == {}  # config files are not remembered

    assert cli("config", folder, "--keep", "Woman").output.count("the command line") == 1


def test_a_bad_config_file_names_itself_and_every_mistake(cli, folder: Path, tmp_path: Path, monkeypatch):
    bad = tmp_path / "config.yaml"
    bad.write_text("keep: cats\nquarantne: /q\n")
    monkeypatch.setenv("FACE_CLEAN_CONFIG", str(tmp_path))  # a folder: its config.yaml
    result = cli("run", folder)
    assert result.exit_code == 2
    assert f"{bad}: 2 problems:" in result.output
    assert "unknown field 'quarantne' (did you mean 'quarantine'?)" in result.output
    assert "field 'keep': expected one of Man, Woman, face, all, got 'cats'" in result.output
    monkeypatch.setenv("FACE_CLEAN_CONFIG", str(tmp_path / "nothing.yaml"))
    missing = cli("run", folder, "--keep", "Man")
    assert missing.exit_code == 2 and "$FACE_CLEAN_CONFIG names" in missing.output
    (empty := tmp_path / "config").mkdir()  # a folder without config.yaml (the container's /config): none
    monkeypatch.setenv("FACE_CLEAN_CONFIG", str(empty))
    assert cli("run", folder, "--keep", "Man").exit_code == 0


def test_runs_are_listed_and_one_is_undone(cli, folder: Path):
    assert cli("run", folder, "--keep", "Man").exit_code == 0
    photos.save(photos.data.rocket(), folder / "rocket.jpg", quality=90)
    photos.save(photos.data.chelsea(), folder / "cat.png")
    assert cli("run", folder).exit_code == 0
    runs = [json.loads(line) for line in cli("runs", folder, "--json").output.splitlines()]
    assert [r["counts"].get("quarantined") for r in runs] == [2, 2]
    assert runs[0]["command"] == f"face-clean run {folder} --keep Man" and runs[0]["ended"] >= runs[0]["started"]
    undo = cli("restore", folder, "--run", runs[1]["run_id"])
    assert undo.exit_code == 0 and "Restored: 2 (no-face 2)" in undo.output
    assert {"rocket.jpg", "cat.png"} <= files(folder) and "coffee.jpg" not in files(folder)
    listed = cli("runs", folder).output
    assert "face-clean restore" in listed and "restored 2" in listed


def test_restore_of_a_reason_that_matches_nothing_lists_the_reasons(cli, folder: Path):
    assert cli("run", folder, "--keep", "Man").exit_code == 0
    result = cli("restore", folder, "--reason", "nofaces")
    assert result.exit_code == 1
    assert (
        "no file was ever moved out for --reason 'nofaces' (did you mean 'no-face'?); "
        "still moved out, by reason: no-face (1), not-man (1)"
    ) in " ".join(result.output.split())
    assert cli("restore", folder, "--reason", "no-face").exit_code == 0
    again = cli("restore", folder, "--reason", "no-face")  # restored already: nothing left, no mistake
    assert again.exit_code == 0 and "never" not in again.output


def test_config_edit_makes_the_file_from_a_template_and_forget_forgets(cli, folder: Path, tmp_path: Path, monkeypatch):
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\necho "keep: women" >> "$1"\n')
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    edited = cli("config", "--edit")
    user = tmp_path / "xdg" / "face-clean" / "config.yaml"
    assert edited.exit_code == 0 and f"editing {user}" in edited.output
    assert user.read_text().startswith("# face-clean config") and "keep            Woman" in edited.output
    assert cli("config", "--path").output.splitlines() == [f"{user}  (the user's; found)"]
    assert cli("run", folder, "--keep", "Man").exit_code == 0  # the command line wins, and is remembered
    assert "keep            Man" in cli("config", folder).output
    forgot = cli("config", folder, "--forget")
    assert forgot.exit_code == 0 and f"forgot for {folder}: keep Man" in forgot.output
    assert "keep            Woman" in cli("config", folder).output  # the config file's again


def test_a_folder_that_became_shared_says_why_its_remembered_options_are_not_used(cli, folder: Path):
    """Issue 26: once others may write to the folder its state is kept outside it; the options an earlier
    run remembered inside are never used (an uploader could have planted them), and that is said."""
    first = cli("run", folder, "--keep", "Man")
    assert first.exit_code == 0, first.output
    old = (folder / ".face-clean/remembered.json").read_bytes()
    folder.chmod(0o2775)
    again = cli("run", folder)
    assert again.exit_code == 2, again.output
    assert "are not used: give them again once" in again.output and "no policy" in again.output
    given = cli("run", folder, "--keep", "Man")
    assert given.exit_code == 0, given.output
    assert cli("run", folder).exit_code == 0  # remembered again, outside the folder now
    assert (folder / ".face-clean/remembered.json").read_bytes() == old  # never read, never written
