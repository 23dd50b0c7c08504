"""``face-clean eval``."""

from __future__ import annotations
