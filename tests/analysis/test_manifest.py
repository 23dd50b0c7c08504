"""Bring-your-own classifiers: a manifest beside an ONNX file says how to feed it.

Tiny graphs (manifest_models.py) in each convention: NCHW and NHWC, square and not, RGB and
BGR, scale/mean/std, a crop by enlarging the box or by 5-point alignment, a dynamic or a fixed
batch, softmax (probabilities or logits, either label order) and one sigmoid (either positive
label, probability or logit).  Each decides real senator portraits right only if face-clean
feeds it as its manifest says; bad manifests stop with exit code 2 before any photo is touched.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import manifest_models as mm
import numpy as np
import photos
import pytest
from conftest import audit_records
from PIL import Image

SENATORS = Path(__file__).parents[1] / "data" / "senators"
MEN = ("man_B001288.jpg", "man_K000384.jpg", "man_S001194.jpg")
ALIGN = {"method": "align5", "padding": 0.2}

CONVENTIONS = {
    "NCHW RGB 32 mean/std align5 dynamic softmax": (
        dict(layout="NCHW", size=(32, 32), colour="RGB", output="softmax"),
        dict(
            input={"layout": "NCHW", "size": 32, "colour": "RGB", "mean": [122.78, 117.0, 104.3], "std": 256},
            crop=ALIGN,
            output={"type": "softmax", "labels": ["female", "male"]},
        ),
    ),
    "NCHW RGB 150 /255 enlarge 0.5 batch 1 sigmoid (ForensicGenderSex)": (
        dict(layout="NCHW", size=(150, 150), colour="RGB", batch=1, output="sigmoid"),
        dict(
            input={"layout": "NCHW", "size": 150, "colour": "RGB", "scale": 1 / 255, "batch": 1},
            crop={"method": "enlarge", "factor": 0.5},
            output={"type": "sigmoid", "positive": "Man"},
        ),
    ),
    "NHWC BGR 64x48 ImageNet mean/std enlarge batch 2 softmax logits Man first": (
        dict(layout="NHWC", size=(64, 48), colour="BGR", batch=2, output="logits", labels=("Man", "Woman")),
        dict(
            input={
                "layout": "NHWC",
                "size": [64, 48],
                "colour": "BGR",
                "scale": 1 / 255,
                "mean": [0.406, 0.456, 0.485],
                "std": [0.225, 0.224, 0.229],
                "batch": 2,
            },
            crop={"method": "enlarge", "factor": 0.25},
            output={"type": "softmax", "labels": ["Man", "Woman"], "logits": True},
        ),
    ),
    "NCHW RGB 96 align5 dynamic sigmoid logit of Woman": (
        dict(layout="NCHW", size=(96, 96), colour="RGB", output="sigmoid-logit", positive="Woman"),
        dict(
            input={"layout": "NCHW", "size": 96, "colour": "RGB", "scale": 1 / 255},
            crop=ALIGN,
            output={"type": "sigmoid", "positive": "Woman", "logits": True},
        ),
    ),
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    root.mkdir()
    for name in MEN:
        shutil.copy2(SENATORS / name, root / name)
    swapped = np.asarray(Image.open(SENATORS / "man_P000145.jpg"))[:, :, ::-1]  # red and blue exchanged
    photos.save(swapped, root / "swapped.jpg", quality=92)
    photos.save(photos.data.coffee(), root / "coffee.jpg")
    return root


@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_each_convention_is_fed_as_its_manifest_says(cli, tmp_path: Path, folder: Path, convention: str):
    graph_args, sections = CONVENTIONS[convention]
    model = mm.gender_graph(tmp_path / "model" / "net.onnx", **graph_args)
    manifest = mm.manifest(tmp_path / "model" / "net.yaml", model, name="tiny-net", **sections)
    result = cli("run", folder, "--keep", "Man", "--detector", "yunet", "--gender-model", manifest)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == sorted(MEN)
    assert (folder / ".face-clean/quarantine/not-man/swapped.jpg").exists()
    assert (folder / ".face-clean/quarantine/no-face/coffee.jpg").exists()
    records = audit_records(folder / ".face-clean/audit.jsonl")
    assert {r["gender_model"] for r in records} == {str(manifest)}
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    assert all(str(model) in r["model_files"] and digest in r["model_sha256"] for r in records)


@pytest.mark.parametrize(
    ("logits", "output"),
    [
        ([0.0, 1.0], {"type": "softmax", "labels": ["Woman", "Man"]}),
        ([1.0], {"type": "sigmoid", "positive": "Man", "logits": True}),
    ],
)
def test_probabilities_are_recorded_exactly(cli, tmp_path: Path, folder: Path, logits, output):
    model = mm.constant_graph(tmp_path / "c.onnx", logits)
    manifest = mm.manifest(tmp_path / "c.yaml", model, input={"size": 32}, crop=ALIGN, output=output)
    result = cli("run", folder, "--keep", "Man", "--detector", "yunet", "--gender-model", manifest, "--dry-run")
    assert result.exit_code == 0, result.output
    faces = [f for r in audit_records(folder / ".face-clean/audit.jsonl") for f in r["faces"]]
    man = 1 / (1 + np.exp(-1.0))  # softmax(0, 1)[1] == sigmoid(1)
    assert len(faces) == 4 and all(f["gender"]["Man"] == pytest.approx(man, abs=1e-6) for f in faces)
    assert all(f["gender"]["Woman"] == pytest.approx(1 - man, abs=1e-6) for f in faces)


@pytest.mark.parametrize(
    ("logits", "output", "age"),
    [([42.0], {"type": "regression"}, 42.0), ([0.0, 0.0, 30.0], {"type": "expectation", "values": [10, 40, 70]}, 70.0)],
)
def test_age_manifest(cli, tmp_path: Path, folder: Path, logits, output, age):
    model = mm.constant_graph(tmp_path / "age.onnx", logits)
    manifest = mm.manifest(tmp_path / "age.yaml", model, task="age", input={"size": 32}, crop=ALIGN, output=output)
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"age_model: {manifest}\nrules:\n  - {{name: old, when: {{age: {{min: 60}}}}, action: review}}\n")
    result = cli("run", folder, "--rules", rules, "--detector", "yunet", "--dry-run")
    assert result.exit_code == 0, result.output
    records = audit_records(folder / ".face-clean/audit.jsonl")
    assert {f["age"] for r in records for f in r["faces"]} == {age}
    assert {r["age_model"] for r in records} == {str(manifest)}
    assert {r["rule"] for r in records if r["faces"]} == {"old" if age >= 60 else "default"}


BAD = [
    ({"colour": "RGB", "oops": 1}, "net.yaml: input: unknown field 'oops'"),
    ({"layout": "CHW"}, "net.yaml: input: field 'layout': expected one of NCHW, NHWC, got 'CHW'"),
    ({"size": 0}, "net.yaml: input: field 'size': expected a number of pixels or [height, width], got 0"),
    ({"std": [1, 0, 1]}, "field 'std': expected numbers other than 0"),
    ({"batch": "some"}, "field 'batch': expected dynamic or a batch size from 1 to 1024"),
]


@pytest.mark.parametrize(("input_section", "message"), BAD)
def test_bad_manifest_stops_before_any_photo(cli, tmp_path: Path, folder: Path, input_section, message):
    model = mm.gender_graph(tmp_path / "net.onnx")
    manifest = mm.manifest(tmp_path / "net.yaml", model, input={"size": 32, **input_section}, crop=ALIGN,
                           output={"type": "softmax", "labels": ["Woman", "Man"]})  # fmt: skip
    result = cli("run", folder, "--keep", "Man", "--gender-model", manifest)
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output and not (folder / ".face-clean").exists()


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"output": {"type": "softmax", "labels": ["cat", "dog"]}}, "expected Man or Woman (or male/female), got"),
        ({"output": {"type": "sigmoid"}}, "field 'positive': missing (type sigmoid needs it)"),
        ({"output": {"type": "regression"}}, "field 'type': expected one of sigmoid, softmax"),
        ({"crop": {"method": "zoom"}}, "crop: field 'method': expected one of enlarge, align5"),
        ({"task": "age", "output": {"type": "regression"}}, "describes a age model, but it was chosen as the gender"),
        ({"input": {"size": 64}}, "input 'x' has shape ['n', 3, 32, 32], but the manifest describes NCHW 64x64"),
        ({"output": {"type": "softmax", "labels": ["Woman", "Man"], "logits": False}, "graph": "logits"},
         "the graph returns values that are not probabilities (set logits: true?)"),
    ],
)  # fmt: skip
def test_manifest_that_does_not_fit_the_graph_is_bad_usage(cli, tmp_path: Path, folder: Path, sections, message):
    sections = dict(sections)
    model = mm.gender_graph(tmp_path / "net.onnx", output=sections.pop("graph", "softmax"))
    fields = {"input": {"size": 32}, "crop": ALIGN, "output": {"type": "softmax", "labels": ["Woman", "Man"]}}
    manifest = mm.manifest(tmp_path / "net.yaml", model, **{**fields, **sections})
    result = cli("run", folder, "--keep", "Man", "--gender-model", manifest)
    assert result.exit_code == 2 and message in result.output, result.output
    assert not list(folder.glob(".face-clean/quarantine/*/*"))


def test_missing_or_altered_model_file(cli, tmp_path: Path, folder: Path):
    model = mm.gender_graph(tmp_path / "net.onnx")
    fields = {"input": {"size": 32}, "crop": ALIGN, "output": {"type": "softmax", "labels": ["Woman", "Man"]}}
    pinned = mm.manifest(tmp_path / "net.yaml", model, sha256="0" * 64, **fields)
    result = cli("run", folder, "--keep", "Man", "--gender-model", pinned)
    assert result.exit_code == 3 and f"{model} is damaged: it has sha256" in result.output, result.output
    model.unlink()
    result = cli("run", folder, "--keep", "Man", "--gender-model", pinned)
    assert result.exit_code == 3 and str(model) in result.output
    assert not list(folder.glob(".face-clean/quarantine/*/*"))


def test_rules_file_names_a_manifest_beside_it(cli, tmp_path: Path, folder: Path):
    model = mm.gender_graph(tmp_path / "conf" / "models" / "net.onnx")
    fields = {"input": {"size": 32}, "crop": ALIGN, "output": {"type": "softmax", "labels": ["Woman", "Man"]}}
    mm.manifest(tmp_path / "conf" / "models" / "net.yaml", model, **fields)
    rules = tmp_path / "conf" / "rules.yaml"
    rules.write_text("gender_model: models/net.yaml\ndetector: yunet\n")
    check = cli("check", rules)
    assert f"models: gender {tmp_path / 'conf' / 'models' / 'net.yaml'}" in check.output
    result = cli("run", folder, "--rules", rules, "--keep", "Man")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == sorted(MEN)
    rules.write_text("gender_model: models/nothing.yaml\n")
    result = cli("check", rules)
    assert result.exit_code == 2 and "neither builtin, deepface nor a model manifest file" in result.output
