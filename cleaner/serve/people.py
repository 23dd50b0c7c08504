"""The review page's people view (``/people``): each person found in the folder (a strip of their faces,
how many photos, what the gender model thinks), and a person's verdict about them.

Its data is read from the state database, read-only; its actions (``POST /api/person``: man, woman,
child, keep, reject or withdraw; ``POST /api/person/split``: these faces are someone else) go through
the folder's one writer (cleaner.serve.actors), behind the same checks as every action of the page:
the Host, the session (401), the CSRF token (403). A verdict is stored here and applied by the next
``run``, or at once by ``watch --serve`` (cleaner.pipeline.people.pull).
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

import numpy as np
from flask import Flask, Response, abort, jsonify, redirect, request, session
from markupsafe import escape
from PIL import Image

from cleaner.analysis.decode import Unreadable, decode
from cleaner.audit.current import where
from cleaner.pipeline.verdicts.apply import Tools
from cleaner.pipeline.verdicts.inbox import Busy
from cleaner.pipeline.verdicts.model import WITHDRAW
from cleaner.pipeline.verdicts.targets import area_of
from cleaner.records import Box, now
from cleaner.report.thumbnails import read_photo
from cleaner.serve import auth
from cleaner.serve.actors import Actor
from cleaner.serve.catalogue import Catalogue
from cleaner.serve.sessions import Sessions
from cleaner.store.connect import connect
from cleaner.store.people import PERSON_VERDICTS, People, PersonVerdict, StoredFace

STATIC = {"people.js": "text/javascript", "people.css": "text/css"}
FACE_SIZE = 96  # pixels of a face in the strip
STRIP = 12  # faces shown per person
MAX_PIXELS = 200_000_000
DRAFT = 1000  # a JPEG is decoded at a reduced scale this long at least: a face of it is enough for the strip


class _Reader(People):
    """The people tables through a read-only connection (the writer may be the daemon)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @property
    def _db(self) -> sqlite3.Connection:
        return self._conn


@contextmanager
def _reading(catalogue: Catalogue) -> Iterator[_Reader | None]:
    state = catalogue.layout.state_db
    if not state.is_file():
        yield None
        return
    try:
        conn = connect(state, read_only=True)
    except (OSError, sqlite3.Error):
        yield None
        return
    try:
        yield _Reader(conn)
    finally:
        conn.close()


def _static(name: str) -> str:
    return resources.files("cleaner.serve").joinpath("static").joinpath(name).read_text(encoding="utf-8")


def register(app: Flask, catalogue: Catalogue, actor: Actor, sessions: Sessions, public: str | None) -> None:
    """The people view's routes, on the review page's application (``sessions`` and ``public`` as its own)."""

    @app.get("/people")
    def people_page() -> Any:
        if not auth.signed_in(sessions):
            return redirect("/")  # the page signs in (or asks for the password) first
        html = _static("people.html").replace("__CSRF__", str(escape(session["csrf"])), 1)
        return Response(html.replace("__FOLDER__", str(escape(str(catalogue.layout.root))), 1), mimetype="text/html")

    @app.get("/people/static/<name>")
    def people_static(name: str) -> Response:
        if name not in STATIC:
            abort(404)
        return Response(_static(name), mimetype=STATIC[name])

    @app.get("/api/people")
    def people_list() -> Any:
        auth.require_session(sessions)
        catalogue.refresh()
        try:
            with _reading(catalogue) as reader:
                return jsonify(people=[] if reader is None else _listing(reader))
        except sqlite3.Error:
            return jsonify(error="the state database is busy; try again"), 503

    @app.get("/face/<int:rowid>")
    def face(rowid: int) -> Response:
        auth.require_session(sessions)
        try:
            with _reading(catalogue) as reader:
                found = None if reader is None else reader.face_by_rowid(rowid)
        except sqlite3.Error:
            found = None
        jpeg = None if found is None else _crop(catalogue, found)
        if jpeg is None:
            abort(404)
        response = Response(jpeg, mimetype="image/jpeg")
        response.headers["Cache-Control"] = "private, max-age=60"
        return response

    @app.post("/api/person")
    def person_act() -> Any:
        auth.require_session(sessions)
        auth.require_csrf(request, public)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or body.get("action") not in (*PERSON_VERDICTS, WITHDRAW):
            abort(400)
        person, action = body.get("person"), str(body["action"])
        if not isinstance(person, int) or isinstance(person, bool):
            abort(400)
        who = f"web ({request.remote_addr or '?'})"

        def work(tools: Tools) -> bool:
            if person not in tools.state.people_ids():
                return False
            if action == WITHDRAW:
                paths = tools.state.withdraw_person_verdict(person)
            else:
                paths = tools.state.give_person_verdict(PersonVerdict(person, action, who, now()))
            tools.again(paths)
            return True

        return _answer(actor, work)

    @app.post("/api/person/split")
    def person_split() -> Any:
        auth.require_session(sessions)
        auth.require_csrf(request, public)
        body = request.get_json(silent=True)
        faces = body.get("faces") if isinstance(body, dict) else None
        if not isinstance(faces, list) or not faces or len(faces) > 1000:
            abort(400)
        if not all(isinstance(f, int) and not isinstance(f, bool) for f in faces):
            abort(400)

        def work(tools: Tools) -> int:
            new, paths = tools.state.split_off([int(f) for f in faces])
            tools.again(paths)
            return new

        return _answer(actor, work)


def _answer(actor: Actor, work: Any) -> Any:
    try:
        done = actor.act(work)
    except Busy as err:
        return jsonify(error=str(err)), 409
    if not done:
        abort(404)  # no such person, or faces of several people: nothing was done
    return jsonify(ok=True, result=done)


def _listing(reader: _Reader) -> list[dict[str, Any]]:
    verdicts = reader.person_verdicts()
    out = []
    for pid in reader.people_ids():
        faces = reader.faces_of_person(pid)
        if not faces:
            continue
        men = [f.man for f in faces if f.man is not None]
        v = verdicts.get(pid)
        out.append(
            {
                "id": pid,
                "faces": [f.rowid for f in faces[:STRIP]],
                "nFaces": len(faces),
                "photos": len({f.sha256 for f in faces}),
                "man": None if not men else round(float(np.mean(men)), 3),
                "verdict": None if v is None else v.verdict,
                "who": None if v is None else v.who,
            }
        )
    return out


def _crop(catalogue: Catalogue, face: StoredFace) -> bytes | None:
    """The face cut from its photo, wherever its latest record says the photo is now, as a JPEG."""
    with catalogue._lock:
        places = [where(r) for r in catalogue.latest.values() if r.sha256 == face.sha256]
    for at in places:
        if area_of(catalogue.layout, at) is None:
            continue  # only where the page may look: the folder, its quarantine and review folder
        try:
            decoded = decode(read_photo(at), MAX_PIXELS, draft_to=DRAFT)
        except (OSError, Unreadable):
            continue
        scale = decoded.width / decoded.full_size[0] if decoded.full_size[0] else 1.0
        b = Box(*(round(v * scale) for v in (face.box.x, face.box.y, face.box.w, face.box.h)))
        h, w = decoded.height, decoded.width
        m = max(b.w, b.h) // 4
        x0, y0, x1, y1 = max(0, b.x - m), max(0, b.y - m), min(w, b.x + b.w + m), min(h, b.y + b.h + m)
        if x1 <= x0 or y1 <= y0:
            return None
        img = Image.fromarray(np.ascontiguousarray(decoded.bgr[y0:y1, x0:x1, ::-1]))
        img.thumbnail((FACE_SIZE, FACE_SIZE), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=85)
        return buf.getvalue()
    return None
