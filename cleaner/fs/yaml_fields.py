"""A small YAML file read safely, and typed reads of one of its mappings that name the place on every
error (rules files, model manifests, config files)."""

from __future__ import annotations

import difflib
import io
import reprlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from cleaner.errors import RulesError
from cleaner.fs.safefs import read_regular


def did_you_mean(value: object, choices: Iterable[str]) -> str:
    """`` (did you mean 'gender'?)`` for a near miss (a typo, another case), else nothing."""
    text, options = str(value), list(choices)
    same_but_case = [c for c in options if c.lower() == text.lower()]
    close = same_but_case or difflib.get_close_matches(text, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Fields:
    """Reads typed values out of one YAML mapping, naming the place on every error (``error``: the
    error to raise, RulesError by default). With ``problems``, a list, a bad field is added to it and
    its default used instead, so that one message can list every mistake of a file, not only the first."""

    def __init__(
        self,
        data: Any,
        where: str,
        allowed: set[str],
        error: type[RulesError] | None = None,
        problems: list[str] | None = None,
    ) -> None:
        self.error = error or RulesError
        self.problems = problems
        if not isinstance(data, dict):
            raise self.error(f"{where}: expected a mapping, got {show(data)}")
        self.data, self.where = data, where
        for key in sorted(set(map(str, data)) - allowed):
            hint = did_you_mean(key, allowed) or f" (allowed: {', '.join(sorted(allowed))})"
            self.report(self.error(f"{where}: unknown field {key!r}{hint}"))
        if problems is not None:
            self.data = {k: v for k, v in data.items() if str(k) in allowed}

    def report(self, err: RulesError) -> None:
        """Raise ``err``, or note it when collecting problems."""
        if self.problems is None:
            raise err
        self.problems.append(str(err))

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def fail(self, key: str, expected: str, hint: str = "") -> RulesError:
        return self.error(f"{self.where}: field {key!r}: expected {expected}, got {show(self.data[key])}{hint}")

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        if not self.has(key):
            return default
        value = self.data[key]
        if value not in choices:
            self.report(self.fail(key, "one of " + ", ".join(choices), did_you_mean(value, choices)))
            return default
        return str(value)

    def number(self, key: str, default: float, lo: float, hi: float) -> float:
        if not self.has(key):
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            self.report(self.fail(key, f"a number from {lo:g} to {hi:g}"))
            return default
        return float(value)


def listed(source: str, problems: list[str]) -> str:
    """One problem as it is; several as a list under the file's name."""
    if len(problems) == 1:
        return problems[0]
    lead = source + ": "
    lines = [p[len(lead) :] if p.startswith(lead) else p for p in problems]
    return f"{source}: {len(problems)} problems:\n" + "\n".join(f"  - {line}" for line in lines)


MOST_VALUES = 100_000  # scalars, lists and mappings a file may stand for, its aliases expanded


class TooManyValues(yaml.YAMLError):
    """The document would stand for more values than MOST_VALUES once its aliases are expanded."""


def expanded_size(root: yaml.Node) -> int:
    """How many nodes ``root`` stands for with every alias expanded, counted without expanding one:
    PyYAML composes an alias as the very node its anchor names, so a tree of a few hundred bytes
    can stand for 10^9 values, cheap to hold and ruinous to walk (``str``, a listing, a comparison)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # post-order without recursion, each shared node counted once
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if done or not children:
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[id(node)] > MOST_VALUES:
                return sizes[id(node)]
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


class GuardedLoader(yaml.SafeLoader):
    """SafeLoader that refuses a document standing for more than MOST_VALUES values (an alias bomb)
    before a single Python object is built for it."""

    def construct_document(self, node: yaml.Node) -> Any:
        size = expanded_size(node)
        if size > MOST_VALUES:
            raise TooManyValues(
                f"its aliases (*name) stand for more than {MOST_VALUES:,} values; an alias bomb is not accepted"
            )
        return super().construct_document(node)


def load_yaml(text: str, source: str, what: str, error: type[RulesError]) -> Any:
    """A file's text parsed by GuardedLoader (yaml.safe_load's rules, alias bombs refused); a mistake
    names the file, its line and column."""
    stream = io.StringIO(text)
    stream.name = source  # PyYAML names the stream in its marks: the file, not "<unicode string>"
    try:
        return yaml.load(stream, Loader=GuardedLoader)  # a SafeLoader: only plain YAML
    except TooManyValues as err:
        raise error(f"{source}: {err}; this is not a {what}") from None
    except RecursionError:
        raise error(f"{source}: nested too deeply; this is not a {what}") from None
    except yaml.YAMLError as err:
        raise error(f"{source}: {yaml_problem(err)}") from None
    except (ValueError, OverflowError) as err:  # an integer of 5000 digits, say
        raise error(f"{source}: not valid YAML (only plain YAML is accepted): {err}") from None


def yaml_problem(err: yaml.YAMLError) -> str:
    """``line 3, column 8: not valid YAML: ...`` (PyYAML's own text spreads over several lines)."""
    mark, problem = getattr(err, "problem_mark", None), getattr(err, "problem", None)
    if mark is None or problem is None:
        return "not valid YAML (only plain YAML is accepted): " + " ".join(str(err).split())
    text = f"line {mark.line + 1}, column {mark.column + 1}: not valid YAML (only plain YAML is accepted): {problem}"
    context, at = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and at is not None:
        text += f" ({context} at line {at.line + 1}, column {at.column + 1})"
    return text


_SHORT = reprlib.Repr()  # (keyword arguments only from Python 3.12)
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 3, 4, 4
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 40


def show(value: Any) -> str:
    """A short picture of a value; bounded whatever its size (an alias bomb's repr would be gigabytes)."""
    text = _SHORT.repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def read_text(path: Path, limit: int, what: str, error: type[RulesError]) -> str:
    """A small YAML file's text; anything larger than ``limit`` or unreadable is ``error``."""
    try:
        data = read_regular(path, limit + 1)  # a regular file only: never a FIFO, a device or a link
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{path}: cannot read the {what}: {err}") from None
    if len(data) > limit:
        raise error(f"{path}: larger than {limit} bytes; this is not a {what}")
    try:
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{path}: cannot read the {what}: {err}") from None
