"""The command line as the user typed it, for the list of runs (``face-clean runs``) and for the
catch-all (whether ``-v`` was given, before any command parsed its options)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

_ARGS: list[str] = []


def keep(args: Sequence[str]) -> None:
    _ARGS[:] = [str(a) for a in args]


def text() -> str:
    return shlex.join(["face-clean", *_ARGS])


def verbose() -> bool:
    """``-v``, ``-vv`` or ``--verbose`` anywhere before a ``--``."""
    args = _ARGS[: _ARGS.index("--")] if "--" in _ARGS else _ARGS
    return any(a == "--verbose" or re.fullmatch(r"-[a-uw-z]*v[a-z]*", a) is not None for a in args)
