"""`face-clean runs`: every run with its counts, also a run that only the audit log knows."""

from __future__ import annotations

import json
from pathlib import Path

import photos

LOG = Path(".face-clean/audit.jsonl")


def test_a_run_only_the_audit_log_knows_counts_errors_failed_moves_and_verdicts(cli, tmp_path: Path):
    root = tmp_path / "photos"
    photos.save(photos.astronaut(), root / "man.jpg", quality=90)
    photos.save(photos.data.coffee(), root / "coffee.jpg", quality=90)
    assert cli("run", root, "--keep", "Man").exit_code == 0
    log = root / LOG
    kept, moved = sorted((json.loads(line) for line in log.read_text().splitlines()), key=lambda r: r["action"])
    # A run written before the state database listed runs: the audit log is all there is of it
    old = {"run_id": "0a1b2c3d4e5f", "time": "2026-01-01T10:00:00.000+00:00"}
    records = [
        kept | old | {"status": "error", "error": "the model failed on this photo"},
        moved | old | {"moved": False, "destination": None, "error": "No space left on device"},
        kept | old | {"action": "reject", "moved": True, "decided_by": "person", "who": "ann"},
        kept | old | {"action": "withdraw", "decided_by": "person", "who": "ann"},
    ]
    with log.open("a") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    listed = {r["run_id"]: r for r in map(json.loads, cli("runs", root, "--json").output.splitlines())}
    assert listed["0a1b2c3d4e5f"]["counts"] == {"quarantined": 1, "errors": 1, "failed_moves": 1, "withdrawn": 1}
    text = cli("runs", root).output
    assert "quarantined 1, errors 1, failed moves 1, withdrawn 1" in text
