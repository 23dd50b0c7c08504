"""Labelled images for ``face-clean eval``: one adapter per label format face datasets come in.

Every adapter yields the same thing, a ``LabelSet`` of (absolute path, label) pairs with the
label one of ``Man``, ``Woman``, ``none`` (no face) or ``mixed`` (a group photo with both genders
in it), so the evaluation never depends on the format.  Anything a user can get wrong (a missing
column, an unknown label) is a ``LabelError`` naming the file and the line, raised before a
single image is analysed.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleaner.errors import LabelError
from cleaner.paths import DEFAULT_EXCLUDE, STATE_DIR
from cleaner.pipeline.scan import matcher, scan

LABELS = ("Man", "Woman", "none", "mixed")
GROUP_COLUMNS = ("age", "dataset")  # a CSV's columns the risk-coverage table is broken down by (cleaner.eval.risk)
FORMATS = ("csv", "imdb-wiki", "folders")
ALIASES = {
    **dict.fromkeys(("man", "men", "male", "m"), "Man"),
    **dict.fromkeys(("woman", "women", "female", "f", "w"), "Woman"),
    **dict.fromkeys(("none", "no-face", "no_face", "noface", "no face"), "none"),
    **dict.fromkeys(("mixed", "both"), "mixed"),
}


class MissingExtra(LabelError):
    """A format needs a package the ``eval`` extra installs."""


@dataclass(frozen=True)
class Labelled:
    path: Path  # absolute
    label: str  # one of LABELS
    groups: tuple[tuple[str, str], ...] = ()  # what else the labels say of it (GROUP_COLUMNS): by age, by source


@dataclass(frozen=True)
class LabelSet:
    """What a labels file says, in one shape for every format."""

    source: Path
    format: str
    root: Path  # where relative paths start; the default cache is root/.face-clean/state.db
    items: tuple[Labelled, ...]
    skipped: int = 0  # entries the labels leave unknown (IMDB-WIKI: gender NaN)
    unlabelled: int = 0  # folder layout: files outside the label folders, not evaluated
    notes: tuple[str, ...] = field(default=())


def parse_label(text: str, where: str) -> str:
    """Case-insensitive; numbers are refused (datasets disagree on whether 1 means male or female)."""
    label = ALIASES.get(" ".join(str(text).split()).lower())
    if label is None:
        raise LabelError(
            f"{where}: unknown label {text!r}; expected Man, Woman, none or mixed "
            "(also accepted, in any case: male/m/men, female/f/w/women, no-face/no_face/noface, both)"
        )
    return label


def detect_format(source: Path) -> str:
    if source.is_dir():
        return "folders"
    return "imdb-wiki" if source.suffix.lower() == ".mat" else "csv"


def load(
    source: Path,
    fmt: str | None = None,
    path_column: str = "path",
    label_column: str = "label",
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE,
) -> LabelSet:
    """Read ``source`` in ``fmt`` (default: from what it is: a folder, a .mat file, else CSV)."""
    if not source.exists():
        raise LabelError(f"{source}: no such file or folder")
    fmt = fmt or detect_format(source)
    if (fmt == "folders") != source.is_dir():
        kind = "a folder" if fmt == "folders" else "a file"
        raise LabelError(f"{source}: the {fmt} format needs {kind}")
    if fmt == "folders":
        labels = read_folders(source, exclude)
    elif fmt == "imdb-wiki":
        labels = read_mat(source)
    else:
        labels = read_csv(source, path_column, label_column)
    if not labels.items:
        raise LabelError(f"{source}: no labelled images found")
    return labels


class _Collector:
    """Gathers (path, label) pairs once each; the same path with two labels is an error."""

    def __init__(self) -> None:
        self.labels: dict[Path, str] = {}
        self.groups: dict[Path, tuple[tuple[str, str], ...]] = {}

    def add(self, path: Path, label: str, where: str, groups: tuple[tuple[str, str], ...] = ()) -> None:
        previous = self.labels.setdefault(path, label)
        if previous != label:
            raise LabelError(f"{where}: {path} is labelled both {previous} and {label}")
        if groups:
            self.groups[path] = groups

    def items(self) -> tuple[Labelled, ...]:
        return tuple(Labelled(p, lab, self.groups.get(p, ())) for p, lab in self.labels.items())


def _column(wanted: str, columns: list[str], source: Path, option: str) -> str:
    """The column named ``wanted``, or the one that differs from it only in case and spaces."""
    if wanted in columns:
        return wanted
    loose = [c for c in columns if c.strip().lower() == wanted.strip().lower()]
    if len(loose) == 1:
        return loose[0]
    shown = ", ".join(repr(c) for c in columns) or "none"
    raise LabelError(f"{source}: no column {wanted!r} (columns: {shown}); name the right one with {option}")


def read_csv(source: Path, path_column: str = "path", label_column: str = "label") -> LabelSet:
    """A header row, then one image per row; paths relative to the CSV's folder, or absolute.
    The delimiter is a tab or a semicolon when the header has one (and no comma), else a comma."""
    try:
        text = source.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise LabelError(f"{source}: cannot read the labels file: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise LabelError(f"{source}: not a UTF-8 CSV file (byte {err.start}); is --format right?") from None
    header = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in header else ";" if ";" in header and "," not in header else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = list(reader.fieldnames or [])
    path_key = _column(path_column, columns, source, "--path-column")
    label_key = _column(label_column, columns, source, "--label-column")
    root = source.parent.resolve()
    found = _Collector()
    try:
        for row in reader:
            where = f"{source}: line {reader.line_num}"
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue  # a blank line
            name = (row.get(path_key) or "").strip()
            if not name:
                raise LabelError(f"{where}: empty path")
            groups = tuple((c, v.strip()) for c in GROUP_COLUMNS if isinstance(v := row.get(c), str) and v.strip())
            found.add(root / name, parse_label(row.get(label_key) or "", where), where, groups)
    except csv.Error as err:
        raise LabelError(f"{source}: line {reader.line_num}: not valid CSV: {err}") from None
    return LabelSet(source, "csv", root, found.items())


def _text(value: Any) -> str:
    """A MATLAB char array as loadmat hands it over: a str, or one nested in object arrays."""
    while not isinstance(value, str):
        try:
            value = value[0] if len(value) else ""
        except TypeError:
            return str(value)
    return value


def read_mat(source: Path) -> LabelSet:
    """IMDB-WIKI metadata (``imdb.mat`` / ``wiki.mat``): a 1x1 struct ``imdb`` or ``wiki`` whose
    fields are 1xN arrays: ``full_path`` (relative to the .mat's folder), ``gender`` (1.0 male,
    0.0 female, NaN unknown: skipped) and ``face_score`` (-inf: no face, labelled none, whatever
    the gender says; optional)."""
    try:
        import numpy as np
        from scipy.io import loadmat
    except ImportError:
        raise MissingExtra("reading IMDB-WIKI .mat files needs scipy: pip install 'face-clean[eval]'") from None
    try:
        # simplify_cells turns the nested 1x1 struct of 1xN cell arrays into a dict of flat arrays
        mat = loadmat(source, simplify_cells=True)
    except Exception as err:  # scipy raises many kinds for a file it cannot parse
        raise LabelError(f"{source}: not a MATLAB .mat file scipy can read (v7.3 files are not): {err}") from None
    name = next((k for k in ("imdb", "wiki") if k in mat), None)
    if name is None or not isinstance(mat[name], dict):
        present = ", ".join(k for k in mat if not k.startswith("__")) or "nothing"
        raise LabelError(f"{source}: no IMDB-WIKI struct 'imdb' or 'wiki' in it (found: {present})")
    struct: dict[str, Any] = mat[name]
    for needed in ("full_path", "gender"):
        if needed not in struct:
            raise LabelError(f"{source}: the struct {name!r} has no field {needed!r} (fields: {', '.join(struct)})")
    paths = np.atleast_1d(np.asarray(struct["full_path"], dtype=object))
    genders = np.atleast_1d(np.asarray(struct["gender"], dtype=float))
    scores = np.atleast_1d(np.asarray(struct.get("face_score", np.zeros(len(paths))), dtype=float))
    if not len(paths) == len(genders) == len(scores):
        raise LabelError(f"{source}: {name}.full_path, gender and face_score differ in length")
    root = source.parent.resolve()
    found = _Collector()
    skipped = 0
    for i, (raw, gender, score) in enumerate(zip(paths, genders, scores, strict=True), start=1):
        where = f"{source}: {name} entry {i}"
        path = _text(raw).strip()
        if not path:
            raise LabelError(f"{where}: empty full_path")
        if score == -math.inf:
            label = "none"
        elif math.isnan(gender):
            skipped += 1
            continue
        elif gender in (0.0, 1.0):
            label = "Man" if gender == 1.0 else "Woman"
        else:
            raise LabelError(f"{where}: gender {gender:g}; expected 1 (male), 0 (female) or NaN (unknown)")
        found.add(root / path, label, where)
    return LabelSet(source, "imdb-wiki", root, found.items(), skipped=skipped)


def read_folders(source: Path, exclude: tuple[str, ...] = DEFAULT_EXCLUDE) -> LabelSet:
    """``Man/``, ``Woman/``, ``none/`` (or their aliases) under a root, each searched to any depth.
    Another folder there is an error (a typo would lose its images); files beside them are counted
    and left out."""
    root = source.resolve()
    excluded = matcher(exclude)
    found = _Collector()
    unlabelled = 0
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as err:
        raise LabelError(f"{source}: cannot list the folder: {err.strerror}") from None
    for entry in entries:
        if excluded(entry.name) or entry.name == STATE_DIR:
            continue
        if not entry.is_dir(follow_symlinks=False):
            unlabelled += 1
            continue
        label = parse_label(entry.name, f"{source}: folder {entry.name!r}")
        for path in scan(Path(entry.path), True, exclude, ()):
            found.add(path, label, f"{source}: folder {entry.name!r}")
    notes = (f"{unlabelled} files outside the label folders were left out",) if unlabelled else ()
    return LabelSet(source, "folders", root, found.items(), unlabelled=unlabelled, notes=notes)
