"""``face-clean report``'s data: the records of a run, one tile per file, grouped by outcome.

The faces come from the audit record, never from a model: the report only reads each file from
where it is now, decodes it upright into a small JPEG (cleaner.report.thumbnails), and lets the
page (cleaner.report.page) draw the boxes over it, so a thumbnail depends on the bytes alone and
is cached by sha256 in the state database.
"""

from __future__ import annotations

import base64
import os
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleaner.audit.current import Place, current, place, where
from cleaner.audit.log import read
from cleaner.errors import ReportError
from cleaner.paths import STATE_DB
from cleaner.records import AuditAction, AuditRecord
from cleaner.report.thumbnails import Thumb, Thumbnails

# The order of the groups: what needs a person first, what went well last.
OUTCOMES = ("review", "failed move", "quarantined", "unreadable", "error", "skipped", "restored", "kept")


@dataclass(frozen=True)
class Report:
    """What the page shows, and what it took (for the command's closing line)."""

    run: str  # the run id, or "all runs (N)"
    roots: list[str]  # the folders the records are about
    decided: tuple[str, str] | None  # the first and last record's time
    tiles: list[dict[str, Any]]  # one per file, in group order; "thumb" indexes ``thumbs``
    thumbs: list[list[Any]]  # [data URI, width, height] of each distinct thumbnail
    outcomes: dict[str, int]  # files per outcome, in the page's order
    made: int  # thumbnails decoded now
    cached: int  # thumbnails taken from the state database
    placeholders: int  # files shown without a picture (unreadable, missing, changed)
    verdicts: dict[str, int]  # files whose latest record is a person's verdict, by verdict (kept, rejected)
    dry: int = 0  # files shown with a dry run's outcome (dry_outcomes); of one run: its dry records


# a record's action as the page words it (str keys: a str enum member hashes by its name, not its value)
WORDS = {
    AuditAction.KEEP.value: "kept",
    AuditAction.QUARANTINE.value: "quarantined",
    AuditAction.REVIEW.value: "review",
    AuditAction.REJECT.value: "quarantined",
}


def outcome(r: AuditRecord) -> str:
    """One word per file for grouping and filtering: what happened to it, or what was wrong with it."""
    if r.action == AuditAction.RESTORE:
        return "restored"
    moving = r.action in (AuditAction.QUARANTINE, AuditAction.REVIEW, AuditAction.REJECT)
    if r.status == "analysed" and r.error and moving and not r.moved:
        return "failed move"
    if r.status in ("unreadable", "skipped", "error"):
        return r.status
    return WORDS.get(r.action, r.action)


def select(records: list[AuditRecord], run_id: str | None) -> tuple[list[AuditRecord], str]:
    """Every file's current state (its latest record, whatever run wrote it), or the latest record per
    file of one run."""
    if not records:
        raise ReportError("the audit log holds no records yet")
    if run_id is None:
        return list(current(records).values()), f"current state ({len({r.run_id for r in records})} runs)"
    chosen = [r for r in records if r.run_id == run_id]
    if not chosen:
        runs = list(dict.fromkeys(r.run_id for r in reversed(records)))
        raise ReportError(f"no run {run_id!r} in the audit log; its latest runs: {', '.join(runs[:5])}")
    return list(current(chosen).values()), str(run_id)


def location(r: AuditRecord, now_at: dict[Place, str] | None = None) -> str:
    """Where the record left the file. If it is gone from there, where the latest record of the whole log
    (``now_at``) left it: restored, quarantined again."""
    at = where(r)
    return at if now_at is None or size_of(at) is not None else now_at.get(place(r), at)


def _where(r: AuditRecord, at: str) -> str:
    """The file's place now, relative to its folder when it is inside it (shorter, and what a person looks for)."""
    root = r.root.rstrip(os.sep) + os.sep
    return at[len(root) :] if at.startswith(root) and root != os.sep else at


def _num(v: Any, digits: int) -> float | None:
    return round(v, digits) if isinstance(v, (int, float)) else None


def _faces(r: AuditRecord) -> list[dict[str, Any]]:
    """Each face's box in the full upright image, its dominant gender with its probability, and the rest."""
    out = []
    for f in r.faces:
        box, gender, dominant = f.get("box"), f.get("gender"), f.get("dominant_gender")
        box, gender = box if isinstance(box, dict) else {}, gender if isinstance(gender, dict) else {}
        p = _num(gender.get(dominant), 3) if isinstance(dominant, str) else None
        extra = {"det": _num(f.get("detector_confidence"), 3), "age": _num(f.get("age"), 0)}
        out.append({**{k: _num(box.get(k), 0) or 0 for k in "xywh"}, "gender": dominant, "p": p, **extra})
    return out


# what a tile shows of its record; decided_by and who: a person's verdict, and whose
FIELDS = "path rule action reason status error width height moved dry_run uncertain decided_by who".split()


def tile_of(r: AuditRecord, at: str, thumb: int | None, note: str | None) -> dict[str, Any]:
    """One tile's data; a file that changed since the run gets no boxes (they were found in other bytes)."""
    tile = {k: getattr(r, k) for k in FIELDS} | {"outcome": outcome(r), "at": _where(r, at), "thumb": thumb}
    tile |= {"note": note}
    return tile | {"faces": _faces(r) if note is None else []}


def _picture(r: AuditRecord, got: tuple[str | None, Thumb | str | None]) -> tuple[Thumb | None, str | None]:
    """The thumbnail a tile shows, and why it shows another picture or none (unreadable files show their error)."""
    sha, found = got
    if r.status != "analysed":
        return None, None
    if not isinstance(found, Thumb):
        return None, found or "no thumbnail"
    if sha != r.sha256:
        return found, "changed since the run: the picture shows the file now, without the faces found then"
    return found, None


def items(
    records: list[AuditRecord], thumbs: Thumbnails, now_at: dict[Place, str]
) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """The page's tiles in group order, and the distinct thumbnails they point to (as data URIs)."""
    records = sorted(records, key=lambda r: (_rank(outcome(r)), r.path))
    places = [location(r, now_at) for r in records]
    todo = [(r, at) for r, at in zip(records, places, strict=True) if r.status == "analysed"]
    loaded: dict[str, tuple[str | None, Thumb | str]] = {}
    for first in (True, False):  # first one file per recorded sha256, so that its copies need not be read
        # the recorded bytes, unchanged since they were read (size, mtime, ctime, inode), and their thumbnail:
        # the file is not read; other bytes of the same size are read (the picture is of what is there)
        todo = [
            (r, at)
            for r, at in todo
            if at not in loaded and not (r.sha256 and thumbs.content_at(at) == r.sha256 and thumbs.lookup(r.sha256))
        ]
        loaded |= thumbs.load_all({(r.sha256 if first else None) or at: at for r, at in todo}.values())
    index: dict[Thumb, int] = {}
    out = []
    for r, at in zip(records, places, strict=True):
        thumb, note = _picture(r, loaded.get(at) or (r.sha256, thumbs.known.get(r.sha256 or "")))
        out.append(tile_of(r, at, None if thumb is None else index.setdefault(thumb, len(index)), note))
    uris = [["data:image/jpeg;base64," + base64.b64encode(t.jpeg).decode(), t.width, t.height] for t in index]
    return out, uris


def _kept(outcome_word: str) -> bool:
    """A person's verdict that left the photo in the folder: a keep, or a restore (which gives one)."""
    return outcome_word in ("kept", "restored")


def dry_outcomes(tiles: list[dict[str, Any]]) -> int:
    """The files whose shown outcome is only a dry run's plan: a move that was not done. A file a dry run
    kept is where it is, whatever a later real run left unsaid (it writes no second record of the same)."""
    return sum(1 for t in tiles if t["dry_run"] and not _kept(t["outcome"]))


def _rank(name: str) -> int:
    return OUTCOMES.index(name) if name in OUTCOMES else len(OUTCOMES)


def size_of(path: str) -> int | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def collect(audit_log: Path, run_id: str | None, thumb_size: int, max_pixels: int) -> Report:
    """Read the audit log and make the thumbnails (through the cache): everything the page shows."""
    if not audit_log.is_file():
        raise ReportError(f"no audit log at {audit_log}: run face-clean first, or name the log with --audit-log")
    everything = read(audit_log)
    records, label = select(everything, run_id)
    now_at = {key: location(r) for key, r in current(everything).items()}
    thumbs = Thumbnails(audit_log.with_name(STATE_DB), thumb_size, max_pixels)
    try:
        tiles, uris = items(records, thumbs, now_at)
    finally:
        thumbs.close()
    counts = Counter(t["outcome"] for t in tiles)
    times = sorted(r.time for r in records if r.time)
    outcomes = {o: counts[o] for o in (*OUTCOMES, *sorted(counts)) if counts[o]}
    placeholders = sum(t["thumb"] is None or t["note"] is not None for t in tiles)
    roots, decided = sorted({r.root for r in records}), ((times[0], times[-1]) if times else None)
    verdicts = Counter(("kept" if _kept(t["outcome"]) else "rejected") for t in tiles if t["decided_by"])
    made = len(thumbs.new)
    dry = sum(bool(t["dry_run"]) for t in tiles) if run_id is not None else dry_outcomes(tiles)
    return Report(label, roots, decided, tiles, uris, outcomes, made, thumbs.cached, placeholders, dict(verdicts), dry)
