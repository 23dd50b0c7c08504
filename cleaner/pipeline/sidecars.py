"""A photo is more than one file: the sidecars that travel with it.

Beside a photo ``IMG_0002.HEIC`` there may be files that belong to it and mean nothing alone:

- ``IMG_0002.xmp`` or ``IMG_0002.HEIC.xmp``: edits and tags of Lightroom, darktable, digiKam;
- ``IMG_0002.AAE``: the edits of an iPhone's Photos app;
- ``IMG_0002.HEIC.json`` (or ``.supplemental-metadata.json``): Google Takeout's metadata of the photo;
- ``IMG_0002.MOV`` (or ``.mp4``) beside a HEIC or JPEG: the video half of a Live Photo.

Such a file is never decided on its own while its photo is beside it: when the photo moves
(quarantine, review) each of its sidecars is moved after it, journalled and verified like the
photo, with an audit record of its own that names the photo (``sidecar_of``), and the photo's
record names them (``sidecars``). ``restore`` brings back a photo's sidecars with it.
Names are compared without regard to case: phones write ``IMG_0002.JPG`` beside ``IMG_0002.aae``.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cleaner.fs.hashing import hash_file
from cleaner.fs.move import MoveError
from cleaner.moves.mover import Mover, NameTaken
from cleaner.paths import below
from cleaner.records import AuditRecord, Status, now

if TYPE_CHECKING:
    from cleaner.pipeline.actions import Item

log = logging.getLogger("face-clean")

BY_STEM = (".xmp", ".aae")  # IMG_0002.xmp beside IMG_0002.jpg
BY_NAME = (".xmp", ".json", ".supplemental-metadata.json")  # IMG_0002.jpg.json beside IMG_0002.jpg
LIVE_STILLS = (".heic", ".heif", ".jpg", ".jpeg")  # a Live Photo's still: its video has the same stem
LIVE_VIDEOS = (".mov", ".mp4")
PHOTO_SUFFIXES = (
    *LIVE_STILLS,
    *(".png", ".webp", ".avif", ".tif", ".tiff", ".dng", ".gif", ".bmp"),
)


def _split(name: str) -> tuple[str, str]:
    stem, dot, suffix = name.rpartition(".")
    return (stem, "." + suffix.lower()) if dot and stem else (name, "")


def _spellings(suffix: str) -> tuple[str, ...]:
    """How a suffix is written: as the phone writes it (upper case) or as software does (lower)."""
    return (suffix, suffix.upper())


def sidecars_of(photo: Path) -> list[str]:
    """The names of ``photo``'s sidecars in its folder (regular files only, never a link), sorted.
    Each possible name is asked for, in lower and upper case: the folder is not listed (a folder of
    10,000 photos would be listed 10,000 times)."""
    stem, suffix = _split(photo.name)
    names = [stem + s for suffix_ in BY_STEM for s in _spellings(suffix_)]
    names += [photo.name + s for suffix_ in BY_NAME for s in _spellings(suffix_)]
    if suffix in LIVE_STILLS:
        names += [stem + s for suffix_ in LIVE_VIDEOS for s in _spellings(suffix_)]
    found: dict[tuple[int, int], str] = {}  # by inode: a folder that ignores case finds one file twice
    for name in names:
        st = _regular(photo.parent / name)
        if name != photo.name and st is not None:
            found.setdefault((st.st_dev, st.st_ino), name)
    return sorted(found.values())


def photo_of(path: Path) -> Path | None:
    """The photo beside ``path`` whose sidecar it is, or None when it is no sidecar (or its photo is
    not there): such a file is decided on its own."""
    stem, suffix = _split(path.name)
    lower = path.name.lower()
    candidates = [path.name[: -len(s)] for s in BY_NAME if lower.endswith(s) and len(lower) > len(s)]
    if suffix in BY_STEM or suffix in LIVE_VIDEOS:
        stills = LIVE_STILLS if suffix in LIVE_VIDEOS else PHOTO_SUFFIXES
        candidates += [stem + s for still in stills for s in _spellings(still)]
    for name in candidates:
        photo = path.parent / name
        if _split(name)[1] in PHOTO_SUFFIXES and name != path.name and _regular(photo) is not None:
            return photo
    return None


def without_sidecars(files: list[Path]) -> list[Path]:
    """``files`` less the sidecars whose photo is beside them."""
    return [f for f in files if photo_of(f) is None]


def _regular(path: Path) -> os.stat_result | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def renamed(name: str, photo: str, placed: str) -> str:
    """A sidecar's name beside its photo placed as ``placed`` (``IMG (1).jpg`` when ``IMG.jpg`` was taken)."""
    if placed == photo:
        return name
    if name.startswith(photo):
        return placed + name[len(photo) :]
    stem, placed_stem = _split(photo)[0], _split(placed)[0]
    return placed_stem + name[len(stem) :] if name.startswith(stem) else name


def move_sidecars(mover: Mover, item: Item, names: list[str], placed: Path, folder: Path) -> None:
    """Move each sidecar of ``item``'s photo, now at ``placed``, beside it: journalled and verified
    like the photo, each with a record of its own naming the photo. One that cannot be moved stays
    where it is, and its record says why."""
    photo = item.analysis.path
    for name in names:
        src = photo.parent / name
        relpath = below(item.root, src)
        note = f"sidecar of {item.relpath}: moved with it"
        try:
            st, sha = hash_file(src, item.root)  # never through a link below the photo folder
        except OSError as err:
            log.warning("%s: sidecar of %s not moved: %s", relpath, item.relpath, err)
            continue
        base = replace(
            item.record,
            **dict(_NOT_A_PHOTO, path=relpath, size=st.st_size, sha256=sha, sidecar_of=item.relpath, notes=[note]),
        )

        def record(destination: Path, base: AuditRecord = base) -> AuditRecord:
            return replace(base, time=now(), destination=str(destination), moved=True)

        dst = placed.parent / renamed(name, photo.name, placed.name)
        try:
            mover.move(src, dst, sha, record, src_base=item.root, dst_base=folder)
        except (MoveError, NameTaken) as err:
            mover.audit.write(replace(base, time=now(), error=f"sidecar not moved: {err}"), durable=True)


# what a sidecar's record says in place of its photo's analysis
_NOT_A_PHOTO: dict[str, Any] = dict(
    status=Status.SKIPPED.value, error=None, width=None, height=None, faces=[], faces_considered=0, sidecars=[]
)
