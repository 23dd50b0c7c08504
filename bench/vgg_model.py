"""A stand-in for deepface's gender model with the real VGG-Face architecture and size.

deepface's gender model is VGG-Face (13 convolutions, then fc6/fc7 as 7x7 and 1x1
convolutions) with a 2-way 1x1 convolution and a softmax on top: about 134 M parameters,
537 MB of float32.  This builds the same graph with the onnx helper API and random weights
(He-scaled, so activations stay finite), taking n x 224 x 224 x 3 like deepface's graph.  Its
speed and memory are the real model's; its answers are noise, so it is for benchmarks only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# (output channels, kernel) per convolution; "M" = 2x2 max pooling
VGG_FACE = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def build(path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    nodes = [helper.make_node("Transpose", ["input"], ["x0"], perm=[0, 3, 1, 2])]
    inits = []
    x, channels, n = "x0", 3, 0

    def conv(out_ch: int, kernel: int, pad: int, relu: bool) -> None:
        nonlocal x, channels, n
        n += 1
        w = rng.standard_normal((out_ch, channels, kernel, kernel), dtype=np.float32) * np.float32(
            np.sqrt(2.0 / (channels * kernel * kernel))
        )
        inits.append(numpy_helper.from_array(w, f"w{n}"))
        inits.append(numpy_helper.from_array(np.zeros(out_ch, dtype=np.float32), f"b{n}"))
        nodes.append(
            helper.make_node("Conv", [x, f"w{n}", f"b{n}"], [f"c{n}"], kernel_shape=[kernel, kernel], pads=[pad] * 4)
        )
        x = f"c{n}"
        if relu:
            nodes.append(helper.make_node("Relu", [x], [f"r{n}"]))
            x = f"r{n}"
        channels = out_ch

    for layer in VGG_FACE:
        if layer == "M":
            n += 1
            nodes.append(helper.make_node("MaxPool", [x], [f"p{n}"], kernel_shape=[2, 2], strides=[2, 2]))
            x = f"p{n}"
        else:
            conv(int(layer), 3, 1, relu=True)
    conv(4096, 7, 0, relu=True)  # fc6
    conv(4096, 1, 0, relu=True)  # fc7
    conv(2, 1, 0, relu=False)  # gender head
    nodes.append(helper.make_node("Flatten", [x], ["logits"]))
    nodes.append(helper.make_node("Softmax", ["logits"], ["output"], axis=1))
    graph = helper.make_graph(
        nodes,
        "vgg_face_gender",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 224, 224, 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["n", 2])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


if __name__ == "__main__":
    out = build(Path(sys.argv[1]))
    print(f"{out}: {out.stat().st_size / 1e6:.0f} MB")
