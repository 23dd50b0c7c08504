"""The settings the fast path measured best (cleaner.tuning), kept in the state database so the
next run on this machine, with these model files, starts from them instead of searching again.

A row's key hashes what the measurement depends on: what was tuned, the model files' sha256,
and the machine (processor, core count, onnxruntime and its providers).  A state database in a
shared folder may have been planted: a value is only ever a short list of small whole numbers,
and the tuner takes it to the nearest setting it would have tried anyway.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sqlite3
from collections.abc import Sequence
from functools import cache

TUNING_SCHEMA = "CREATE TABLE IF NOT EXISTS tuning (key TEXT PRIMARY KEY, value TEXT NOT NULL);"


@cache
def machine() -> str:
    """What makes one machine's measurements (and optimised graphs) another's: processor and its
    instruction sets, cores, onnxruntime and its providers."""
    cpu, flags = platform.processor(), ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            info = dict(line.split(":", 1) for line in fh.read().split("\n\n")[0].splitlines() if ":" in line)
        cpu, flags = info.get("model name\t", cpu).strip(), info.get("flags\t\t", "").strip()
    except OSError:
        pass
    import onnxruntime as ort

    flags_hash = hashlib.sha256(flags.encode()).hexdigest()[:12]  # the instruction sets onnxruntime picks kernels by
    return json.dumps([cpu, flags_hash, os.cpu_count(), ort.__version__, sorted(ort.get_available_providers())])


def tuning_key(kind: str, model_sha256: Sequence[str], device: str) -> str:
    text = json.dumps([kind, list(model_sha256), device, machine()])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _setting(text: str) -> tuple[int, ...] | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list) or not 0 < len(value) <= 4:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 4096 for v in value):
        return None
    return tuple(value)


class Tunings:
    """The tuning part of StateDB (a mixin using its connection).  The tuning is an optimisation:
    a database that cannot be read or written here costs a search, never the run."""

    _db: sqlite3.Connection

    def tuned(self, key: str) -> tuple[int, ...] | None:
        try:
            row = self._db.execute("SELECT value FROM tuning WHERE key = ?", (key,)).fetchone()
        except (sqlite3.Error, RuntimeError):  # RuntimeError: cleaner.state's StateError
            return None
        return _setting(row[0]) if row and isinstance(row[0], str) else None

    def remember_tuning(self, key: str, value: Sequence[int]) -> None:
        try:
            self._db.execute("INSERT OR REPLACE INTO tuning VALUES (?, ?)", (key, json.dumps(list(value))))
        except (sqlite3.Error, RuntimeError):
            pass
