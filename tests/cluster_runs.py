"""Helpers for the cluster tests: face-clean in a subprocess, the standard folder, and audit records
and folders compared between two runs of the same photos."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import photos
import pytest
from conftest import audit_records, sha256

RUN_SPECIFIC = ("time", "run_id", "root", "move_id")  # what differs between two runs of the same photos
NON_UTF8 = os.fsdecode(b"caf\xe9.jpg")  # a Latin-1 name from an old NAS


def face_clean(
    *args: str | Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "cleaner", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def corpus(root: Path) -> Path:
    """The standard mixed folder (faces, no faces, unreadable files) plus a non-UTF-8 name."""
    photos.make_folder(root)
    photos.save(photos.swapped(), root / NON_UTF8, quality=90)
    return root


def comparable(root: Path, expected: bool = False) -> dict[str, dict[str, Any]]:
    """Audit records by path, without what is specific to one run.

    Gender probabilities are compared to 1e-5: onnxruntime's float32 sums differ in the 7th
    digit with the number of faces in a model call, and workers batch faces from their own
    share of the files (two single-process runs batched differently differ the same way).
    Everything else, the decisions included, must be equal.  ``expected``: the side that
    holds the tolerances.
    """
    records = audit_records(root / ".face-clean" / "audit.jsonl")
    assert len({r["path"] for r in records}) == len(records), "one record per file"
    for r in records:
        r["destination"] = r["destination"] and str(Path(r["destination"]).relative_to(root))
        for face in r["faces"]:
            if expected and face["gender"]:
                face["gender"] = pytest.approx(face["gender"], abs=1e-5)
    return {r["path"]: {k: v for k, v in r.items() if k not in RUN_SPECIFIC} for r in records}


def tree(root: Path) -> dict[Path, str]:
    """Every photo's place relative to ``root`` (quarantine and review included) -> its sha256."""
    return {
        p.relative_to(root): sha256(p)
        for p in root.rglob("*")
        if p.is_file() and p.suffix != ".jsonl" and p.parent.name != ".face-clean"
    }
