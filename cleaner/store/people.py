"""People: the ``faces``, ``people`` and ``person_verdicts`` tables of the state database.

A face is kept by the content of its photo (sha256) and its place among the photo's faces, so a moved
or renamed photo keeps its faces and its person. Each face belongs to one person (a cluster): a new
face joins the person whose centroid is nearest, if nearer than the threshold, else it starts a new
one (cleaner.pipeline.people.grouping). A person's verdict (man, woman, child, keep, reject) names
the person, not bytes; giving, withdrawing, splitting or taking a face out forgets the ``decided``
rows of every photo it touches, so the next run or watch decides them again. Rows read back are
checked: a planted or damaged one is ignored, never trusted.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where a vector is made: the command line starts without it
    import numpy as np
    from numpy.typing import NDArray

from cleaner.records import Box

PEOPLE_SCHEMA = """
CREATE TABLE IF NOT EXISTS faces (
    sha256 TEXT NOT NULL, idx INTEGER NOT NULL, model TEXT NOT NULL, box TEXT NOT NULL, vector BLOB NOT NULL,
    man REAL, person INTEGER NOT NULL, pinned INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (sha256, idx)
);
CREATE INDEX IF NOT EXISTS faces_person ON faces (person);
CREATE TABLE IF NOT EXISTS people (  -- AUTOINCREMENT: an id in the audit log never names another person later
    id INTEGER PRIMARY KEY AUTOINCREMENT, centroid BLOB NOT NULL, faces INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS person_verdicts (
    person INTEGER PRIMARY KEY, verdict TEXT NOT NULL, who TEXT NOT NULL, time TEXT NOT NULL
);
"""
MAN, WOMAN, CHILD, KEEP_ALL, REJECT_ALL = "man", "woman", "child", "keep", "reject"
PERSON_VERDICTS = (MAN, WOMAN, CHILD, KEEP_ALL, REJECT_ALL)
DIMENSIONS = 128
VECTOR_BYTES = DIMENSIONS * 4


@dataclass(frozen=True)
class StoredFace:
    sha256: str
    idx: int  # its place among the photo's faces
    box: Box
    man: float | None  # the gender model's probability of Man, when it ran
    person: int
    rowid: int = 0


@dataclass(frozen=True)
class PersonVerdict:
    person: int
    verdict: str  # one of PERSON_VERDICTS
    who: str
    time: str


def vector_of(blob: object) -> NDArray[np.float32] | None:
    """A stored vector, or None for a blob that is not one (damaged or planted)."""
    import numpy as np

    if not isinstance(blob, bytes) or len(blob) != VECTOR_BYTES:
        return None
    v = np.frombuffer(blob, dtype=np.float32)
    return v if bool(np.isfinite(v).all()) else None


def _box(text: object) -> Box | None:
    try:
        d = json.loads(str(text))
        box = Box(int(d["x"]), int(d["y"]), int(d["w"]), int(d["h"]))
    except (TypeError, ValueError, KeyError):
        return None
    return box


def _face(row: tuple[object, ...]) -> StoredFace | None:
    rowid, sha, idx, box_text, man, person = row
    box = _box(box_text)
    if box is None or not isinstance(sha, str) or not isinstance(idx, int) or not isinstance(person, int):
        return None
    return StoredFace(sha, idx, box, float(man) if isinstance(man, (int, float)) else None, person, int(str(rowid)))


def _verdict(row: tuple[object, ...]) -> PersonVerdict | None:
    person, verdict, who, time = row
    if not isinstance(person, int) or verdict not in PERSON_VERDICTS or not isinstance(who, str):
        return None
    return PersonVerdict(person, str(verdict), who, str(time))


FACE_COLUMNS = "rowid, sha256, idx, box, man, person"


class People:
    """The people part of StateDB (a mixin: it uses StateDB's connection)."""

    @property
    def _db(self) -> sqlite3.Connection:
        raise NotImplementedError

    # -- faces ---------------------------------------------------------------------------
    def faces_of(self, sha256: str | None) -> list[StoredFace]:
        if not sha256:
            return []
        rows = self._db.execute(f"SELECT {FACE_COLUMNS} FROM faces WHERE sha256 = ? ORDER BY idx", (sha256,))
        return [f for f in map(_face, rows) if f is not None]

    def faces_of_person(self, person: int) -> list[StoredFace]:
        rows = self._db.execute(f"SELECT {FACE_COLUMNS} FROM faces WHERE person = ? ORDER BY rowid", (person,))
        return [f for f in map(_face, rows) if f is not None]

    def face_by_rowid(self, rowid: int) -> StoredFace | None:
        row = self._db.execute(f"SELECT {FACE_COLUMNS} FROM faces WHERE rowid = ?", (rowid,)).fetchone()
        return None if row is None else _face(row)

    def centroids(self) -> tuple[list[int], NDArray[np.float32]]:
        """Every person's id and centroid (a row that is not one is left out)."""
        import numpy as np

        ids, vectors = [], []
        for pid, blob in self._db.execute("SELECT id, centroid FROM people ORDER BY id"):
            v = vector_of(blob)
            if v is not None and isinstance(pid, int):
                ids.append(pid)
                vectors.append(v)
        return ids, np.array(vectors, dtype=np.float32).reshape(len(vectors), DIMENSIONS)

    def add_face(
        self, sha256: str, idx: int, model: str, box: Box, vector: NDArray[np.float32], man: float | None, person: int
    ) -> None:
        """Store a face as ``person``'s (0: a new person) and move that person's centroid to the mean."""
        import numpy as np

        if person == 0:
            person = int(
                self._db.execute("INSERT INTO people (centroid, faces) VALUES (?, 0)", (vector.tobytes(),)).lastrowid
                or 0
            )
        box_text = json.dumps({"x": box.x, "y": box.y, "w": box.w, "h": box.h})
        values = (sha256, idx, model, box_text, vector.astype(np.float32).tobytes(), man, person)
        self._db.execute(
            "INSERT OR REPLACE INTO faces (sha256, idx, model, box, vector, man, person) VALUES (?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        self._recentre(person)
        self._db.commit()

    def _recentre(self, person: int) -> None:
        import numpy as np

        vectors = [
            v
            for (b,) in self._db.execute("SELECT vector FROM faces WHERE person = ?", (person,))
            if (v := vector_of(b)) is not None
        ]
        if not vectors:
            self._db.execute("DELETE FROM people WHERE id = ?", (person,))
            self._db.execute("DELETE FROM person_verdicts WHERE person = ?", (person,))
            return
        centroid = np.mean(np.array(vectors), axis=0).astype(np.float32)
        self._db.execute(
            "UPDATE people SET centroid = ?, faces = ? WHERE id = ?", (centroid.tobytes(), len(vectors), person)
        )

    def people_ids(self) -> list[int]:
        return [
            int(r[0])
            for r in self._db.execute("SELECT id FROM people ORDER BY faces DESC, id")
            if isinstance(r[0], int)
        ]

    def split_off(self, rowids: list[int]) -> tuple[int, list[str]]:
        """The faces ``rowids`` (all of one person) as a new person of their own, kept apart from now on
        (a face taken out is a split of one); the new person's id and the photos touched."""
        faces = [f for f in map(self.face_by_rowid, rowids) if f is not None]
        if not faces or len({f.person for f in faces}) != 1:
            return 0, []
        old = faces[0].person
        blob = self._db.execute("SELECT vector FROM faces WHERE rowid = ?", (faces[0].rowid,)).fetchone()[0]
        new = int(self._db.execute("INSERT INTO people (centroid, faces) VALUES (?, 0)", (blob,)).lastrowid or 0)
        self._db.executemany("UPDATE faces SET person = ?, pinned = 1 WHERE rowid = ?", [(new, f.rowid) for f in faces])
        self._recentre(new)
        self._recentre(old)
        touched = {f.sha256 for f in self.faces_of_person(old)} | {f.sha256 for f in faces}
        return new, self._forget_photos(sorted(touched))

    # -- a person's verdicts -------------------------------------------------------------
    def person_verdicts(self) -> dict[int, PersonVerdict]:
        """Every person's verdict, by person (a row that is not one is left out)."""
        rows = self._db.execute("SELECT person, verdict, who, time FROM person_verdicts")
        return {v.person: v for v in map(_verdict, rows) if v is not None}

    def give_person_verdict(self, v: PersonVerdict) -> list[str]:
        """Store ``v``; the decided paths of that person's photos, forgotten: the next run decides them again."""
        self._db.execute(
            "INSERT OR REPLACE INTO person_verdicts VALUES (?, ?, ?, ?)", (v.person, v.verdict, v.who, v.time)
        )
        return self._forget_photos(sorted({f.sha256 for f in self.faces_of_person(v.person)}))

    def withdraw_person_verdict(self, person: int) -> list[str]:
        self._db.execute("DELETE FROM person_verdicts WHERE person = ?", (person,))
        return self._forget_photos(sorted({f.sha256 for f in self.faces_of_person(person)}))

    def _forget_photos(self, shas: list[str]) -> list[str]:
        paths: list[str] = []
        for sha in shas:
            paths += [str(r[0]) for r in self._db.execute("SELECT path FROM decided WHERE sha256 = ?", (sha,))]
            self._db.execute("DELETE FROM decided WHERE sha256 = ?", (sha,))
        self._db.commit()
        return paths
