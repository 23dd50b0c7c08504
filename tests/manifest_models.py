"""Tiny ONNX classifiers in every input and output convention a manifest can describe.

Each gender graph answers from the crop's mean colour, like tiny_models' stand-in: red above
blue is "Man".  A natural face is redder than it is blue, so a manifest that describes the graph
rightly keeps a man's portrait; the same portrait with red and blue swapped reads "Woman".  A
manifest that got the layout or the colour order wrong would see other channels and flip that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import tiny_models
import yaml
from onnx import TensorProto, helper, numpy_helper

GAIN = 100.0  # logit per unit of (red - blue) mean, in the model's normalised units (saturates: sure answers)


def _save(nodes: list[Any], inputs: list[Any], outputs: list[Any], inits: list[Any], path: Path) -> Path:
    return tiny_models.save(helper.make_graph(nodes, "tiny_classifier", inputs, outputs, initializer=inits), path)


def gender_graph(
    path: Path,
    layout: str = "NCHW",
    size: tuple[int, int] = (32, 32),
    colour: str = "RGB",
    batch: int | None = None,
    output: str = "softmax",  # softmax | logits | sigmoid | sigmoid-logit
    labels: tuple[str, str] = ("Woman", "Man"),
    positive: str = "Man",
) -> Path:
    n: Any = batch or "n"
    h, w = size
    shape = [n, 3, h, w] if layout == "NCHW" else [n, h, w, 3]
    axes = [2, 3] if layout == "NCHW" else [1, 2]
    red, blue = (0, 2) if colour == "RGB" else (2, 0)
    man = np.zeros(3, dtype=np.float32)
    man[red], man[blue] = GAIN, -GAIN
    if output.startswith("sigmoid"):
        weights = (man if positive == "Man" else -man).reshape(3, 1)
        columns = 1
    else:
        weights = np.stack([-man, man] if labels == ("Woman", "Man") else [man, -man], axis=1)
        columns = 2
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=axes, keepdims=0),
        helper.make_node("MatMul", ["mean", "W"], ["logits"]),
    ]
    final = "logits"
    if output == "softmax":
        nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], axis=1))
        final = "probs"
    elif output == "sigmoid":
        nodes.append(helper.make_node("Sigmoid", ["logits"], ["probs"]))
        final = "probs"
    nodes.append(helper.make_node("Identity", [final], ["y"]))
    return _save(
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, columns])],
        [numpy_helper.from_array(weights.astype(np.float32), "W")],
        path,
    )


def constant_graph(path: Path, logits: list[float], size: int = 32) -> Path:
    """NCHW, any batch: for every face the same softmax over len(logits) classes (with one class:
    that raw value), whatever the face: for exact probabilities and ages."""
    k = len(logits)
    bias = np.asarray(logits, dtype=np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[1, 2, 3], keepdims=1),  # n x 1 x 1 x 1
        helper.make_node("Flatten", ["mean"], ["col"], axis=1),  # n x 1
        helper.make_node("Mul", ["col", "zero"], ["zeros"]),  # n x k of zeros
        helper.make_node("Add", ["zeros", "bias"], ["y0"]),
        helper.make_node("Softmax", ["y0"], ["y"], axis=1) if k > 1 else helper.make_node("Identity", ["y0"], ["y"]),
    ]
    return _save(
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", k])],
        [numpy_helper.from_array(np.zeros((1, k), np.float32), "zero"), numpy_helper.from_array(bias, "bias")],
        path,
    )


def manifest(path: Path, onnx_file: Path, **fields: Any) -> Path:
    """A manifest beside ``onnx_file``; ``fields`` are its sections (task, input, crop, output...)."""
    doc = {"task": "gender", "file": onnx_file.name, **fields}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path
