"""face-clean run vs. the plain DeepFace loop, on the same folder and the same model file.

    python bench/throughput.py [FOLDER] [--home DIR] [--copies N]

(a) the plain loop: ``DeepFace.analyze(path, actions=['gender'])`` for each file, as the seed
    scripts do; (b) ``face-clean run FOLDER --keep Man --dry-run`` with an empty cache; (c) the
    same photos with other rules (``--keep Woman``), every file decided again from the cache.
    Each runs in its own process and is timed whole (imports and model loading included);
    peak resident memory is that process's own.

The model is a stand-in for deepface's gender model with the real VGG-Face architecture and
size (bench/vgg_model.py), written into DEEPFACE_HOME (``--home``, default a temporary folder),
so both sides load and run a 537 MB graph.  The default folder is generated from scikit-image's
photos at several sizes, from 640 px to 12-megapixel phone-camera size, with and without faces.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vgg_model

PLAIN_LOOP = """
import json, os, sys, time
from pathlib import Path
from deepface import DeepFace
images = faces = 0
for path in sorted(p for p in Path(sys.argv[1]).rglob("*") if p.is_file()):
    images += 1
    try:
        faces += len(DeepFace.analyze(str(path), actions=["gender"], silent=True))
    except ValueError:  # "Face could not be detected": the seed scripts skip those
        pass
print(json.dumps({"images": images, "faces": faces}))
"""

# The models the README's figures were measured with (DeepFace's VGG-Face-sized gender model on
# the opencv detector), not the built-in defaults: pass the same to compare with them.
MEASURED_MODELS = {"FACE_CLEAN_DETECTOR": "opencv", "FACE_CLEAN_GENDER_MODEL": "deepface"}


def scene(face: np.ndarray, width: int, height: int) -> Image.Image:
    """A picture of ``width`` x ``height`` whose middle holds ``face`` scaled to most of the height."""
    canvas = Image.new("RGB", (width, height), (118, 112, 104))
    side = int(height * 0.8)
    canvas.paste(Image.fromarray(face).resize((side, side)), ((width - side) // 2, (height - side) // 2))
    return canvas


def model_env(home: Path) -> tuple[Path, dict[str, str]]:
    """The VGG-Face-sized stand-in under ``home`` (built if absent), and the environment that uses it."""
    model = home / ".deepface" / "weights" / "gender_model_weights.onnx"
    if not model.exists():
        print(f"building the VGG-Face-sized gender model at {model} ...", flush=True)
        vgg_model.build(model)
    env = {
        **os.environ,
        "DEEPFACE_HOME": str(home),
        "DEEPFACE_BACKEND_ENGINE": "onnx",
        "DEEPFACE_LOG_LEVEL": "40",
        **MEASURED_MODELS,
    }
    return model, env


def make_folder(root: Path, copies: int) -> Path:
    """Photos at 640 px, 1600 px, 3000 px and 4000x3000 (12 MP), with and without faces."""
    astronaut = data.astronaut()
    sources = {
        "man": astronaut,
        "woman": np.ascontiguousarray(astronaut[:, :, ::-1]),
        "pair": np.hstack([astronaut, astronaut[:, :, ::-1]]),
    }
    no_face = {"coffee": data.coffee(), "chelsea": data.chelsea(), "rocket": data.rocket()}
    sizes = [(640, 480), (1600, 1200), (3000, 2250), (4000, 3000)]
    root.mkdir(parents=True, exist_ok=True)
    for copy in range(copies):
        for w, h in sizes:
            for name, img in sources.items():
                scene(img, w, h).save(root / f"{name}-{w}-{copy}.jpg", quality=90 - copy)
            for name, img in no_face.items():
                Image.fromarray(img).resize((w, h)).save(root / f"{name}-{w}-{copy}.jpg", quality=90 - copy)
    return root


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB of that one process, and its stdout."""
    with tempfile.TemporaryFile("w+") as out:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd} failed with {proc.returncode}:\n{text}")
    return seconds, usage.ru_maxrss / 1024, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--home", type=Path, help="DEEPFACE_HOME to use (the model is built there if absent)")
    parser.add_argument("--copies", type=int, default=1, help="copies of the default folder (24 images each)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="face-clean-bench-"))
    model, env = model_env(args.home or work / "home")
    folder = args.folder or make_folder(work / "photos", args.copies)
    files = [p for p in folder.rglob("*") if p.is_file()]
    megapixels = sum(Image.open(p).width * Image.open(p).height for p in files) / 1e6 / len(files)
    print(f"{len(files)} images in {folder}, {megapixels:.1f} MP on average; model {model.stat().st_size / 1e6:.0f} MB")

    plain_s, plain_mb, out = timed([sys.executable, "-c", PLAIN_LOOP, str(folder)], env)
    plain = json.loads(out.strip().splitlines()[-1])
    print(f"(a) plain loop: {plain_s:.1f} s, peak {plain_mb:.0f} MB", flush=True)
    audit = work / "state" / "audit.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "cleaner",
        "run",
        str(folder),
        "--keep",
        "Man",
        "--dry-run",
        "-q",
        "--audit-log",
        str(audit),
    ]
    fast_s, fast_mb, _ = timed(cmd, env)
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    fast_faces = sum(len(r["faces"]) for r in records)
    print(f"(b) face-clean: {fast_s:.1f} s, peak {fast_mb:.0f} MB", flush=True)
    # other rules, so that every file is decided again (the same rules would find them decided), from the cache
    other_rules = [*cmd[:6], "Woman", *cmd[7:]]
    cached_s, cached_mb, _ = timed(other_rules, env)
    fresh = [*cmd[:-1], str(work / "state2" / "audit.jsonl")]  # empty cache again; light model copy made
    fresh_s, fresh_mb, _ = timed(fresh, env)

    rows = [
        ("(a) DeepFace.analyze loop", plain_s, plain["images"], plain["faces"], plain_mb),
        ("(b) face-clean run", fast_s, len(records), fast_faces, fast_mb),
        ("(c) face-clean run, cached", cached_s, len(records), fast_faces, cached_mb),
        ("(d) = (b) again, new cache", fresh_s, len(records), fast_faces, fresh_mb),
    ]
    print(f"{'':28} {'seconds':>8} {'images/s':>9} {'faces/s':>8} {'peak RSS':>9}")
    for name, seconds, images, faces, mb in rows:
        print(f"{name:28} {seconds:8.1f} {images / seconds:9.2f} {faces / seconds:8.2f} {mb:7.0f} MB")
    print(f"speed-up (b)/(a): {plain_s / fast_s:.1f}x   (d)/(a): {plain_s / fresh_s:.1f}x")
    print(f"faces found: plain loop {plain['faces']}, face-clean {fast_faces}")


if __name__ == "__main__":
    main()
