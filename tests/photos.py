"""Real photos for tests: scikit-image's bundled pictures and composites built from them.

With the tiny gender graph (see tiny_models.py) the astronaut reads as a confident "Man",
the astronaut with red and blue swapped as a confident "Woman", and a grey astronaut as
exactly 50/50.  coffee, chelsea and rocket have no face.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data


def astronaut() -> np.ndarray:
    return data.astronaut()


def swapped() -> np.ndarray:
    """The astronaut with red and blue exchanged: same face, a "Woman" to the tiny model."""
    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


def save(img: Image.Image | np.ndarray, path: Path, **kwargs: object) -> Path:
    if isinstance(img, np.ndarray):
        img = Image.fromarray(img)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, **kwargs)
    return path


def two_faces() -> np.ndarray:
    """A man on the left, a woman on the right (to the tiny model)."""
    return np.hstack([astronaut(), swapped()])


def small_face(scale: float = 0.4) -> np.ndarray:
    """The astronaut shrunk onto a larger canvas: one face of about 97*scale pixels."""
    small = np.asarray(Image.fromarray(astronaut()).resize((int(512 * scale), int(512 * scale))))
    canvas = np.full((512, 512, 3), 90, dtype=np.uint8)
    canvas[40 : 40 + small.shape[0], 40 : 40 + small.shape[1]] = small
    return canvas


def grey() -> Image.Image:
    return Image.fromarray(astronaut()).convert("L")


def exif_rotated(path: Path) -> Path:
    """Pixels stored turned on their side, with EXIF orientation 6 saying how to show them upright."""
    img = Image.fromarray(astronaut()).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    return save(img, path, exif=exif.tobytes(), quality=92)


def truncated_jpeg(path: Path) -> Path:
    buf = io.BytesIO()
    Image.fromarray(astronaut()).save(buf, format="JPEG", quality=92)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    return path


def make_folder(root: Path) -> dict[str, Path]:
    """The standard mixed folder the end-to-end tests sweep; name -> path."""
    files = {
        "man": save(astronaut(), root / "man.jpg", quality=92),
        "woman": save(swapped(), root / "woman.png"),
        "two": save(two_faces(), root / "group" / "two faces.jpg", quality=92),
        "grey": save(grey(), root / "grey.jpg", quality=92),
        "rotated": exif_rotated(root / "rotated.jpg"),
        "coffee": save(data.coffee(), root / "coffee.jpg", quality=92),
        "chelsea": save(data.chelsea(), root / "cats" / "chelsea.png"),
        "rocket": save(data.rocket(), root / "rocket.jpg", quality=92),
        "truncated": truncated_jpeg(root / "broken.jpg"),
        "text": root / "notes.jpg",
        "empty": root / "empty.png",
    }
    files["text"].write_text("this is not a photo\n")
    files["empty"].write_bytes(b"")
    return files
