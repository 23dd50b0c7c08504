"""The review page under load: slow clients (a header byte every few seconds) hold connections, never
the page; a request that never finishes arriving is dropped after its deadline. Bounded in count and
time, on 127.0.0.1 only."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import requests
from conftest import swept_copy
from serving import REPORT, make_swept, served, signed_in

SLOW_CLIENTS = 120
DRIP = 5.0  # seconds between two bytes of a slow client's headers


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_swept(tmp_path_factory.mktemp("template") / "photos")


def slow_clients(url: str, n: int) -> list[socket.socket]:
    host, port = url.split("//")[1].strip("/").split(":")
    clients = []
    for _ in range(n):
        c = socket.create_connection((host, int(port)), timeout=5)
        c.sendall(b"G")
        clients.append(c)
    return clients


def test_slow_clients_do_not_starve_real_requests(template: Path, tmp_path: Path):
    root = swept_copy(template, tmp_path / "photos")
    with served(root) as running:  # waitress's default limit, 100 connections, fails this
        s, _ = signed_in(running)
        cookies = s.cookies.get_dict()
        clients = slow_clients(running.url, SLOW_CLIENTS)
        try:
            took = []
            started = time.monotonic()
            dripped = 0
            while time.monotonic() - started < DRIP + 1.5:  # bounded: two drips of every slow client
                if time.monotonic() - started > dripped * DRIP:
                    for c in clients:
                        c.sendall(b"E")
                    dripped += 1
                t = time.monotonic()
                fresh = requests.get(  # a new connection each time, as a new visitor's
                    running.url + "api/items", cookies=cookies, headers={"Connection": "close"}, timeout=3
                )
                took.append(time.monotonic() - t)
                assert fresh.status_code == 200 and fresh.json()["items"]
                time.sleep(0.25)
        finally:
            for c in clients:
                c.close()
    assert dripped == 2 and len(took) >= 10
    assert max(took) < 2.0, took
    REPORT.append(
        f"review page with {SLOW_CLIENTS} slow clients: {len(took)} real requests, "
        f"median {sorted(took)[len(took) // 2] * 1000:.0f} ms, worst {max(took) * 1000:.0f} ms"
    )


def test_a_request_that_never_finishes_arriving_is_dropped_after_its_deadline(template: Path, tmp_path: Path):
    root = swept_copy(template, tmp_path / "photos")
    with served(root, request_deadline=2.0) as running:
        [c] = slow_clients(running.url, 1)
        c.settimeout(1.0)
        started, closed = time.monotonic(), False
        while time.monotonic() - started < 12 and not closed:
            try:
                c.sendall(b"E")
                closed = c.recv(1) == b""
            except TimeoutError:
                pass
            except OSError:  # reset: closed too
                closed = True
        c.close()
        assert closed and time.monotonic() - started < 10  # 2 s, plus the clean-up's round (2 s here)
