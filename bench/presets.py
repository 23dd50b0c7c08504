"""The photo folders the benchmarks run on, and this machine's speed.

* ``typical``: the photos people have.  Real photos from the project's labelled set (a path,
  e.g. ``../shared/labelled/``) and scikit-image, each scaled into 0.2-2 megapixels: every
  single-person photo, the group photos, the astronaut, and about a sixth without a face
  (labelled no-face photos, scikit-image's coffee, chelsea and rocket).
* ``large``: scikit-image's photos at 640 px to 12-megapixel phone-camera size, half with faces
  (the preset the README's first figures were measured on).

``copies`` repeats a folder; each copy is re-encoded at another JPEG quality, so its bytes (and
sha256) are new and nothing is answered from a cache by content.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from skimage import data

MIN_PIXELS, MAX_PIXELS = 200_000, 2_000_000
NO_FACE_SHARE = 6  # one photo in six has no face


def gflops(seconds: float = 1.0) -> float:
    """numpy's float32 matrix product speed here, now (GFLOP/s, best of a second of 1024^2 products):
    the figure every benchmark quotes, so that runs on other machines can be compared."""
    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    best, end = 0.0, time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.perf_counter()
        a @ a
        best = max(best, 2 * 1024**3 / (time.perf_counter() - start) / 1e9)
    return best


def load() -> str:
    """The 1-minute load average and the core count, for the figures' context."""
    import os

    return f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


def _in_range(img: Image.Image) -> Image.Image:
    pixels = img.width * img.height
    target = min(max(pixels, MIN_PIXELS), MAX_PIXELS)
    if target == pixels:
        return img
    k = (target / pixels) ** 0.5
    return img.resize((max(1, round(img.width * k)), max(1, round(img.height * k))), Image.LANCZOS)


def typical_sources(labelled: Path) -> list[tuple[str, Image.Image]]:
    """(name, upright RGB photo in 0.2-2 MP): the face photos, then one no-face photo per five."""
    faces: list[tuple[str, Image.Image]] = []
    for folder in ("Man", "Woman", "mixed"):
        for path in sorted((labelled / folder).glob("*")):
            if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"):
                faces.append((f"{folder}-{path.stem}", ImageOps.exif_transpose(Image.open(path)).convert("RGB")))
    faces.append(("skimage-astronaut", Image.fromarray(data.astronaut())))
    blank = [(f"skimage-{n}", Image.fromarray(getattr(data, n)())) for n in ("coffee", "chelsea", "rocket")]
    wanted = round(len(faces) / (NO_FACE_SHARE - 1))
    for path in sorted((labelled / "noface").glob("*")):
        if len(blank) >= wanted:
            break
        if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"):
            blank.append((f"noface-{path.stem}", Image.open(path).convert("RGB")))
    return [(name, _in_range(img)) for name, img in faces + blank]


def make_typical(root: Path, labelled: Path, copies: int = 1) -> Path:
    sources = typical_sources(labelled)
    root.mkdir(parents=True, exist_ok=True)
    for copy in range(copies):
        for name, img in sources:
            img.save(root / f"{name}-{copy}.jpg", quality=92 - copy)
    return root


def scene(face: np.ndarray, width: int, height: int) -> Image.Image:
    """A picture of ``width`` x ``height`` whose middle holds ``face`` scaled to most of the height."""
    canvas = Image.new("RGB", (width, height), (118, 112, 104))
    side = int(height * 0.8)
    canvas.paste(Image.fromarray(face).resize((side, side)), ((width - side) // 2, (height - side) // 2))
    return canvas


def make_large(root: Path, copies: int = 1) -> Path:
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


def describe(folder: Path) -> str:
    files = [p for p in folder.rglob("*") if p.is_file()]
    sizes = []
    for p in files:
        with Image.open(p) as img:
            sizes.append(img.width * img.height / 1e6)
    sizes.sort()
    median, mean = sizes[len(sizes) // 2], sum(sizes) / len(sizes)
    return f"{len(files)} images in {folder}: median {median:.2f} MP, mean {mean:.2f} MP"


def builtin_env() -> dict[str, str]:
    """This environment with face-clean's defaults (yunet and the built-in models), not a site's choice."""
    env = {**os.environ, "DEEPFACE_LOG_LEVEL": "40"}
    for name in ("FACE_CLEAN_DETECTOR", "FACE_CLEAN_GENDER_MODEL", "FACE_CLEAN_AGE_MODEL"):
        env.pop(name, None)
    return env
