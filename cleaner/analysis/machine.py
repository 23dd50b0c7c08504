"""Which machine this is, as far as speed goes: what makes one machine's measurements (and the
graphs onnxruntime optimised for it) another's.  Keys the tuning kept in state.db
(cleaner.analysis.batch_tuning) and the optimised model copies (cleaner.analysis.onnx_session)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Sequence
from functools import cache


@cache
def machine() -> str:
    """The processor and its instruction sets, the cores, onnxruntime and its providers."""
    cpu, flags = platform.processor(), ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            first = fh.read().split("\n\n")[0]
        info = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in first.splitlines())}
        cpu, flags = info.get("model name", cpu), info.get("flags", "")
    except OSError:
        pass
    import onnxruntime as ort

    flags_hash = hashlib.sha256(flags.encode()).hexdigest()[:12]  # onnxruntime picks its kernels by them
    return json.dumps([cpu, flags_hash, os.cpu_count(), ort.__version__, sorted(ort.get_available_providers())])


def machine_tag() -> str:
    return hashlib.sha256(machine().encode()).hexdigest()[:12]


def tuning_key(kind: str, model_sha256: Sequence[str], device: str) -> str:
    """The state.db key of one tuning: what was tuned, with which model files, where."""
    text = json.dumps([kind, list(model_sha256), device, machine()])
    return hashlib.sha256(text.encode()).hexdigest()[:32]
