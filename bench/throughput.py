"""face-clean run against the plain DeepFace.analyze loop, and against its own bound, on one folder.

    python bench/throughput.py --preset typical --labelled ../shared/labelled/ [--copies N] [--repeat N]
    python bench/throughput.py --preset large [--copies N]
    python bench/throughput.py --folder DIR

Presets (bench/presets.py): ``typical``, real photos of 0.2-2 megapixels, most with one face, a
sixth without; ``large``, 640 px to 12-megapixel photos, half with faces.  Two model sets:

* **VGG**: DeepFace's gender model, as a stand-in of the real VGG-Face architecture and size
  (bench/vgg_model.py, 537 MB, random weights; built in ``--home``).  (a) the plain loop,
  ``DeepFace.analyze(path, actions=['gender'])`` per file, as the seed scripts do (DeepFace's
  default detector, opencv); (b) ``face-clean run --keep Man --dry-run`` with an empty cache
  (face-clean's default detector, yunet); (c) the same with the opencv detector.  (a) and (b)
  alternate ``--repeat`` times, so their ratio is taken under the same load.
* **built-in**: face-clean's defaults (yunet and the built-in models), (d) ``face-clean run``.

Each command runs in its own process, timed whole (imports and model loading included), with its
own peak resident memory; "steady" is the rate between its first and last audit record.  Then
bench/stages.py times each stage alone in one process: decode+detect (with 1 and 2 workers; the
faster is the bound), the models alone, and the pipeline with each stage's busy and idle time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import presets

HERE = Path(__file__).resolve().parent
make_folder = presets.make_large  # bench/cluster.py's folder

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

# DeepFace's gender model (the VGG-sized stand-in); the detector is face-clean's default unless a row says
MEASURED_MODELS = {"FACE_CLEAN_GENDER_MODEL": "deepface"}


def model_env(home: Path) -> tuple[Path, dict[str, str]]:
    """The VGG-Face-sized stand-in under ``home`` (built if absent), and the environment that uses it."""
    model = home / ".deepface" / "weights" / "gender_model_weights.onnx"
    if not model.exists():
        print(f"building the VGG-Face-sized gender model at {model} ...", flush=True)
        # in a child process: Linux carries a parent's peak memory into every child it starts (an
        # exec keeps the larger of the two), so building the graph here, 2.7 GB at its peak, made
        # every command timed afterwards report that peak as its own
        subprocess.run([sys.executable, str(HERE / "vgg_model.py"), str(model)], check=True)
    env = {**presets.builtin_env(), "DEEPFACE_HOME": str(home), "DEEPFACE_BACKEND_ENGINE": "onnx", **MEASURED_MODELS}
    return model, env


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


@dataclass
class Row:
    name: str
    seconds: float
    images: int
    faces: int
    mb: float
    steady: float = 0.0  # images/s between the first and the last audit record

    def line(self) -> str:
        steady = f"{self.steady:.1f}" if self.steady else "-"
        return (
            f"| {self.name} | {self.seconds:.1f} | {self.images / self.seconds:.2f} | {steady} | "
            f"{self.faces / self.seconds:.2f} | {self.mb:.0f} MB |"
        )


def plain(folder: Path, env: dict[str, str]) -> Row:
    seconds, mb, out = timed([sys.executable, "-c", PLAIN_LOOP, str(folder)], env)
    counts = json.loads(out.strip().splitlines()[-1])
    return Row("(a) `DeepFace.analyze` per file (opencv)", seconds, counts["images"], counts["faces"], mb)


def face_clean(name: str, folder: Path, env: dict[str, str], state: Path, *extra: str) -> Row:
    audit = state / "audit.jsonl"
    cmd = [sys.executable, "-m", "cleaner", "run", str(folder), "--keep", "Man", "--dry-run", "-q", *extra]
    seconds, mb, _ = timed([*cmd, "--audit-log", str(audit)], env)
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    times = sorted(datetime.fromisoformat(r["time"]).timestamp() for r in records)
    steady = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
    return Row(name, seconds, len(records), sum(len(r["faces"]) for r in records), mb, steady)


def stages(folder: Path, env: dict[str, str]) -> dict[str, dict[str, object]]:
    _, mb, out = timed([sys.executable, str(HERE / "stages.py"), str(folder)], env)
    found: dict[str, dict[str, object]] = {"peak": {"mb": mb}}
    for line in out.splitlines():
        d = json.loads(line)
        key = f"prepare{d['workers']}" if d.get("stage") == "prepare" else str(d.get("stage"))
        found[key] = d
    return found


def bound(s: dict[str, dict[str, object]]) -> float:
    """Images/s of decode+detect alone, with the better of 1 and 2 workers."""
    return max(float(s[k]["images"]) / float(s[k]["seconds"]) for k in ("prepare1", "prepare2"))  # type: ignore[arg-type]


def show_stages(s: dict[str, dict[str, object]], fc: Row, again: dict[str, dict[str, object]] | None = None) -> None:
    p, m = s["pipeline"], s["model"]
    best = max(bound(s), bound(again)) if again else bound(s)
    print(
        f"  stages alone: decode+detect {s['prepare1']['seconds']:.1f} s on 1 worker, "
        f"{s['prepare2']['seconds']:.1f} s on 2 ({bound(s):.1f} images/s"
        + (f"; {bound(again):.1f} after the run" if again else "")
        + f"); models alone {m['seconds']:.1f} s for {m['faces']} faces "
        f"({float(m['faces']) / float(m['seconds']):.1f} faces/s)"  # type: ignore[arg-type]
    )
    print(
        f"  pipeline in one process: {p['seconds']:.1f} s ({float(p['images']) / float(p['seconds']):.1f} images/s); "  # type: ignore[arg-type]
        f"decode+detect busy {p['prepare_busy_s']} s, idle {p['prepare_idle_s']} s on {p['workers']} worker(s); "
        f"models busy {p['model_busy_s']} s, idle {p['model_idle_s']} s; {p['tuning']}"
    )
    if fc.steady:
        print(f"  face-clean run, steady: {fc.steady:.1f} images/s = {100 * fc.steady / best:.0f} % of the bound")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=("typical", "large"), default="typical")
    parser.add_argument("--labelled", type=Path, help="the labelled photos, for the typical preset")
    parser.add_argument("--folder", type=Path, help="your own photos instead of a preset")
    parser.add_argument("--home", type=Path, help="DEEPFACE_HOME to use (the model is built there if absent)")
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--builtin-copies", type=int, default=4, help="copies for the built-in models (they are fast)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of (a) and (b), alternating")
    parser.add_argument("--models", choices=("both", "vgg", "builtin"), default="both")
    parser.add_argument("--baseline", type=Path, help="built-in models: also run this checkout's code (today's main)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="face-clean-bench-"))
    folder = args.folder
    if folder is None and args.preset == "typical":
        if args.labelled is None:
            raise SystemExit("the typical preset needs --labelled (the project's ../shared/labelled/)")
        folder = presets.make_typical(work / "photos", args.labelled, args.copies)
    elif folder is None:
        folder = presets.make_large(work / "photos", args.copies)
    print(f"{presets.describe(folder)}; {presets.load()}, numpy {presets.gflops():.0f} GFLOP/s", flush=True)
    header = "|  | seconds | images/s | steady images/s | faces/s | peak memory |\n|" + " --- |" + " ---: |" * 5
    if args.models in ("both", "vgg"):
        _, env = model_env(args.home or work / "home")
        # first use of a weight file on a machine: its light and optimised copies are made (once)
        one = work / "one"
        one.mkdir()
        (one / "photo.jpg").write_bytes(next(p for p in sorted(folder.rglob("*")) if p.is_file()).read_bytes())
        first = face_clean("first use (copies made, if not there yet)", one, env, work / "state-first")
        print(f"first use: {first.seconds:.1f} s, peak {first.mb:.0f} MB (the copies are made in a child process)")
        rows: list[Row] = []
        for i in range(args.repeat):
            rows.append(plain(folder, env))
            print(rows[-1].line(), flush=True)
            rows.append(face_clean("(b) `face-clean run` (yunet)", folder, env, work / f"state-b{i}"))
            print(rows[-1].line(), flush=True)
        opencv = {**env, "FACE_CLEAN_DETECTOR": "opencv"}
        rows.append(face_clean("(c) `face-clean run` (opencv)", folder, opencv, work / "state-c"))
        ratios = [a.seconds / b.seconds for a, b in zip(rows[0:-1:2], rows[1:-1:2], strict=True)]
        print(f"\nVGG-sized gender model:\n{header}\n" + "\n".join(r.line() for r in rows))
        print(f"  (a)/(b): {', '.join(f'{r:.1f}x' for r in ratios)} (median {statistics.median(ratios):.1f}x)")
        print(f"  (a)/(c): {rows[0].seconds / rows[-1].seconds:.1f}x (against the first (a))")
        show_stages(stages(folder, env), rows[1])
    if args.models in ("both", "builtin"):
        env = presets.builtin_env()
        if args.folder is None and args.builtin_copies != args.copies:
            maker = presets.make_typical if args.preset == "typical" else presets.make_large
            extra = (args.labelled,) if args.preset == "typical" else ()
            folder = maker(work / "photos-builtin", *extra, args.builtin_copies)  # type: ignore[operator]
            print(presets.describe(folder), flush=True)
        before = stages(folder, env)  # the bound, measured before and after the run (the load changes)
        row = face_clean("(d) `face-clean run`, built-in models", folder, env, work / "state-d")
        after = stages(folder, env)
        print(f"\nbuilt-in models (yunet):\n{header}\n{row.line()}")
        if args.baseline:
            # the same run by the baseline's code, and by this tree without the age model (child_age: 0)
            no_age = work / "no-age.yaml"
            no_age.write_text("cannot_tell: {child_age: 0}\n")
            base_env = {**env, "PYTHONPATH": str(args.baseline)}
            base = face_clean(f"(d0) the same, {args.baseline}'s code", folder, base_env, work / "state-d0")
            lean = face_clean("(d1) (d) without the age model", folder, env, work / "state-d1", "--rules", str(no_age))
            again = face_clean("(d) again", folder, env, work / "state-d2")
            print(f"{base.line()}\n{lean.line()}\n{again.line()}")
        show_stages(before, row, after)
    print(f"{presets.load()}, numpy {presets.gflops():.0f} GFLOP/s at the end", flush=True)


if __name__ == "__main__":
    main()
