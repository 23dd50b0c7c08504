"""Helpers for the review page's tests: a folder after `run --keep Man`, the page served on a free loopback
port, and a signed-in HTTP session with its CSRF token."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import photos
import requests
from conftest import invoke

from cleaner.paths import Layout
from cleaner.serve.actors import Actor, LockedActor
from cleaner.serve.config import parse_bind
from cleaner.serve.server import Running, ServeSettings, start

Q, R, LOG = Path(".face-clean/quarantine"), Path(".face-clean/review"), Path(".face-clean/audit.jsonl")
REPORT: list[str] = []  # measurements, printed at the end of the test session (conftest.py)


def make_swept(root: Path) -> Path:
    photos.make_folder(root)
    assert invoke("run", root, "--keep", "Man").exit_code == 1  # three unreadable files
    return root


@contextmanager
def served(
    root: Path, password: str | None = None, actor: Actor | None = None, bind: str = "127.0.0.1:0", **more: Any
) -> Iterator[Running]:
    """The page of ``root``; ``more``: other ServeSettings (public_url, trusted_proxy, password_file, ...)."""
    layout = Layout.for_root(root)
    running = start(layout, ServeSettings(parse_bind(bind), password, **more), actor or LockedActor(layout))
    try:
        yield running
    finally:
        running.stop()


def signed_in(running: Running, password: str | None = None) -> tuple[requests.Session, str]:
    """A session that opened the page (signing in first with ``password``), and its CSRF token."""
    s = requests.Session()
    if password is not None:
        form = s.get(running.url + "login", timeout=10).text
        token = re.search(r'name="csrf" value="([^"]+)"', form)[1]  # type: ignore[index]
        s.post(running.url + "login", data={"csrf": token, "password": password}, timeout=30)
    page = s.get(running.url, timeout=10)
    assert page.status_code == 200, page.text
    return s, re.search(r'name="csrf-token" content="([^"]+)"', page.text)[1]  # type: ignore[index]


def items(s: requests.Session, running: Running) -> dict[str, dict]:
    """The page's files by path."""
    answer = s.get(running.url + "api/items", timeout=10)
    assert answer.status_code == 200
    return {it["path"]: it for it in answer.json()["items"]}


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def until(tab, condition: str, timeout: float = 30.0) -> None:
    """Poll from here: the page's CSP forbids the eval that wait_for_function needs (and that is the point)."""
    deadline = time.monotonic() + timeout
    while not tab.evaluate(condition):
        assert time.monotonic() < deadline, f"still not {condition}"
        time.sleep(0.05)


def tile(tab, name: str) -> str:
    """The figure of the file ``name`` on the page, as a selector."""
    fid = tab.evaluate(
        f"[...document.querySelectorAll('figure.tile')].find(f => f.querySelector('.name').textContent === {name!r})"
        "?.dataset.id ?? null"
    )
    assert fid, f"{name} is not on the page"
    return f'figure.tile[data-id="{fid}"]'
