"""The review page's web application (Flask): the page, its data, its pictures and its actions.

The page is static (``static/page.html``, its script and style are files, so the Content-Security-
Policy allows no inline code at all); it reads the files from ``/api/items`` (JSON, every name a
string it only ever sets as text) and acts with ``POST /api/act``, naming photos by the ids it got.
Checks come first, in this order: the Host (loopback), the session (401), the CSRF token (403), then
the ids (404 for any the server did not issue, and then nothing is done).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from importlib import resources
from typing import Any

from flask import Flask, Response, abort, jsonify, redirect, request, session
from markupsafe import escape

from cleaner.pipeline.verdicts.apply import ACTIONS, Applied, Tools, apply
from cleaner.pipeline.verdicts.inbox import Busy
from cleaner.report.collect import size_of
from cleaner.report.page import shared
from cleaner.serve import auth
from cleaner.serve.actors import Actor
from cleaner.serve.catalogue import Catalogue
from cleaner.serve.pictures import Pictures

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


def _static(name: str) -> str:
    return resources.files("cleaner.serve").joinpath("static").joinpath(name).read_text(encoding="utf-8")


def create_app(
    catalogue: Catalogue,
    actor: Actor,
    pictures: Pictures,
    password: bytes | None,
    hosts: frozenset[str] | None,
    throttle: auth.Throttle | None = None,
) -> Flask:
    """``password``: its digest (None: no sign-in, loopback only); ``hosts``: the Host names answered (None: any)."""
    app = Flask("cleaner.serve", static_folder=None)
    app.secret_key = secrets.token_bytes(32)
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
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/")
    def page() -> Any:
        if not auth.signed_in():
            if password is not None:
                return redirect("/login")
            auth.sign_in()  # loopback without a password: opening the page is signing in
        html = _static("page.html").replace("__CSRF__", str(escape(session["csrf"])), 1)
        return Response(html.replace("__FOLDER__", str(escape(str(layout.root))), 1), mimetype="text/html")

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if password is None:
            return redirect("/")
        message = ""
        if request.method == "POST":
            auth.require_csrf(request, request.form.get("csrf", ""))
            address = request.remote_addr or "?"
            wait = throttle.wait_left(address)
            if wait > 0:
                message = f"Too many wrong passwords: try again in {wait:.0f} s."
            elif throttle.check(address, request.form.get("password", ""), password):
                auth.sign_in()
                return redirect("/")
            else:
                message = "Wrong password."
        html = _static("login.html").replace("__CSRF__", str(escape(auth.form_token())), 1)
        html = html.replace("__MESSAGE__", str(escape(message)), 1)
        return Response(html, status=429 if message.startswith("Too many") else 200, mimetype="text/html")

    @app.post("/logout")
    def logout() -> Any:
        auth.require_session()
        auth.require_csrf(request)
        session.clear()
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
        auth.require_session()
        since = request.args.get("since", "0")
        tiles, cursor = catalogue.items(int(since) if since.isascii() and since.isdigit() else 0)
        return jsonify(items=tiles, cursor=cursor, thumbSize=pictures.thumb_size, folder=str(layout.root))

    def picture(token: str, full: bool) -> Response:
        auth.require_session()
        found = catalogue.picture(token)
        if found is None:
            abort(404)
        path, record = found
        made = (
            pictures.full(path) if full else pictures.thumb(path, record.sha256 if _same(path, record.size) else None)
        )
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
        auth.require_session()
        auth.require_csrf(request)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or body.get("action") not in ACTIONS:
            abort(400)
        ids = body.get("ids")
        if not isinstance(ids, list) or not ids or len(ids) > MAX_IDS or not all(isinstance(i, str) for i in ids):
            abort(400)
        if any(catalogue.target(i) is None for i in ids):
            abort(404)  # an id not issued here, or a path where an id belongs: nothing is done
        who = f"web ({request.remote_addr or '?'})"
        try:
            done = actor.act(lambda tools: _act_on(tools, catalogue, list(ids), str(body["action"]), who))
        except Busy as err:
            return jsonify(error=str(err)), 409
        results = [{"id": i, "ok": d.ok, "detail": d.detail, "item": catalogue.tile(i)} for i, d in done]
        return jsonify(results=results)

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


def _same(path: str, size: int) -> bool:
    """The file has its recorded size: its thumbnail is the recorded sha256's (cached), not another's."""
    return size_of(path) == size
