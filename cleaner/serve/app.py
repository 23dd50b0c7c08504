"""The review page's web application (Flask): the page, its data, its pictures and its actions.

The page is static (``static/page.html``, its script and style are files, so the Content-Security-
Policy allows no inline code at all); it reads the files from ``/api/items`` (JSON, every name a
string it only ever sets as text) and acts with ``POST /api/act``, naming photos by the ids it got.
Checks come first, in this order: the Host (loopback), the session (401), the CSRF token (403), then
the ids (404 for any the server did not issue, and then nothing is done); every parameter is parsed,
and one that is not what it should be is a 400 that says which (cleaner.serve.refusals).
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from importlib import resources
from typing import Any

from flask import Flask, Response, abort, jsonify, redirect, request, session
from flask.sessions import SecureCookieSessionInterface
from markupsafe import escape

from cleaner.pipeline.verdicts.apply import ACTIONS, Applied, Tools, apply
from cleaner.pipeline.verdicts.inbox import Busy
from cleaner.report.page import shared
from cleaner.serve import auth, refusals
from cleaner.serve.actors import Actor
from cleaner.serve.auth import refuse
from cleaner.serve.catalogue import Catalogue
from cleaner.serve.people import register as people_view
from cleaner.serve.pictures import Pictures
from cleaner.serve.sessions import Sessions

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
STATIC = {
    "serve.js": "text/javascript",
    "keys.js": "text/javascript",
    "filters.js": "text/javascript",
    "serve.css": "text/css",
}
SHARED = {"tiles.js": "text/javascript", "tiles.css": "text/css"}
MAX_IDS = 5000  # ids in one request
CURSOR = re.compile(r"[0-9]{1,15}")  # a change number: ASCII digits, within what the page's script counts exactly


class _Cookies(SecureCookieSessionInterface):
    """The session cookie is ``Secure`` whenever the page is reached over HTTPS (a trusted proxy says so)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure


def _static(name: str) -> str:
    return resources.files("cleaner.serve").joinpath("static").joinpath(name).read_text(encoding="utf-8")


def create_app(
    catalogue: Catalogue,
    actor: Actor,
    pictures: Pictures,
    sessions: Sessions,
    hosts: frozenset[str] | None,
    throttle: auth.Throttle | None = None,
    public: str | None = None,
) -> Flask:
    """``sessions``: who is signed in, and the password (none: no sign-in, loopback only); ``hosts``: the Host
    names answered (None: any); ``public``: the origin of the public URL (a reverse proxy's), if any."""
    app = Flask("cleaner.serve", static_folder=None)
    app.secret_key = secrets.token_bytes(32)
    app.session_interface = _Cookies()
    refusals.install(app)
    app.config.update(
        SESSION_COOKIE_NAME="face_clean_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=1 << 20,
    )
    throttle = throttle or auth.Throttle()
    layout = catalogue.layout

    app.config["FACE_CLEAN_HOSTS"] = hosts  # set again by the server once it knows its port

    @app.before_request
    def checks() -> None:
        auth.require_host(request, app.config["FACE_CLEAN_HOSTS"])

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"  # no-referrer would make the login POST's Origin null
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/")
    def page() -> Any:
        if not auth.signed_in(sessions):
            if sessions.required:
                return redirect("/login")
            auth.sign_in(sessions)  # loopback without a password: opening the page is signing in
        html = _static("page.html").replace("__CSRF__", str(escape(session["csrf"])), 1)
        return Response(html.replace("__FOLDER__", str(escape(str(layout.root))), 1), mimetype="text/html")

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if not sessions.required:
            return redirect("/")
        message = ""
        if request.method == "POST":
            auth.require_csrf(request, public, request.form.get("csrf", ""))
            address = request.remote_addr or "?"  # behind a trusted proxy: the client it forwards for
            wait = throttle.wait_left(address)
            secret = sessions.secret()
            if wait > 0:
                message = f"Too many wrong passwords: try again in {wait:.0f} s."
            elif secret is not None and throttle.check(address, request.form.get("password", ""), secret):
                auth.sign_in(sessions)
                return redirect("/")
            else:
                message = "Wrong password."
        html = _static("login.html").replace("__CSRF__", str(escape(auth.form_token())), 1)
        html = html.replace("__MESSAGE__", str(escape(message)), 1)
        return Response(html, status=429 if message.startswith("Too many") else 200, mimetype="text/html")

    @app.post("/logout")
    def logout() -> Any:
        auth.require_session(sessions)
        auth.require_csrf(request, public)
        auth.sign_out(sessions)  # this session's id is no longer listed: a copy of the cookie is worth nothing
        return jsonify(ok=True)

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status=204)

    @app.get("/static/<name>")
    def static(name: str) -> Response:
        if name in SHARED:  # the report's, shared
            return Response(shared(name), mimetype=SHARED[name])
        if name not in STATIC:
            abort(404)
        return Response(_static(name), mimetype=STATIC[name])

    @app.get("/api/items")
    def items() -> Any:
        auth.require_session(sessions)
        since = request.args.get("since", "0")
        if not CURSOR.fullmatch(since):
            refuse(400, f"since={since[:40]!r} is not a change number (the cursor an earlier answer gave)")
        tiles, cursor = catalogue.items(int(since))
        return jsonify(items=tiles, cursor=cursor, thumbSize=pictures.thumb_size, folder=str(layout.root))

    def picture(token: str, full: bool) -> Response:
        auth.require_session(sessions)
        found = catalogue.picture(token)
        if found is None:
            abort(404)
        path, _ = found
        made = pictures.full(path) if full else pictures.thumb(path)  # of the bytes there now
        if made is None:
            abort(404)
        response = Response(made.jpeg, mimetype="image/jpeg")
        response.headers["Cache-Control"] = "private, max-age=60"
        return response

    @app.get("/thumb/<token>")
    def thumb(token: str) -> Response:
        return picture(token, full=False)

    @app.get("/photo/<token>")
    def photo(token: str) -> Response:
        return picture(token, full=True)

    @app.post("/api/act")
    def act() -> Any:
        auth.require_session(sessions)
        auth.require_csrf(request, public)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or body.get("action") not in ACTIONS:
            refuse(400, "the request must be JSON with an action, one of " + ", ".join(ACTIONS))
        ids = body.get("ids")
        if not isinstance(ids, list) or not ids or len(ids) > MAX_IDS or not all(isinstance(i, str) for i in ids):
            refuse(400, f"ids must be a list of 1 to {MAX_IDS} ids, each a string")
        if any(catalogue.target(i) is None for i in ids):
            refuse(404, "a photo named is not one this page offers (moved since, or an id it never gave): nothing done")
        who = f"web ({request.remote_addr or '?'})"
        try:
            done = actor.act(lambda tools: _act_on(tools, catalogue, list(ids), str(body["action"]), who))
        except Busy as err:
            return jsonify(error=str(err)), 409
        results = [{"id": i, "ok": d.ok, "detail": d.detail, "item": catalogue.tile(i)} for i, d in done]
        return jsonify(results=results)

    people_view(app, catalogue, actor, sessions, public)  # /people: a verdict about a person (cleaner.serve.people)
    return app


def _act_on(tools: Tools, catalogue: Catalogue, ids: list[str], action: str, who: str) -> list[tuple[str, Applied]]:
    """In the writer's thread, under its locks: each id where its latest record says it is now."""
    catalogue.refresh()
    done = []
    for token in ids:
        target = catalogue.target(token)
        if target is None:  # moved or gone since the check: it is no longer where the page saw it
            continue
        done.append((token, apply(tools, tools.layout, target, action, who)))
        catalogue.refresh()  # the file's new place, before the next id (the same bytes may come twice)
    return done
