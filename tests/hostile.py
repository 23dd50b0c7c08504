"""A corpus of hostile inputs for ``face-clean run``, each with the outcome the run must record.

Every way a file in a photo folder can be broken, odd, huge, misnamed, or not a file at all,
built from scikit-image's photos (photos.py: the astronaut is a confident "Man" to the tiny
gender model, a grey picture exactly 50/50, coffee has no face).  ``CASES`` is the table that
tests/test_hostile.py sweeps with one run of the real command line over one folder.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import photos
from PIL import Image

KEPT, NO_FACE, UNCERTAIN = "keep", "quarantine/no-face", "review/uncertain"
GONE = "gone"  # deleted before it was read: never decided, so no record at all
SIZE = (512, 400)  # the oriented astronauts: not square, so a missed or wrong turn shows in the size


@dataclass(frozen=True)
class Case:
    name: str  # the file's name in the corpus folder
    build: Callable[[Path], object]  # writes it there
    status: str  # the audit record's status
    outcome: str  # KEPT, or the folder below .face-clean/ it must have been moved to, or GONE
    error: str | None = None  # a substring of the record's error (any case); None: no error at all
    note: str | None = None  # a substring of one of the record's notes
    size: tuple[int, int] | None = None  # the record's (width, height)
    after_scan: Callable[[Path], object] | None = None  # done to the file between the scan and its analysis


# -- bytes ---------------------------------------------------------------------------------


def encoded(img: Image.Image | np.ndarray, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    (Image.fromarray(img) if isinstance(img, np.ndarray) else img).save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int) -> bytes:
    """A PNG header claiming width x height RGB pixels, then four rows of pixel data, cut short:
    a few kilobytes that a decoder would turn into width x height x 3 bytes."""
    rows = zlib.compress(bytes(3 * width + 1) * 4)[:-8]  # the stream's end cut off: decoding ends "truncated"
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def webp_bomb(width: int, height: int) -> bytes:
    """A lossless WebP of width x height black pixels in under 40 bytes: one-symbol prefix codes cost
    no bits per pixel, so a decoder fills width x height x 4 bytes (and more) from nothing."""
    bits = (width - 1) | (height - 1) << 14  # 14 bits each, no alpha, version 0; no transform, no colour
    bits |= 1 << 35 | 1 << 39 | 1 << 43 | 1 << 47 | 1 << 51  # cache, no meta codes; five simple codes of one symbol
    body = b"\x2f" + bits.to_bytes(7, "little")
    chunk = b"VP8L" + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def jpeg_bomb(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) claims width x height."""
    data = bytearray(encoded(photos.data.coffee(), "JPEG"))
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def with_exif(jpeg: bytes, exif: bytes) -> bytes:
    """``exif`` (the APP1 payload after b"Exif\\0\\0") put right after the JPEG's start marker."""
    payload = b"Exif\x00\x00" + exif
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def text_orientation() -> bytes:
    """A little-endian TIFF header and one IFD whose Orientation (274) is the text "6", not a number."""
    entry = struct.pack("<HHI", 0x0112, 2, 2) + b"6\x00\x00\x00"
    return b"II*\x00" + struct.pack("<IH", 8, 1) + entry + struct.pack("<I", 0)


# -- pictures ------------------------------------------------------------------------------


def upright() -> np.ndarray:
    """The astronaut cut to 512x400, face and all: not square."""
    return photos.astronaut()[:400]


# What stores an upright picture so that EXIF orientation o turns it upright again (the inverse of
# the turn Pillow's exif_transpose makes for o).
STORED = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def oriented(orientation: int, picture: np.ndarray | None = None) -> Callable[[Path], object]:
    def build(path: Path) -> None:
        img = Image.fromarray(upright() if picture is None else picture)
        if orientation in STORED:
            img = img.transpose(STORED[orientation])
        exif = Image.Exif()
        exif[0x0112] = orientation
        photos.save(img, path, format="JPEG", exif=exif.tobytes(), quality=92)

    return build


def large_scene() -> np.ndarray:
    """A 2400x1600 photo, the astronaut enlarged 1.5x on grey: detected on a reduced copy (see tests/test_fastpath)."""
    canvas = np.full((1600, 2400, 3), 128, dtype=np.uint8)
    face = np.asarray(Image.fromarray(photos.astronaut()).resize((768, 768)))
    canvas[100:868, 150:918] = face
    return canvas


def panorama() -> np.ndarray:
    """20000x300: coffee, shrunk to 300 px high, side by side."""
    tile = np.asarray(Image.fromarray(photos.data.coffee()).resize((450, 300)))
    return np.tile(tile, (1, 45, 1))[:, :20000]


def rgba() -> Image.Image:
    img = Image.fromarray(photos.astronaut()).convert("RGBA")
    alpha = np.full((512, 512), 255, dtype=np.uint8)
    alpha[400:, :] = 0  # a transparent strip below the face
    img.putalpha(Image.fromarray(alpha))
    return img


def grey16(path: Path) -> None:
    grey = np.asarray(photos.grey(), dtype=np.uint16) * 257
    Image.fromarray(grey).save(path, format="PNG")
    assert Image.open(path).mode.startswith("I"), "a 16-bit greyscale PNG"


def rgb48(path: Path) -> None:
    """16 bits per channel (Pillow cannot write these; OpenCV can)."""
    assert cv2.imwrite(str(path), photos.astronaut()[:, :, ::-1].astype(np.uint16) * 257)


def frames(fmt: str, **kwargs: object) -> Callable[[Path], object]:
    """The astronaut, then coffee: only the first frame or page is analysed."""

    def build(path: Path) -> None:
        first = Image.fromarray(photos.astronaut())
        second = Image.fromarray(photos.data.coffee()).resize((512, 512))
        first.save(path, format=fmt, save_all=True, append_images=[second], **kwargs)

    return build


def image(picture: Callable[[], Image.Image | np.ndarray], fmt: str, **kwargs: object) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(encoded(picture(), fmt, **kwargs))


def raw(data: bytes | Callable[[], bytes]) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(data() if callable(data) else data)


def link(target: str, folder: bool = False) -> Callable[[Path], object]:
    return lambda path: path.symlink_to(target, target_is_directory=folder)


def outside_link(path: Path) -> None:
    """A link to a photo outside the folder (in ``../outside``), which must stay where it is."""
    path.symlink_to(photos.save(photos.data.coffee(), path.parent.parent / "outside" / "coffee.jpg"))


def swap_for_link(path: Path) -> None:
    """Between scan and read, the photo becomes a link to a file elsewhere (a classic race)."""
    path.unlink()
    path.symlink_to("/etc/hostname")


def trailing_junk(path: Path) -> None:
    """A whole JPEG with a zip archive's start after its end marker."""
    path.write_bytes(encoded(photos.astronaut(), "JPEG") + b"PK\x03\x04" + bytes(64))


def broken_exif(path: Path) -> None:
    """An EXIF block of garbage: Pillow warns "Corrupt EXIF data" and finds no tags."""
    path.write_bytes(with_exif(encoded(photos.astronaut(), "JPEG"), bytes(range(256)) * 4))


def text_exif(path: Path) -> None:
    """Upright pixels whose EXIF orientation is the text "6": nothing turns them, so nothing may swap their size."""
    path.write_bytes(with_exif(encoded(upright(), "JPEG"), text_orientation()))


def palette() -> Image.Image:
    return Image.fromarray(photos.astronaut()).quantize(256)


def cmyk() -> Image.Image:
    return Image.fromarray(photos.astronaut()).convert("CMYK")


def man(fmt: str = "JPEG", **kwargs: object) -> Callable[[Path], object]:
    return image(photos.astronaut, fmt, **kwargs)


def coffee(fmt: str = "JPEG", **kwargs: object) -> Callable[[Path], object]:
    return image(photos.data.coffee, fmt, **kwargs)


def truncated(fmt: str, keep: float = 0.5) -> Callable[[Path], object]:
    def build(path: Path) -> None:
        data = encoded(photos.astronaut(), fmt)
        path.write_bytes(data[: int(len(data) * keep)])

    return build


def header_only(fmt: str, length: int) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(encoded(photos.astronaut(), fmt)[:length])


NON_UTF8 = os.fsdecode(b"caf\xe9 (latin-1).jpg")  # a name from an old NAS, not valid UTF-8
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)
A, U, S = "analysed", "unreadable", "skipped"

CASES = [
    # not images, or damaged ones: unreadable, left in place
    Case("empty.jpg", raw(b""), U, KEPT, "empty file"),
    Case("truncated.jpg", truncated("JPEG"), U, KEPT, "truncated or corrupt JPEG"),
    Case("truncated.png", truncated("PNG"), U, KEPT, "truncated or corrupt PNG"),
    Case("header-only.png", header_only("PNG", 30), U, KEPT, "truncated or corrupt PNG"),
    Case("header-only.jpg", header_only("JPEG", 20), U, KEPT, "truncated or corrupt JPEG"),
    Case("random.jpg", raw(np.random.default_rng(7).bytes(4096)), U, KEPT, "not an image"),
    Case("text.jpg", raw(b"this is not a photo\n"), U, KEPT, "not an image"),
    Case("iphone.heic", raw(HEIC), U, KEPT, "truncated or corrupt HEIF"),
    Case("bomb.png", raw(png_bomb(100_000, 100_000)), U, KEPT, "exceeds max_pixels 200000000"),
    Case("bomb.jpg", raw(jpeg_bomb(65_000, 65_000)), U, KEPT, "image too large: 65000x65000"),
    Case("bomb-20k.png", raw(png_bomb(20_000, 20_000)), U, KEPT, "image too large: 20000x20000"),
    Case("bomb.webp", raw(lambda: webp_bomb(6000, 6000)), S, KEPT, "over the memory budget"),
    # images of every kind, recognised by content, not by name: the astronaut is kept as a man,
    # grey pictures are exactly 50/50 to the tiny model (review), coffee has no face (quarantine)
    Case("png-named.jpg", man("PNG"), A, KEPT),
    Case("jpeg-named.png", man("JPEG"), A, KEPT),
    Case("trailing-junk.jpg", trailing_junk, A, KEPT),
    Case("rgb48.png", rgb48, A, KEPT),
    Case("grey16.png", grey16, A, UNCERTAIN),
    Case("palette.png", image(palette, "PNG", transparency=0), A, KEPT),
    Case("rgba.png", image(rgba, "PNG"), A, KEPT),
    Case("cmyk.jpg", image(cmyk, "JPEG"), A, KEPT),
    Case("grey.jpg", image(photos.grey, "JPEG"), A, UNCERTAIN),
    Case("animated.gif", frames("GIF", duration=100, loop=0), A, KEPT, note="first of 2 frames"),
    Case("photo.webp", man("WEBP", quality=90), A, KEPT),
    Case("pages.tiff", frames("TIFF"), A, KEPT, note="first of 2 frames"),
    Case("1x1.png", image(lambda: np.zeros((1, 1, 3), np.uint8), "PNG"), A, NO_FACE, size=(1, 1)),
    Case("panorama.jpg", image(panorama, "JPEG", quality=85), A, NO_FACE, size=(20000, 300)),
    Case("broken-exif.jpg", broken_exif, A, KEPT),
    Case("exif-text-orientation.jpg", text_exif, A, KEPT, size=SIZE),
    *(Case(f"orientation-{o}.jpg", oriented(o), A, KEPT, size=SIZE) for o in range(1, 9)),
    Case("large-orientation-6.jpg", oriented(6, large_scene()), A, KEPT, size=(2400, 1600)),
    # not files: recorded, never opened, followed or moved
    Case("link.jpg", link("orientation-1.jpg"), S, KEPT, "symbolic link"),
    Case("link-outside.jpg", outside_link, S, KEPT, "symbolic link"),
    Case("dangling.jpg", link("no such photo.jpg"), S, KEPT, "symbolic link"),
    Case("loop.jpg", link("loop.jpg"), S, KEPT, "symbolic link"),
    Case("pipe.jpg", lambda path: os.mkfifo(path), S, KEPT, "not a regular file: a named pipe"),
    Case("loop-dir", link(".", folder=True), S, KEPT, "symbolic link"),  # a folder loop: never entered
    Case("album-link", link("../outside", folder=True), S, KEPT, "symbolic link"),
    # changed between the scan and the analysis
    Case("vanished.jpg", man(), U, GONE, after_scan=lambda path: path.unlink()),
    Case("became-a-link.jpg", man(), S, KEPT, "symbolic link", after_scan=swap_for_link),
    # names: analysed and moved like any other, recorded exactly
    Case("name with  spaces.jpg", man(), A, KEPT),
    Case("ünïcödé 日本語 📷.jpg", coffee(), A, NO_FACE),
    Case("new\nline.jpg", coffee(), A, NO_FACE),
    Case("-rf.jpg", coffee(), A, NO_FACE),
    Case("--keep Woman.jpg", man(), A, KEPT),
    Case("back\\slash.jpg", coffee(), A, NO_FACE),
]


def build(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        case.build(root / case.name)
