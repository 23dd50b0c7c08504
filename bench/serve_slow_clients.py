"""The review page's answer time while slow clients hold connections (a header byte every 5 s), beside
waitress's default connection limit (100) in the same run.

    python bench/serve_slow_clients.py [--slow 120] [--requests 20]

For each setting: the page of an empty folder on 127.0.0.1, ``--slow`` connections that each sent
one byte of a request line and then one more every 5 s, and ``--requests`` real requests on fresh
connections (as new visitors), one every 0.25 s, each given 3 s. Bounded in count and time; loopback only.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from cleaner.paths import Layout
from cleaner.serve.actors import LockedActor
from cleaner.serve.config import parse_bind
from cleaner.serve.server import ServeSettings, start

DRIP, GIVEN = 5.0, 3.0


def measure(connections: int, slow: int, n: int) -> tuple[list[float], int]:
    root = Path(tempfile.mkdtemp()) / "photos"
    root.mkdir()
    layout = Layout.for_root(root)
    settings = ServeSettings(parse_bind("127.0.0.1:0"), None, connections=connections)
    running = start(layout, settings, LockedActor(layout))
    port = int(running.url.rsplit(":", 1)[1].strip("/"))
    session = requests.Session()
    session.get(running.url, timeout=10)  # signed in (loopback, no password)
    cookies = session.cookies.get_dict()
    clients = []
    for _ in range(slow):
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        c.sendall(b"G")
        clients.append(c)
    took, failed, last_drip = [], 0, time.monotonic()
    try:
        for _ in range(n):
            if time.monotonic() - last_drip > DRIP:
                for c in clients:
                    c.sendall(b"E")
                last_drip = time.monotonic()
            t = time.monotonic()
            try:
                answer = requests.get(
                    running.url + "api/items", cookies=cookies, headers={"Connection": "close"}, timeout=GIVEN
                )
                ok = answer.status_code == 200
            except requests.RequestException:
                ok = False
            if ok:
                took.append(time.monotonic() - t)
            else:
                failed += 1
            time.sleep(0.25)
    finally:
        for c in clients:
            c.close()
        running.stop()
    return took, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slow", type=int, default=120)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    out = sys.stdout
    for label, limit in (("a limit of 100 connections (waitress's default)", 100), ("face-clean's limit, 1000", 1000)):
        took, failed = measure(limit, args.slow, args.requests)
        median = statistics.median(took) * 1000 if took else float("nan")
        worst = max(took) * 1000 if took else float("nan")
        out.write(
            f"{label}: {args.slow} slow clients, {args.requests} requests: {len(took)} answered "
            f"(median {median:.0f} ms, worst {worst:.0f} ms), {failed} not answered within {GIVEN:.0f} s\n"
        )


if __name__ == "__main__":
    main()
