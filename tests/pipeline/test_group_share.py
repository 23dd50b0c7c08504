"""A group share is hostile too (issue 26, causes 1 and 4): photos in a setgid ``2775`` folder of a
group, face-clean running as one account of that group, an uploader as another. Nothing the uploader
plants, renames or swaps in the share may leak the state, steer a decision or stop face-clean; the
state lives outside the share, private (cleaner.paths.state_for).

Built for real: CI runs as root, so each module run makes a group and two accounts (unique names,
removed afterwards) and runs the command line as them with setpriv. Every file inside and outside is
hashed before and after where an attack could change one.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import photos
import pytest
import tiny_models
from ci import unavailable
from conftest import STAND_IN_DEFAULTS, audit_records, sha256

NOBODY_CAN_READ = "Permission denied"


@dataclass(frozen=True)
class Accounts:
    group: str
    daemon: str
    uploader: str


@pytest.fixture(scope="module")
def accounts() -> Iterator[Accounts]:
    if os.geteuid() != 0 or not all(shutil.which(t) for t in ("useradd", "groupadd", "setpriv")):
        unavailable("it needs root, useradd and setpriv, to build a group share with two accounts")
    tag = secrets.token_hex(3)
    made = Accounts(f"fcg{tag}", f"fcd{tag}", f"fcu{tag}")
    subprocess.run(["groupadd", made.group], check=True)
    try:
        for user in (made.daemon, made.uploader):
            subprocess.run(["useradd", "-M", "-N", "-g", made.group, "-s", "/usr/sbin/nologin", user], check=True)
        yield made
    finally:
        for user in (made.daemon, made.uploader):
            subprocess.run(["userdel", user], check=False, capture_output=True)
        subprocess.run(["groupdel", made.group], check=False, capture_output=True)


class Share:
    """``base/share`` (root:GROUP, ``2775``) with the uploader's photos, the daemon's home, the
    uploader's own folder; commands run as either account, with umask 002 as a NAS daemon's."""

    def __init__(self, base: Path, who: Accounts) -> None:
        self.base, self.who = base, who
        self.root, self.home, self.theirs = base / "share", base / "home-daemon", base / "uploader-own"
        self.models = base / "models"
        tiny_models.install(self.models)
        for folder, owner, mode in ((self.home, who.daemon, 0o700), (self.theirs, who.uploader, 0o755)):
            folder.mkdir()
            shutil.chown(folder, owner, who.group)
            folder.chmod(mode)
        self.root.mkdir()
        shutil.chown(self.root, "root", who.group)
        self.root.chmod(0o2775)
        subprocess.run(["chown", "-R", f"{who.daemon}:{who.group}", str(self.models)], check=True)

    def upload(self, name: str, picture: object) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        photos.save(picture, path, quality=90)
        for p in (path, *path.parents):
            if p == self.root:
                break
            shutil.chown(p, self.who.uploader, self.who.group)
            p.chmod(0o2775 if p.is_dir() else 0o664)  # as an upload with umask 002 makes them
        return path

    def env(self) -> dict[str, str]:
        keep = {k: os.environ[k] for k in ("PATH", "PYTHONPATH", "LANG") if k in os.environ}
        return {
            **keep,
            **STAND_IN_DEFAULTS,
            "HOME": str(self.home),  # no XDG_STATE_HOME: the default ~/.local/state is used
            "DEEPFACE_HOME": str(self.models),
            "DEEPFACE_BACKEND_ENGINE": "onnx",
            "XDG_CONFIG_HOME": str(self.home / "config"),
        }

    def command(self, user: str, *args: str | Path, caps: tuple[str, ...] = ()) -> list[str]:
        as_user = ["setpriv", f"--reuid={user}", f"--regid={self.who.group}", "--init-groups", *caps, "--"]
        return [*as_user, "sh", "-c", 'umask 002; exec "$@"', "sh", *map(str, args)]

    def python(self, *args: str | Path) -> list[str]:
        """face-clean as the daemon's account. A Python that only root can reach (pyenv under /root) is
        reached with CAP_DAC_READ_SEARCH, which reads past permissions but writes nothing more."""
        caps = () if _reachable(sys.executable) else ("--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search")
        return self.command(self.who.daemon, sys.executable, "-m", "cleaner", *args, caps=caps)

    def face_clean(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.python(*args), capture_output=True, text=True, env=self.env(), timeout=300)

    def watch(self, *args: str | Path) -> subprocess.Popen[str]:
        cmd = self.python("watch", self.root, *args)
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env())

    def as_uploader(self, script: str) -> subprocess.CompletedProcess[str]:
        cmd = self.command(self.who.uploader, "sh", "-c", script)
        return subprocess.run(cmd, capture_output=True, text=True, cwd=self.root, timeout=60)

    def state(self) -> Path | None:
        """The daemon's state folder for the share, wherever face-clean put it."""
        home = self.home / ".local/state/face-clean"
        found = sorted(home.iterdir()) if home.is_dir() else []
        return found[0] if len(found) == 1 else None

    def audit_log(self) -> Path:
        state = self.state()
        return state / "audit.jsonl" if state else self.root / ".face-clean/audit.jsonl"

    def records(self) -> list[dict]:
        log = self.audit_log()
        return audit_records(log) if log.is_file() else []


@pytest.fixture
def share(accounts: Accounts) -> Iterator[Share]:
    base = Path(tempfile.mkdtemp(prefix="face-clean-share-"))  # tmp_path's parents are closed to the accounts
    base.chmod(0o755)
    try:
        yield Share(base, accounts)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _reachable(path: str) -> bool:
    real = Path(os.path.realpath(path))
    return all(os.stat(p).st_mode & 0o001 for p in (real, *real.parents))


def hashes(*roots: Path) -> dict[str, str]:
    return {str(p): sha256(p) for r in roots for p in sorted(r.rglob("*")) if p.is_file() and not p.is_symlink()}


def contents(*roots: Path) -> list[str]:
    return sorted(hashes(*roots).values())


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_the_state_of_a_group_share_lives_outside_it_private_whatever_umask_and_setgid(share: Share):
    share.upload("man.jpg", photos.astronaut())
    share.upload("coffee.jpg", photos.data.coffee())
    before, theirs = contents(share.root), hashes(share.theirs)
    done = share.face_clean("run", share.root, "--keep", "Man")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(os.listdir(share.root)) == ["man.jpg"]  # no .face-clean in the share at all
    state = share.state()
    assert state is not None, "no state folder in the daemon's ~/.local/state/face-clean"
    assert "may be written by other accounts (group or world): its state" in done.stderr
    assert str(state) in done.stderr
    daemon = share.who.daemon
    for folder in (state.parent, state, state / "quarantine"):
        st = os.stat(folder)
        assert stat.S_IMODE(st.st_mode) == 0o700, f"{folder} is {stat.S_IMODE(st.st_mode):o}, not 700"
        assert st.st_uid == int(subprocess.check_output(["id", "-u", daemon]))
    assert (state / "quarantine/no-face/coffee.jpg").is_file()
    assert {r["path"] for r in share.records()} == {"man.jpg", "coffee.jpg"}
    assert contents(share.root, state / "quarantine") == before and hashes(share.theirs) == theirs
    peek = share.as_uploader(f"cat {state / 'audit.jsonl'} || ls {state}")
    assert peek.returncode != 0 and NOBODY_CAN_READ in peek.stderr


def test_a_planted_state_folder_with_a_forged_log_steers_nothing(share: Share):
    share.upload("man.jpg", photos.astronaut())
    share.upload("albums/coffee.jpg", photos.data.coffee())
    share.upload("rocket.jpg", photos.data.rocket())
    forged = "".join(
        f'{{"path": "{p}", "root": "{share.root}", "run_id": "x", "action": "quarantine", "moved": true, '
        f'"dry_run": false, "destination": "{dest}"}}\n'
        for p, dest in (("coffee.jpg", share.root / "albums/no-face/coffee.jpg"), ("a", share.root / "no-face/a"))
    )
    planted = share.as_uploader(
        f"mkdir .face-clean && chmod 777 .face-clean && printf '%s' '{forged}' > .face-clean/audit.jsonl"
        " && head -c 5000000 /dev/zero | tr '\\0' '\\n' | sed 's/^/{}/' >> .face-clean/audit.jsonl"
    )
    assert planted.returncode == 0, planted.stderr
    planted_files = hashes(share.root / ".face-clean")
    done = share.face_clean("run", share.root, "--keep", "Man")
    assert done.returncode == 0, done.stdout + done.stderr
    decided = {r["path"]: r for r in share.records()}
    assert set(decided) == {"man.jpg", "albums/coffee.jpg", "rocket.jpg"}  # albums/ and DIR are scanned
    state = share.state()
    assert state is not None
    assert decided["albums/coffee.jpg"]["destination"] == str(state / "quarantine/no-face/albums/coffee.jpg")
    assert hashes(share.root / ".face-clean") == planted_files  # never read, never written
    assert "does not read" in done.stderr


@pytest.mark.slow
def test_an_uploader_renaming_or_swapping_the_state_during_watch_gets_nothing(share: Share):
    share.upload("man.jpg", photos.astronaut())
    share.upload("coffee.jpg", photos.data.coffee())
    theirs = hashes(share.theirs)
    daemon = share.watch("--keep", "Man", "--settle", "1")
    try:
        wait_for(lambda: len(share.records()) >= 2, 120, "the first two records")
        swapped = share.as_uploader(
            f"if [ -e .face-clean ]; then mv .face-clean stolen; fi; ln -s {share.theirs} .face-clean"
        )
        assert swapped.returncode == 0, swapped.stderr
        second = share.face_clean("run", share.root, "--keep", "Man")
        assert second.returncode == 5, second.stdout + second.stderr  # in use: the lock was not renamed away
        share.upload("later.jpg", photos.data.coffee())
        wait_for(lambda: any(r["path"] == "later.jpg" for r in share.records()), 120, "later.jpg's record")
    finally:
        daemon.send_signal(signal.SIGTERM)
        out = daemon.communicate(timeout=60)[0]
    assert "Traceback" not in out, out
    state = share.state()
    assert state is not None
    later = next(r for r in share.records() if r["path"] == "later.jpg")
    assert later["moved"] and later["destination"] == str(state / "quarantine/no-face/later.jpg")
    assert hashes(share.theirs) == theirs and not (share.root / "stolen").exists()
    assert sorted(p.name for p in (state / "quarantine/no-face").iterdir()) == ["coffee.jpg", "later.jpg"]


def test_the_remembered_policy_survives_an_uploader_renaming_the_state(share: Share):
    share.upload("man.jpg", photos.astronaut())
    first = share.face_clean("run", share.root, "--keep", "Man")
    assert first.returncode == 0, first.stdout + first.stderr
    moved = share.as_uploader("if [ -e .face-clean ]; then mv .face-clean gone; fi; mkdir .face-clean")
    assert moved.returncode == 0, moved.stderr
    share.upload("coffee.jpg", photos.data.coffee())
    again = share.face_clean("run", share.root)  # no --keep: the remembered one
    assert again.returncode == 0, again.stdout + again.stderr
    coffee = next(r for r in share.records() if r["path"] == "coffee.jpg")
    assert coffee["moved"] and coffee["action"] == "quarantine"


def test_report_of_a_share_never_writes_where_an_uploader_can_read(share: Share):
    private = share.home / "private.jpg"
    photos.save(photos.astronaut(), private, quality=90)
    shutil.chown(private, share.who.daemon, share.who.group)
    share.upload("man.jpg", photos.astronaut())
    assert share.face_clean("run", share.root, "--keep", "Man").returncode == 0
    forged = f'{{"path": "private.jpg", "root": "{share.home}", "run_id": "x", "action": "keep", "moved": false}}'
    planted = share.as_uploader(
        "if [ -e .face-clean ]; then mv .face-clean old; fi; "
        f"mkdir .face-clean && chmod 777 .face-clean && echo '{forged}' > .face-clean/audit.jsonl"
    )
    assert planted.returncode == 0, planted.stderr
    inside = hashes(share.root)
    done = share.face_clean("report", share.root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert hashes(share.root) == inside and sorted(os.listdir(share.root / ".face-clean")) == ["audit.jsonl"]
    state = share.state()
    assert state is not None and (state / "report.html").is_file()


@pytest.mark.parametrize("name, mode, data", [("audit.jsonl", 0o000, b""), ("journal.key", 0o600, b"")])
def test_a_damaged_state_file_of_ours_is_set_aside_never_a_dead_end(share: Share, name: str, mode: int, data: bytes):
    """As an ordinary account (root reads a mode 000 file): a private folder of its own, not shared."""
    own = share.home / "photos"
    own.mkdir()
    photos.save(photos.data.coffee(), own / "coffee.jpg", quality=90)
    (own / ".face-clean").mkdir(mode=0o700)
    (own / ".face-clean" / name).write_bytes(data)
    (own / ".face-clean" / name).chmod(mode)
    subprocess.run(["chown", "-R", f"{share.who.daemon}:{share.who.group}", str(own)], check=True)
    own.chmod(0o755)
    said = []
    for attempt in (1, 2):  # and the next run finds a state folder it can use
        done = share.face_clean("run", own, "--keep", "Man")
        assert done.returncode == 0, (attempt, done.stdout + done.stderr)
        assert "Traceback" not in done.stderr
        said.append(done.stderr)
    assert "set aside" in said[0] and "set aside" not in said[1]
    assert (own / ".face-clean/quarantine/no-face/coffee.jpg").is_file()
    assert len((own / ".face-clean/journal.key").read_bytes()) == 32 or name == "audit.jsonl"
    assert [r["path"] for r in audit_records(own / ".face-clean/audit.jsonl")] == ["coffee.jpg"]
