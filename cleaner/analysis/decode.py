"""Turn a file's bytes into an upright BGR array, or a clear reason why that is impossible.

Decoding happens here, not in deepface, so that EXIF orientation is applied before detection,
the pixel limit is checked from the header before any pixel is decoded, and every way a file
can be bad ends as one readable sentence instead of an exception deep inside a model.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

import numpy as np
import pillow_heif
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from cleaner.analysis.containers import BadContainer, embedded_sizes, tiff_pages
from cleaner.analysis.kinds import content_kind

# We enforce our own, configurable limit from the header (see decode()).
Image.MAX_IMAGE_PIXELS = None
# HEIC/HEIF, the iPhone's format, through libheif (AVIF is Pillow's own). pillow-heif turns the image
# upright as its container says and resets the EXIF orientation, so exif_transpose below turns nothing twice.
pillow_heif.register_heif_opener()


DEFAULT_BUDGET = 384 << 20  # bytes one image may take to read and decode: fits a 1 GB container with the model
# Bytes per decoded pixel, measured peaks of decode() (Pillow's image, the RGB copy, the flipped array):
# about 14 for 8-bit formats (HEIC 14.5, measured on 12 MP); WebP's decoder keeps a canvas of its own (22), and
# AVIF's too (16.7); 16-bit and float go through float64.
BYTES_PER_PIXEL = {"WEBP": 24, "AVIF": 20, "high": 40, "other": 16}


class Unreadable(Exception):
    """The file cannot be analysed; str(err) is the reason written to the audit log."""


class OverBudget(Unreadable):
    """Reading or decoding the image would take more memory than the budget allows: not analysed."""


class NotAnImage(Unreadable):
    """Nothing here begins like an image format we know: skipped, unless the file's name claims one."""


def budget_note(budget: int) -> str:
    return f"over the memory budget of {budget >> 20} MB (memory_budget in the rules)"


def check_budget(width: int, height: int, mode: str, fmt: str, extra: int, budget: int) -> None:
    """Refuse, before a pixel is decoded, an image whose decoding would not fit in ``budget`` bytes."""
    high = mode in ("I;16", "I;16B", "I;16L", "I", "F")
    per_pixel = BYTES_PER_PIXEL["high" if high else fmt if fmt in BYTES_PER_PIXEL else "other"]
    need = width * height * per_pixel + extra
    if need > budget:
        raise OverBudget(f"{width}x{height} pixels need about {need >> 20} MB to decode, {budget_note(budget)}")


def webp_size(data: bytes) -> tuple[int, int] | None:
    """A WebP's canvas size from its first chunk, read here because Pillow's WebP decoder allocates
    the canvas as soon as the file is opened."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    kind, body = data[12:16], data[20:30].ljust(10, b"\0")
    if kind == b"VP8X":
        return 1 + int.from_bytes(body[4:7], "little"), 1 + int.from_bytes(body[7:10], "little")
    if kind == b"VP8L" and body[0] == 0x2F:
        bits = int.from_bytes(body[1:5], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if kind == b"VP8 " and body[3:6] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", body[6:10])
        return w & 0x3FFF, h & 0x3FFF
    return None


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


def decode(data: bytes, max_pixels: int, draft_to: int | None = None, budget: int = DEFAULT_BUDGET) -> Decoded:
    """Decode image bytes; raise Unreadable with the reason when that cannot be done (OverBudget when
    decoding would take more than ``budget`` bytes, judged from the header before any pixel is decoded).

    With ``draft_to``, a JPEG is decoded at the smallest of 1/2, 1/4 or 1/8 scale whose longest
    side is still at least ``draft_to`` (libjpeg scales while decoding, about 10x cheaper for a
    12-megapixel photo); other formats decode whole.
    """
    if not data:
        raise Unreadable("empty file")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # corrupt EXIF and odd chunks warn; the reasons we give are in the audit log
        return _decode(data, max_pixels, draft_to, budget)


def _check_size(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise Unreadable(f"invalid image dimensions {width}x{height}")
    if width * height > max_pixels:
        raise Unreadable(f"image too large: {width}x{height} = {width * height} pixels exceeds max_pixels {max_pixels}")


def _check_frames(data: bytes, max_pixels: int, budget: int) -> None:
    """Every image an icon file holds, by its own header (cleaner.analysis.containers): Pillow decodes
    one while opening the file, whatever the directory said."""
    try:
        sizes = embedded_sizes(data)
    except (BadContainer, struct.error) as err:
        raise Unreadable(f"truncated or corrupt icon file: {err}") from None
    for width, height in sizes or ():
        if width * height > max_pixels:
            raise Unreadable(
                f"image too large: it holds an image of {width}x{height} = {width * height} pixels,"
                f" which exceeds max_pixels {max_pixels}"
            )
        check_budget(width, height, "RGBA", "other", len(data), budget)


def _decode(data: bytes, max_pixels: int, draft_to: int | None, budget: int) -> Decoded:
    webp = webp_size(data)
    if webp is not None:
        _check_size(*webp, max_pixels)
        check_budget(*webp, "RGB", "WEBP", len(data), budget)
    _check_frames(data, max_pixels, budget)
    try:
        img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        reason = unidentified(data)
        raise (NotAnImage if reason.startswith("not an image") else Unreadable)(reason) from None
    except Exception as err:  # Pillow raises many types on hostile headers
        raise Unreadable(f"not a readable image: {err}") from None
    fmt = img.format or "unknown"
    width, height = img.size
    _check_size(width, height, max_pixels)
    notes: list[str] = []
    if draft_to and fmt == "JPEG" and max(width, height) > draft_to:
        factor = draft_to / max(width, height)
        img.draft("RGB", (max(1, int(width * factor + 0.999)), max(1, int(height * factor + 0.999))))
    check_budget(*img.size, img.mode, fmt, len(data), budget)  # the size it decodes at: drafted JPEGs are smaller
    too_big = f"not enough memory to decode {width}x{height} pixels; lower max_pixels to refuse such images"
    try:
        img.load()
    except MemoryError:
        raise Unreadable(too_big) from None
    except Exception as err:
        raise Unreadable(f"truncated or corrupt {fmt}: {err}") from None
    pages = tiff_pages(data) if fmt == "TIFF" else None  # counted here: a TIFF's pages can be countless
    frames = pages if pages is not None else int(getattr(img, "n_frames", 1))
    if frames > 1:
        notes.append(f"first of {frames}{' or more' if pages == 1000 else ''} frames analysed")
    loaded = img.size
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except Exception as err:  # broken EXIF must not make a good image unreadable
        notes.append(f"EXIF orientation ignored: {err}")
    # The full size upright: turned only if the pixels really were (an orientation Pillow cannot
    # read, such as text where a number belongs, turns nothing and must not swap the size either).
    full_size = (height, width) if img.size != loaded else (width, height)
    try:
        import cv2  # swaps the channels in 0.1 ms a megapixel; numpy's strided copy took 4 ms

        bgr = np.asarray(cv2.cvtColor(np.asarray(_to_rgb(img), dtype=np.uint8), cv2.COLOR_RGB2BGR), dtype=np.uint8)
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


# Other beginnings Pillow opens: a file that begins like none of these (a video, an archive) is not read whole.
OTHER_SIGNATURES = (
    *(b"BM", b"\x00\x00\x01\x00", b"\x00\x00\x02\x00", b"icns", b"8BPS"),
    *(b"\x00\x00\x00\x0cjP  ", b"\xff\x4f\xff\x51", b"DDS ", b"qoif"),
)
NETPBM = tuple(f"P{n}".encode() for n in range(1, 8))


def sniff(head: bytes) -> str | None:
    """The image format a file's first bytes announce, or None when they announce none we know."""
    for magic, fmt in SIGNATURES.items():
        if head.startswith(magic):
            return fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and (head[8:12] in HEIF_BRANDS or head[8:12] in (b"avif", b"avis")):
        return "HEIF"
    if head.startswith(OTHER_SIGNATURES) or head[:2] in NETPBM:
        return "other"
    return None


def unidentified(data: bytes, name: str = "") -> str:
    """Why Pillow could not tell what the file is (``name``: the file's, when it says it is an image)."""
    for magic, fmt in SIGNATURES.items():
        if data.startswith(magic):
            return f"truncated or corrupt {fmt}: its header cannot be read ({len(data)} bytes)"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return f"truncated or corrupt WEBP: its header cannot be read ({len(data)} bytes)"
    if data[4:8] == b"ftyp" and data[8:12] in (*HEIF_BRANDS, b"avif", b"avis"):
        return f"truncated or corrupt {'AVIF' if data[8:11] == b'avi' else 'HEIF'}: its header cannot be read"
    kind = content_kind(data[:65536])
    named = f" (named like one, it holds {kind})" if kind and name else ""
    return f"not an image (no known image format){named}"
