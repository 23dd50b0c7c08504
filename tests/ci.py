"""Whether the tests run in CI, and what a test that cannot run here does about it.

CI (``bash .ci/run``, ``CI=true``) installs everything the tests need: Ray, tensorflow, Chromium,
podman, and runs as root. So there a test that cannot run is a failure, never a quiet skip; on a
developer's machine it is skipped, saying what it lacks. This is the one place that says what
"running in CI" means.
"""

from __future__ import annotations

import importlib.util
import os
from typing import NoReturn

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str, module_level: bool = False) -> NoReturn:
    """This test cannot run here (``reason``): it fails in CI, which must run it, and is skipped elsewhere."""
    if IN_CI:
        pytest.fail(f"CI must run this test, but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=module_level)


def need_module(name: str, install: str) -> None:
    """Skip the whole test module (fail it in CI) when ``name`` is not installed; ``install`` says how."""
    if importlib.util.find_spec(name) is None:
        unavailable(f"{name} is not installed ({install})", module_level=True)
