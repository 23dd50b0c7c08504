"""Tiny stand-ins for deepface's demography graphs, built with the onnx helper API.

deepface loads ``$DEEPFACE_HOME/.deepface/weights/gender_model_weights.onnx`` exactly as it
loads the real file, so these graphs drive the real deepface code path end to end.  Their
outputs are simple, documented functions of the face crop, which lets a test predict them:

* gender: p = softmax(k * (R - B, B - R))[Woman, Man] over the crop's mean colour.  A
  reddish face (the astronaut) is a confident "Man", the same face with its red and blue
  channels swapped a confident "Woman", and a grey face exactly 50/50 ("uncertain").
* age: a fixed distribution whose expectation is ``AGE`` years, whatever the face.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Gain applied to the red-minus-blue difference of the mean colour (channels are in [0, 1]).
GENDER_GAIN = 10.0
AGE = 35


def save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def gender_graph(path: Path, gain: float = GENDER_GAIN) -> Path:
    """Input nx224x224x3 (BGR in [0, 1], as deepface feeds it); output nx2 softmax (Woman, Man)."""
    # mean over H and W -> nx3 (B, G, R); logits = mean @ W
    weights = np.array([[gain, -gain], [0.0, 0.0], [-gain, gain]], dtype=np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["mean"], axes=[1, 2], keepdims=0),
        helper.make_node("MatMul", ["mean", "W"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["output"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_gender",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 224, 224, 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["n", 2])],
        initializer=[numpy_helper.from_array(weights, "W")],
    )
    return save(graph, path)


def age_graph(path: Path, age: int = AGE) -> Path:
    """Input nx224x224x3; output nx101 softmax whose expectation is ``age``."""
    bias = np.full((101,), -20.0, dtype=np.float32)
    bias[age] = 20.0
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["mean"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Unsqueeze", ["mean", "axis"], ["col"]),
        helper.make_node("Mul", ["col", "zero"], ["zeros"]),  # nx101 of zeros
        helper.make_node("Add", ["zeros", "bias"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["output"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_age",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 224, 224, 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["n", 101])],
        initializer=[
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axis"),
            numpy_helper.from_array(np.zeros((1, 101), dtype=np.float32), "zero"),
            numpy_helper.from_array(bias, "bias"),
        ],
    )
    return save(graph, path)


def install(deepface_home: Path) -> Path:
    """Write both graphs where deepface looks for its weights; return the weights folder."""
    weights = deepface_home / ".deepface" / "weights"
    gender_graph(weights / "gender_model_weights.onnx")
    age_graph(weights / "age_model_weights.onnx")
    return weights


TF_BUILDER = """
import os, sys
os.environ["DEEPFACE_BACKEND_ENGINE"] = "tensorflow"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
from deepface import DeepFace  # noqa: F401  (sets TF_USE_LEGACY_KERAS as deepface always does)
from deepface.commons import weight_utils
from deepface.models.demography.tf import Gender

# Build the gender model with deepface's own architecture code, without loading weights...
weight_utils.download_weights_if_necessary = lambda **kwargs: "unused"
weight_utils.load_model_weights = lambda model, weight_file: model
model = Gender.load_model()
# ...then make its output a fixed (Woman, Man) = softmax(-1, 1) = (0.12, 0.88): every weight
# zero, so every activation is zero and the last layer's bias alone decides.
weights = [np.zeros_like(w) for w in model.get_weights()]
weights[-1] = np.array([-1.0, 1.0], dtype=weights[-1].dtype)
model.set_weights(weights)
model.save_weights(sys.argv[1])
"""


def tensorflow_gender_h5(path: Path) -> Path:
    """deepface's real tensorflow gender architecture (VGG-Face, 134 M parameters), fixed output.

    Built in a child process: deepface fixes its engine per process, and this one is onnx.
    """
    import subprocess
    import sys

    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", TF_BUILDER, str(path)], check=True, timeout=900)
    return path
