"""Typed reads of a rules file's mappings: the actions, reasons and ranges a rule is made of."""

from __future__ import annotations

import re

from cleaner.fs.yaml_fields import Fields
from cleaner.records import Action
from cleaner.rules.model import Range

_REASON = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class RuleFields(Fields):
    """Fields, and the kinds of value only rules have."""

    def action(self, key: str, default: Action) -> Action:
        return Action(self.choice(key, tuple(a.value for a in Action), default.value))

    def reason(self, key: str, default: str | None) -> str | None:
        if not self.has(key):
            return default
        value = self.data[key]
        if not isinstance(value, str) or not _REASON.match(value):
            self.report(self.fail(key, "a folder name of letters, digits, '.', '_' or '-'"))
            return default
        return value

    def range(self, key: str, lo: float, hi: float) -> Range | None:
        if not self.has(key):
            return None
        value = self.data[key]
        expected = f"a number or {{min: .., max: ..}} within {lo:g}..{hi:g}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            result = Range(float(value), float(value))
        elif isinstance(value, dict) and value and set(value) <= {"min", "max"}:
            bounds = [value.get("min"), value.get("max")]
            if any(isinstance(b, bool) or not isinstance(b, (int, float, type(None))) for b in bounds):
                self.report(self.fail(key, expected))
                return None
            result = Range(*(None if b is None else float(b) for b in bounds))
        else:
            self.report(self.fail(key, expected))
            return None
        ends = [b for b in (result.min, result.max) if b is not None]
        if any(not lo <= b <= hi for b in ends) or (len(ends) == 2 and ends[0] > ends[1]):
            self.report(self.fail(key, expected + ", min <= max"))
            return None
        return result
