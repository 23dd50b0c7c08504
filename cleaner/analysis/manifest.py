"""How to feed a face classifier: the typed spec, and the manifest file that describes one.

The built-in gender and age models are described by the same spec (cleaner.analysis.builtin_models),
so a bring-your-own ONNX classifier runs through exactly the code the defaults use.  A manifest
is a small YAML file beside the ONNX file::

    task: gender                  # gender or age
    file: efnet_b0.onnx           # relative to the manifest
    name: forensic-efnet-b0       # optional (default: the file's stem); written to the audit log
    sha256: 3f2a...               # optional: the file must have it
    input:
      layout: NCHW                # or NHWC
      size: 150                   # or [height, width]
      colour: RGB                 # or BGR
      scale: 0.00392156862745098  # value = (pixel * scale - mean) / std, pixel in 0..255
      mean: [0, 0, 0]             # one number, or one per channel in the input's colour order
      std: [1, 1, 1]
      batch: 1                    # a fixed batch size, or dynamic
    crop:
      method: enlarge             # the detector's box enlarged by factor x its longer side on every side
      factor: 0.5                 # (method: align5 = dlib 5-point alignment, with padding: 0.2)
    output:
      type: sigmoid               # gender: sigmoid (one value) or softmax; age: regression or expectation
      positive: Man               # sigmoid: what its value is the probability of
      # labels: [Woman, Man]      # softmax: one label per output column
      # values: [0, 1, 2, ...]    # expectation: the age of each output column
      logits: false               # true: the graph returns raw scores and face-clean applies the function

Everything is checked when the rules are read (``ManifestError``, exit code 2), before any photo
is touched; the graph itself is checked against the manifest when it is loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleaner.errors import ManifestError
from cleaner.fs.yaml_fields import Fields, load_yaml, read_text

TASKS = ("gender", "age")
GENDER_ALIASES = {"man": "Man", "male": "Man", "m": "Man", "woman": "Woman", "female": "Woman", "f": "Woman"}
MAX_MANIFEST_BYTES = 1_000_000


@dataclass(frozen=True)
class InputSpec:
    layout: str  # NCHW or NHWC
    height: int
    width: int
    colour: str  # RGB or BGR
    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    batch: int | None  # None: dynamic


@dataclass(frozen=True)
class CropSpec:
    method: str  # enlarge or align5
    factor: float = 0.0  # enlarge: margin on every side, as a share of the box's longer side
    padding: float = 0.2  # align5: dlib's get_face_chip_details padding


@dataclass(frozen=True)
class OutputSpec:
    type: str  # sigmoid, softmax (gender); regression, expectation (age)
    labels: tuple[str, ...] = ()  # softmax: Man/Woman per column; sigmoid: the positive label alone
    values: tuple[float, ...] = ()  # expectation: the age of each column
    logits: bool = False

    @property
    def columns(self) -> int:
        return len(self.labels) if self.type == "softmax" else len(self.values) if self.type == "expectation" else 1


@dataclass(frozen=True)
class ClassifierSpec:
    task: str
    name: str
    file: Path
    input: InputSpec
    crop: CropSpec
    output: OutputSpec
    sha256: str | None = None
    manifest: Path | None = None  # None for the built-in models

    @property
    def side(self) -> int:
        """Face pixels worth keeping when the face is cut out (alignment likes some headroom)."""
        return max(112, 2 * max(self.input.height, self.input.width))


def _triple(f: Fields, key: str, default: float) -> tuple[float, float, float]:
    if not f.has(key):
        return (default,) * 3
    value = f.data[key]
    values = value if isinstance(value, list) else [value]
    if len(values) == 1:
        values = values * 3
    if len(values) != 3 or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values):
        raise f.fail(key, "a number or a list of three numbers")
    if key == "std" and any(v == 0 for v in values):
        raise f.fail(key, "numbers other than 0")
    return (float(values[0]), float(values[1]), float(values[2]))


def _input(data: Any, where: str) -> InputSpec:
    f = Fields(data, where, {"layout", "size", "colour", "color", "scale", "mean", "std", "batch"}, ManifestError)
    size = f.data.get("size")
    sizes: list[Any] = size if isinstance(size, list) else [size]
    if len(sizes) == 1:
        sizes = sizes * 2
    if len(sizes) != 2 or any(isinstance(s, bool) or not isinstance(s, int) or not 1 <= s <= 4096 for s in sizes):
        raise ManifestError(f"{where}: field 'size': expected a number of pixels or [height, width], got {size!r}")
    batch = f.data.get("batch", "dynamic")
    if batch != "dynamic" and (isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= 1024):
        raise f.fail("batch", "dynamic or a batch size from 1 to 1024")
    colour = f.data.get("colour", f.data.get("color", "RGB"))
    if colour not in ("RGB", "BGR"):
        raise ManifestError(f"{where}: field 'colour': expected RGB or BGR, got {colour!r}")
    return InputSpec(
        layout=f.choice("layout", ("NCHW", "NHWC"), "NCHW"),
        height=int(sizes[0]),
        width=int(sizes[1]),
        colour=colour,
        scale=f.number("scale", 1.0, 1e-9, 1e9),
        mean=_triple(f, "mean", 0.0),
        std=_triple(f, "std", 1.0),
        batch=None if batch == "dynamic" else batch,
    )


def _crop(data: Any, where: str) -> CropSpec:
    f = Fields(data, where, {"method", "factor", "padding"}, ManifestError)
    method = f.choice("method", ("enlarge", "align5"), "")
    if not method:
        raise ManifestError(f"{where}: field 'method': missing (enlarge or align5)")
    if method == "enlarge":
        return CropSpec("enlarge", factor=f.number("factor", 0.0, 0.0, 5.0))
    return CropSpec("align5", padding=f.number("padding", 0.2, 0.0, 5.0))


def _label(value: Any, where: str) -> str:
    label = GENDER_ALIASES.get(str(value).lower())
    if label is None:
        raise ManifestError(f"{where}: expected Man or Woman (or male/female), got {value!r}")
    return label


def _output(data: Any, where: str, task: str) -> OutputSpec:
    f = Fields(data, where, {"type", "labels", "positive", "values", "logits"}, ManifestError)
    types = ("sigmoid", "softmax") if task == "gender" else ("regression", "expectation")
    kind = f.choice("type", types, "")
    if not kind:
        raise ManifestError(f"{where}: field 'type': missing (for a {task} model: {' or '.join(types)})")
    logits = f.data.get("logits", False)
    if not isinstance(logits, bool):
        raise f.fail("logits", "true or false")
    wanted = {"sigmoid": "positive", "softmax": "labels", "expectation": "values"}.get(kind)
    for key in ("positive", "labels", "values"):
        if f.has(key) and key != wanted:
            raise ManifestError(f"{where}: field {key!r} does not apply to type {kind}")
    if wanted and not f.has(wanted):
        raise ManifestError(f"{where}: field {wanted!r}: missing (type {kind} needs it)")
    if kind == "sigmoid":
        return OutputSpec(kind, labels=(_label(f.data["positive"], f"{where}: field 'positive'"),), logits=logits)
    if kind == "softmax":
        raw = f.data["labels"]
        if not isinstance(raw, list) or len(raw) < 2:
            raise f.fail("labels", "a list of at least two labels, one per output column")
        labels = tuple(_label(v, f"{where}: field 'labels'") for v in raw)
        if set(labels) != {"Man", "Woman"} or len(labels) != 2:
            raise f.fail("labels", "the two labels Man and Woman, in the order of the output columns")
        return OutputSpec(kind, labels=labels, logits=logits)
    if kind == "expectation":
        raw = f.data["values"]
        numbers = isinstance(raw, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)
        if not numbers or len(raw) < 2:
            raise f.fail("values", "a list of numbers, the age of each output column")
        return OutputSpec(kind, values=tuple(float(v) for v in raw), logits=logits)
    if logits:
        raise ManifestError(f"{where}: field 'logits' does not apply to type regression")
    return OutputSpec(kind)


def parse(data: Any, source: Path) -> ClassifierSpec:
    f = Fields(data, str(source), {"task", "file", "name", "sha256", "input", "crop", "output"}, ManifestError)
    task = f.choice("task", TASKS, "")
    if not task:
        raise ManifestError(f"{source}: field 'task': missing (gender or age)")
    file = f.data.get("file")
    if not isinstance(file, str) or not file.strip():
        raise ManifestError(f"{source}: field 'file': expected the ONNX file's name, got {file!r}")
    sha = f.data.get("sha256")
    if sha is not None and not (isinstance(sha, str) and re.fullmatch(r"[0-9a-fA-F]{64}", sha)):
        raise f.fail("sha256", "64 hexadecimal digits")
    name = f.data.get("name") or Path(file).stem
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise f.fail("name", "a short name")
    for section in ("input", "crop", "output"):
        if not f.has(section):
            raise ManifestError(f"{source}: field {section!r}: missing")
    return ClassifierSpec(
        task=task,
        name=name.strip(),
        file=(source.parent / file).resolve(),
        input=_input(f.data["input"], f"{source}: input"),
        crop=_crop(f.data["crop"], f"{source}: crop"),
        output=_output(f.data["output"], f"{source}: output", task),
        sha256=sha.lower() if sha else None,
        manifest=source,
    )


def load(path: Path, task: str | None = None) -> ClassifierSpec:
    """Read and check a manifest; ``task`` is the task it is chosen for (gender_model: a gender model)."""
    text = read_text(path, MAX_MANIFEST_BYTES, "model manifest", ManifestError)
    data = load_yaml(text, str(path), "model manifest", ManifestError)
    spec = parse(data, path.resolve())
    if task is not None and spec.task != task:
        raise ManifestError(f"{path}: describes a {spec.task} model, but it was chosen as the {task} model")
    return spec
