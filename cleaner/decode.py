"""Turn a file's bytes into an upright BGR array, or a clear reason why that is impossible.

Decoding happens here, not in deepface, so that EXIF orientation is applied before detection,
the pixel limit is checked from the header before any pixel is decoded, and every way a file
can be bad ends as one readable sentence instead of an exception deep inside a model.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

# We enforce our own, configurable limit from the header (see decode()).
Image.MAX_IMAGE_PIXELS = None


class Unreadable(Exception):
    """The file cannot be analysed; str(err) is the reason written to the audit log."""


@dataclass(frozen=True)
class Decoded:
    bgr: NDArray[np.uint8]
    format: str
    notes: tuple[str, ...] = ()
    full_size: tuple[int, int] = (0, 0)  # upright (width, height) of the full image

    @property
    def width(self) -> int:
        return int(self.bgr.shape[1])

    @property
    def height(self) -> int:
        return int(self.bgr.shape[0])


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit and float greyscale: scale into 8 bits rather than clipping to white
        arr = np.asarray(img, dtype=np.float64)
        hi = float(arr.max()) or 1.0
        img = Image.fromarray((arr * (255.0 / hi)).clip(0, 255).astype(np.uint8), "L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    return img.convert("RGB")


def decode(data: bytes, max_pixels: int, draft_to: int | None = None) -> Decoded:
    """Decode image bytes; raise Unreadable with the reason when that cannot be done.

    With ``draft_to``, a JPEG is decoded at the smallest of 1/2, 1/4 or 1/8 scale whose longest
    side is still at least ``draft_to`` (libjpeg scales while decoding, about 10x cheaper for a
    12-megapixel photo); other formats decode whole.
    """
    if not data:
        raise Unreadable("empty file")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # corrupt EXIF and odd chunks warn; the reasons we give are in the audit log
        return _decode(data, max_pixels, draft_to)


def _decode(data: bytes, max_pixels: int, draft_to: int | None) -> Decoded:
    try:
        img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise Unreadable(_unidentified(data)) from None
    except Exception as err:  # Pillow raises many types on hostile headers
        raise Unreadable(f"not a readable image: {err}") from None
    fmt = img.format or "unknown"
    width, height = img.size
    if width <= 0 or height <= 0:
        raise Unreadable(f"invalid image dimensions {width}x{height}")
    if width * height > max_pixels:
        raise Unreadable(f"image too large: {width}x{height} = {width * height} pixels exceeds max_pixels {max_pixels}")
    notes: list[str] = []
    if draft_to and fmt == "JPEG" and max(width, height) > draft_to:
        factor = draft_to / max(width, height)
        img.draft("RGB", (max(1, int(width * factor + 0.999)), max(1, int(height * factor + 0.999))))
    too_big = f"not enough memory to decode {width}x{height} pixels; lower max_pixels to refuse such images"
    try:
        img.load()
    except MemoryError:
        raise Unreadable(too_big) from None
    except Exception as err:
        raise Unreadable(f"truncated or corrupt {fmt}: {err}") from None
    if getattr(img, "n_frames", 1) > 1:
        notes.append(f"first of {img.n_frames} frames analysed")
    loaded = img.size
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except Exception as err:  # broken EXIF must not make a good image unreadable
        notes.append(f"EXIF orientation ignored: {err}")
    # The full size upright: turned only if the pixels really were (an orientation Pillow cannot
    # read, such as text where a number belongs, turns nothing and must not swap the size either).
    full_size = (height, width) if img.size != loaded else (width, height)
    try:
        bgr = np.ascontiguousarray(np.asarray(_to_rgb(img), dtype=np.uint8)[:, :, ::-1])
    except MemoryError:
        raise Unreadable(too_big) from None
    except Exception as err:
        raise Unreadable(f"cannot convert {img.mode} image to colour: {err}") from None
    return Decoded(bgr, fmt, tuple(notes), full_size)


# How the formats photos come in begin; a file that begins like one but that Pillow cannot open is
# a damaged photo (cut off in its header, say), which "not an image" would misdescribe.
SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
}
HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")


def _unidentified(data: bytes) -> str:
    """Why Pillow could not tell what the file is."""
    for magic, fmt in SIGNATURES.items():
        if data.startswith(magic):
            return f"truncated or corrupt {fmt}: its header cannot be read ({len(data)} bytes)"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return f"truncated or corrupt WEBP: its header cannot be read ({len(data)} bytes)"
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "HEIC/HEIF image: this format cannot be decoded here (convert it to JPEG)"
    return "not an image (no known image format)"
