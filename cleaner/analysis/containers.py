"""The real sizes of the images a container holds, read from each one's own header before any is decoded.

An icon file (ICO, CUR) or an Apple icon set (ICNS) is a directory of images, each a PNG, a BMP
or a JPEG 2000 stream of its own.  The directory's sizes are one byte each (256 at most) and need
not match what the embedded image says, and Pillow decodes an ICO's largest frame as soon as the
file is opened: an ICO whose directory says 256x256 around a 20000x20000 PNG takes gigabytes
before any size can be checked on the opened image.  So the decoder (cleaner.analysis.decode) asks
here first and holds every frame to the pixel limit and the memory budget.
"""

from __future__ import annotations

import struct

PNG = b"\x89PNG\r\n\x1a\n"
J2K = b"\xff\x4f\xff\x51"
JP2 = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
MOST_FRAMES = 4096  # a real icon file holds a dozen; more is refused without looking further


class BadContainer(ValueError):
    """The container's directory cannot be believed (too many entries, frames outside the file)."""


def embedded_sizes(data: bytes) -> list[tuple[int, int]] | None:
    """Each embedded image's (width, height) by its own header, for the containers that embed
    images; None for any other file."""
    if data[:4] in (b"\x00\x00\x01\x00", b"\x00\x00\x02\x00"):
        return _icon_sizes(data)
    if data[:4] == b"icns":
        return _icns_sizes(data)
    return None


def frame_size(frame: bytes) -> tuple[int, int] | None:
    """An embedded image's size: PNG's IHDR, JPEG 2000's SIZ or JP2 header box, a DIB's header."""
    if frame.startswith(PNG) and frame[12:16] == b"IHDR":
        width, height = struct.unpack(">II", frame[16:24])
        return width, height
    if frame.startswith(J2K):
        return _j2k_size(frame)
    if frame.startswith(JP2):
        at = frame.find(b"ihdr", 12, 1 << 16)
        if at < 0 or len(frame) < at + 12:
            return None
        height, width = struct.unpack(">II", frame[at + 4 : at + 12])
        return width, height
    if len(frame) >= 12 and int.from_bytes(frame[:4], "little") in (12, 40, 52, 56, 108, 124):
        if int.from_bytes(frame[:4], "little") == 12:
            width, height = struct.unpack("<HH", frame[4:8])
        else:
            width, height = struct.unpack("<ii", frame[4:12])
        return abs(width), abs(height) // 2  # an icon's DIB height counts its mask too
    return None


def _j2k_size(frame: bytes) -> tuple[int, int] | None:
    if len(frame) < 24:
        return None
    xsiz, ysiz, xo, yo = struct.unpack(">IIII", frame[8:24])
    return max(0, xsiz - xo), max(0, ysiz - yo)


def _icon_sizes(data: bytes) -> list[tuple[int, int]]:
    (count,) = struct.unpack("<H", data[4:6])
    if count > MOST_FRAMES:
        raise BadContainer(f"an icon file that claims {count} images")
    sizes = []
    for i in range(count):
        entry = data[6 + 16 * i : 22 + 16 * i]
        if len(entry) < 16:
            raise BadContainer("an icon file cut short in its directory")
        length, offset = struct.unpack("<II", entry[8:16])
        if offset >= len(data):
            raise BadContainer(f"an icon file whose image {i + 1} lies beyond its end")
        size = frame_size(data[offset : offset + min(length, 1 << 16)])
        # what Pillow would go by when the frame has no header of its own: the directory's (0 means 256)
        sizes.append(size if size is not None else (entry[0] or 256, entry[1] or 256))
    return sizes


def _icns_sizes(data: bytes) -> list[tuple[int, int]]:
    sizes: list[tuple[int, int]] = []
    at = 8
    while at + 8 <= len(data) and len(sizes) <= MOST_FRAMES:
        (length,) = struct.unpack(">I", data[at + 4 : at + 8])
        if length < 8:
            raise BadContainer("an icon set with an entry shorter than its header")
        size = frame_size(data[at + 8 : at + min(length, 1 << 16)])
        if size is not None:
            sizes.append(size)
        at += length
    if len(sizes) > MOST_FRAMES:
        raise BadContainer(f"an icon set of more than {MOST_FRAMES} images")
    return sizes


def tiff_pages(data: bytes, most: int = 1000) -> int | None:
    """How many pages (IFDs) a TIFF holds, counting ``most`` at most (a few megabytes can chain a
    million: Pillow's ``n_frames`` took 17 s for 20,000); None when this is no classic TIFF (BigTIFF)."""
    if data[:4] == b"II*\x00":
        order = "<"
    elif data[:4] == b"MM\x00*":
        order = ">"
    else:
        return None
    (at,) = struct.unpack(order + "I", data[4:8])
    seen: set[int] = set()
    while at and at not in seen and len(seen) < most and at + 2 <= len(data):
        seen.add(at)
        (count,) = struct.unpack(order + "H", data[at : at + 2])
        end = at + 2 + 12 * count
        if end + 4 > len(data):
            break
        (at,) = struct.unpack(order + "I", data[end : end + 4])
    return max(1, len(seen))
