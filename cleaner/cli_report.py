"""``face-clean report``."""

from __future__ import annotations
