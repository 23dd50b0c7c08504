"""The command line as the user typed it, for the list of runs (``face-clean runs``)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

_ARGS: list[str] = []


def keep(args: Sequence[str]) -> None:
    _ARGS[:] = [str(a) for a in args]


def text() -> str:
    return shlex.join(["face-clean", *_ARGS])
