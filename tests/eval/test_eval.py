"""`face-clean eval`: the three label formats, on real photos with the tiny gender model.

The labelled set (see LABELS) is chosen so that every cell that matters is hit: a confident man
and women, a grey face (50/50: uncertain) labelled Man, a man beside a smaller woman (the larger
face decides), two photos without a face, a photo without a face labelled Woman (a missed face),
a man labelled none (a spurious face) and a truncated file.  The tiny model is ~0.987 sure of
every coloured face, so they all turn uncertain at 0.99 and none at 0.95.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import photos
import pytest
import scipy.io
from conftest import sha256
from PIL import Image
from skimage import data

from cleaner.analysis.batch import BatchAnalyzer
from cleaner.analysis.face_analyzer import FaceAnalyzer
from cleaner.eval.evaluation import SWEEP, Confusion, Observation

LABELS = {
    "man.jpg": "Man",
    "grey.jpg": "Man",
    "group/pair.jpg": "Man",
    "woman.png": "Woman",
    "woman 2.jpg": "Woman",
    "rocket.jpg": "Woman",  # no face in it: a missed face
    "coffee.jpg": "none",
    "cats/chelsea.png": "none",
    "astronaut.png": "none",  # a face: a spurious one
    "broken.jpg": "Man",  # truncated: unreadable
}
MATRIX = {  # at the default rules' threshold, 0.8
    "Man": {"Man": 2, "Woman": 0, "none": 0, "uncertain": 1},
    "Woman": {"Man": 0, "Woman": 2, "none": 1, "uncertain": 0},
    "none": {"Man": 1, "Woman": 0, "none": 2, "uncertain": 0},
}
STATE = Path(".face-clean/state.db")


def pair() -> np.ndarray:
    """The astronaut (a 97 px face) beside a smaller swapped one (59 px): the man's face is larger."""
    small = np.asarray(Image.fromarray(photos.swapped()).resize((307, 307)))
    return np.hstack([photos.astronaut(), np.pad(small, ((100, 105), (0, 0), (0, 0)), constant_values=90)])


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pictures")
    photos.save(photos.astronaut(), root / "man.jpg", quality=92)
    photos.save(photos.grey(), root / "grey.jpg", quality=92)
    photos.save(pair(), root / "group/pair.jpg", quality=92)
    photos.save(photos.swapped(), root / "woman.png")
    photos.save(photos.swapped(), root / "woman 2.jpg", quality=90)
    photos.save(data.rocket(), root / "rocket.jpg", quality=92)
    photos.save(data.coffee(), root / "coffee.jpg", quality=92)
    photos.save(data.chelsea(), root / "cats/chelsea.png")
    photos.save(photos.astronaut(), root / "astronaut.png")
    photos.truncated_jpeg(root / "broken.jpg")
    return root


@pytest.fixture
def root(pictures: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pictures, tmp_path / "dataset"))


def write_csv(path: Path, rows: dict[str, str], columns: tuple[str, str] = ("path", "label")) -> Path:
    spellings = {"Man": "male", "Woman": "Female", "none": "none"}  # labels are case-insensitive, with aliases
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows((name, spellings[label]) for name, label in rows.items())
    return path


def write_mat(path: Path, rows: dict[str, str]) -> Path:
    """An IMDB-WIKI-shaped file: a 1x1 struct of 1xN arrays, full_path a cell array."""
    names = [*rows, "unknown gender.jpg"]
    full_path = np.empty((1, len(names)), dtype=object)
    full_path[0, :] = names
    # none: face_score -inf whatever the gender says (one NaN, one 1.0); unknown gender: NaN, skipped
    gender = [{"Man": 1.0, "Woman": 0.0}.get(lab, np.nan if n == "coffee.jpg" else 1.0) for n, lab in rows.items()]
    score = [-np.inf if lab == "none" else 3.5 for lab in rows.values()]
    wiki = {
        "dob": np.ones((1, len(names))),
        "full_path": full_path,
        "gender": np.array([[*gender, np.nan]]),
        "face_score": np.array([[*score, 2.0]]),
        "second_face_score": np.full((1, len(names)), np.nan),
    }
    scipy.io.savemat(path, {"wiki": wiki})
    return path


def folder_layout(pictures: Path, dest: Path) -> Path:
    for name, label in LABELS.items():
        target = dest / label / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(pictures / name, target)
    return dest


def listing(root: Path) -> dict[str, str]:
    """Every file but the cache's, by path, with its sha256."""
    files = {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}
    own = {name for name in files if name.startswith(".face-clean/")}
    assert own <= {f"{STATE}{suffix}" for suffix in ("", "-wal", "-shm")}
    return {name: sha256(p) for name, p in files.items() if name not in own}


def check_numbers(numbers: dict, skipped: int = 0) -> None:
    assert numbers["confusion_matrix"] == MATRIX
    counts = {k: v for k, v in numbers["counts"].items() if k not in ("analysed_now", "from_cache")}
    assert counts == {"labelled": 10, "evaluated": 9, "unreadable": 1, "missing": 0, "several_faces": 1}
    assert (numbers["missed_faces"], numbers["spurious_faces"], numbers["uncertain"]) == (1, 1, 1)
    assert numbers["skipped_labels"] == skipped
    report = numbers["report"]
    assert report["Man"] == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    assert report["Woman"] == pytest.approx({"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3})
    assert report["none"] == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    weighted = {"precision": 7 / 9, "recall": 2 / 3, "f1": (2 / 3 + 0.8 + 2 / 3) / 3, "support": 9}
    assert report["weighted avg"] == pytest.approx(weighted)
    assert numbers["accuracy"] == pytest.approx(6 / 9)
    sweep = {p["threshold"]: p for p in numbers["sweep"]}
    assert list(sweep) == list(SWEEP)
    assert sweep[0.5]["uncertain_share"] == 0  # a confidence is never under 0.5
    assert sweep[0.95]["uncertain_share"] == pytest.approx(1 / 9)  # the grey face
    assert sweep[0.99]["uncertain_share"] == pytest.approx(6 / 9)  # every face
    assert (sweep[0.8]["precision"], sweep[0.8]["recall"]) == pytest.approx(((2 / 3 + 1) / 2, 2 / 3))
    assert (sweep[0.99]["precision"], sweep[0.99]["recall"]) == (0, 0)
    [broken] = numbers["unreadable"]
    assert broken["path"].endswith("broken.jpg") and broken["error"]


@pytest.fixture(scope="module")
def csv_run(pictures: Path, tmp_path_factory) -> SimpleNamespace:
    """The one eval that analyses the whole set (the model is slow on a busy machine); the other
    formats are answered from a copy of its cache."""
    from conftest import invoke

    root = Path(shutil.copytree(pictures, tmp_path_factory.mktemp("csv") / "dataset"))
    labels = write_csv(root / "labels.csv", LABELS, columns=("file", "Gender"))
    before = listing(root)
    out_json, out_png = root.parent / "eval.json", root.parent / "sweep.png"
    result = invoke("eval", labels, "--path-column", "file", "--label-column", "gender", "--json", out_json,
                    "--plot", out_png)  # fmt: skip
    return SimpleNamespace(root=root, before=before, result=result, json=out_json, png=out_png)


@pytest.fixture
def no_model(monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("the model ran again")

    monkeypatch.setattr(FaceAnalyzer, "models", fail)
    monkeypatch.setattr(BatchAnalyzer, "_detect", fail)


def copy_cache(csv_run: SimpleNamespace, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(csv_run.root / STATE, dest))


def test_csv_labels(csv_run: SimpleNamespace):
    result, root = csv_run.result, csv_run.root
    assert result.exit_code == 1, result.output  # done, but one image was unreadable
    assert re.search(r"^  Man +2 +0 +0 +1$", result.output, re.MULTILINE)  # a row of the confusion matrix
    assert re.search(r"^  weighted avg +0.78 +0.67 +0.71 +9$", result.output, re.MULTILINE)
    assert "Missed faces (labelled Man or Woman, no face found): 1" in result.output
    assert "Spurious faces (labelled none, a face found): 1" in result.output
    assert "analysed now: 10   from cache: 0" in result.output
    assert "0.80 <- rules" in result.output
    numbers = json.loads(csv_run.json.read_text())
    check_numbers(numbers)
    assert numbers["labels"]["format"] == "csv" and numbers["threshold"] == 0.8
    png = csv_run.png.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    with Image.open(csv_run.png) as img:
        assert img.size == (1300, 500)  # the threshold sweep, and beside it the risk-coverage curve
    assert "Risk and coverage" in result.output
    assert re.search(r"^  --keep Man +0\.80 +9 ", result.output, re.MULTILINE)  # the readable photos, each policy
    assert {(r["policy"], r["group"]) for r in numbers["risk_coverage"]} >= {("Man", "all"), ("Woman", "all")}
    # nothing moved, nothing written but the cache
    assert listing(root) == csv_run.before and (root / STATE).exists()
    assert not list(root.rglob("*.jsonl"))


def test_imdb_wiki_mat_is_answered_from_the_cache(cli, csv_run: SimpleNamespace, root: Path, tmp_path: Path, no_model):
    mat = write_mat(root / "wiki.mat", LABELS)
    raw = scipy.io.loadmat(mat)["wiki"]  # the real file's nesting: a (1, 1) struct of object arrays
    assert raw.shape == (1, 1) and raw[0, 0]["full_path"][0, 0][0] == "man.jpg"
    cache = copy_cache(csv_run, tmp_path / "elsewhere" / "cache.db")
    out_json = tmp_path / "eval.json"
    result = cli("eval", mat, "--state-db", cache, "--json", out_json)
    assert result.exit_code == 1, result.output
    assert "analysed now: 0   from cache: 10" in result.output  # other paths, the same contents
    assert "1 entries without a gender were skipped" in result.output
    numbers = json.loads(out_json.read_text())
    check_numbers(numbers, skipped=1)
    assert numbers["labels"]["format"] == "imdb-wiki"
    assert not (root / ".face-clean").exists()


def test_folder_per_label(cli, csv_run: SimpleNamespace, pictures: Path, tmp_path: Path, no_model):
    layout = folder_layout(pictures, tmp_path / "dataset")
    (layout / "Woman").rename(layout / "women")  # aliases are accepted as folder names
    (layout / "README.txt").write_text("not labelled\n")
    copy_cache(csv_run, layout / STATE)  # where eval looks by default: the folder's own
    before = listing(layout)
    out_json = tmp_path / "eval.json"
    result = cli("eval", layout, "--json", out_json)
    assert result.exit_code == 1, result.output
    assert "from cache: 10" in result.output and "1 files outside the label folders" in result.output
    numbers = json.loads(out_json.read_text())
    check_numbers(numbers)
    assert numbers["labels"]["format"] == "folders" and numbers["unlabelled_files"] == 1
    assert listing(layout) == before


def test_no_cache_and_the_rules_threshold(cli, root: Path, tmp_path: Path):
    rows = {"man.jpg": "Man", "grey.jpg": "Man", "coffee.jpg": "none", "gone.jpg": "Woman"}
    out_json = tmp_path / "eval.json"
    result = cli("eval", write_csv(root / "labels.csv", rows), "--no-cache", "--min-confidence", "0.97",
                 "--json", out_json)  # fmt: skip
    assert result.exit_code == 1, result.output  # a labelled file is missing
    assert "Unreadable: 1 (missing: 1)" in result.output
    assert not (root / ".face-clean").exists()
    numbers = json.loads(out_json.read_text())
    assert numbers["threshold"] == 0.97 and 0.97 in [p["threshold"] for p in numbers["sweep"]]
    assert numbers["confusion_matrix"]["Man"] == {"Man": 1, "Woman": 0, "none": 0, "uncertain": 1}
    counts = {"labelled": 4, "evaluated": 3, "unreadable": 1, "missing": 1, "analysed_now": 3, "from_cache": 0}
    assert numbers["counts"] == counts | {"several_faces": 0}
    assert numbers["unreadable"] == [{"path": str(root / "gone.jpg"), "error": "no such file (named in the labels)"}]


def test_metrics_by_hand():
    obs = [
        Observation(Path("a"), "Man", True, faces=1, gender="Man", confidence=0.9),
        Observation(Path("b"), "Man", True, faces=2, gender="Woman", confidence=0.85),
        Observation(Path("c"), "Woman", True, faces=1, gender="Woman", confidence=0.6),
        Observation(Path("d"), "none", True, faces=0),
    ]
    c = Confusion.of(obs, 0.8)
    assert c.counts["Woman"]["uncertain"] == 1 and c.counts["Man"]["Woman"] == 1
    report = c.report()
    assert report["Woman"].precision == 0 and report["Woman"].recall == 0  # 0/0 and 0/1 are 0
    assert report["Man"].precision == 1 and report["Man"].recall == 0.5
    assert report["macro avg"].precision == pytest.approx((1 + 0 + 1) / 3)
    assert Confusion.of(obs, 0.5).counts["Woman"]["Woman"] == 1


@pytest.mark.parametrize(
    ("content", "options", "message"),
    [
        ("file,label\nman.jpg,Man\n", (), "no column 'path' (columns: 'file', 'label'); name the right one"),
        ("path,label\nman.jpg,Man\n", ("--label-column", "sex"), "no column 'sex'"),
        (
            "path,label\nman.jpg,Man\ncoffee.jpg,cat\n",
            (),
            "line 3: unknown label 'cat'; expected Man, Woman, none or mixed",
        ),
        ("path,label\nman.jpg,1\n", (), "unknown label '1'"),
        ("path,label\nman.jpg,Man\nman.jpg,Woman\n", (), "is labelled both Man and Woman"),
        ("path,label\n", (), "no labelled images"),
        ("path,label\nman.jpg,Man\n", ("--format", "folders"), "the folders format needs a folder"),
        ("path,label\nman.jpg,Man\n", ("--format", "imdb-wiki"), "not a MATLAB .mat file"),
    ],
)
def test_bad_labels_exit_2(cli, root: Path, content: str, options: tuple[str, ...], message: str):
    labels = root / "labels.csv"
    labels.write_text(content)
    result = cli("eval", labels, *options)
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (root / ".face-clean").exists()  # stopped before anything was analysed


def test_other_usage_errors_exit_2(cli, root: Path, tmp_path: Path, monkeypatch):
    result = cli("eval", tmp_path / "nowhere.csv")
    assert result.exit_code == 2 and "does not exist" in result.output
    (tmp_path / "set" / "cats").mkdir(parents=True)
    result = cli("eval", tmp_path / "set")
    assert result.exit_code == 2 and "folder 'cats': unknown label 'cats'" in result.output
    plain = photos.save(photos.astronaut(), tmp_path / "plain" / "x.jpg").parent
    result = cli("eval", write_mat(tmp_path / "x.mat", {}), "--format", "csv")
    assert result.exit_code == 2 and "x.mat: not a UTF-8 CSV file" in result.output
    scipy.io.savemat(tmp_path / "other.mat", {"celebrities": np.ones((1, 2))})
    result = cli("eval", tmp_path / "other.mat")
    assert result.exit_code == 2 and "no IMDB-WIKI struct 'imdb' or 'wiki' in it (found: celebrities)" in result.output
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # not installed
    result = cli("eval", write_csv(plain / "l.csv", {"x.jpg": "Man"}), "--plot", tmp_path / "p.png")
    assert result.exit_code == 2 and "--plot needs matplotlib: pip install 'face-clean[eval]'" in result.output
