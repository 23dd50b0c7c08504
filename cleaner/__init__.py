"""face-clean: sweep or watch a folder of photos and quarantine what the rules reject.

As a library, ``cleaner.api`` (its names are here too, loaded on first use, so that importing the
package loads no model library): ``Analyzer``, ``decide``, ``load_rules``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Analyzer", "__version__", "decide", "load_rules"]

if TYPE_CHECKING:
    from cleaner.api import Analyzer, decide, load_rules


def __getattr__(name: str) -> Any:
    if name in ("Analyzer", "decide", "load_rules"):
        from cleaner import api

        return getattr(api, name)
    raise AttributeError(f"module 'cleaner' has no attribute {name!r}")
