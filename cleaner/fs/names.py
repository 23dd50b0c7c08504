"""File names as a terminal may show them: a name can hold escape sequences, and anyone who can upload
a photo chooses its name. Control and format characters (ESC, BEL, C1 controls, bidirectional
overrides) and bytes that are not UTF-8 are printed as Python escapes (``\\x1b``), never sent raw."""

from __future__ import annotations

from pathlib import Path


def shown(name: str | Path | None) -> str:
    text = str(name)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
