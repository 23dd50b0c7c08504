"""``face-clean restore``."""

from __future__ import annotations
