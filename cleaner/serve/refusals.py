"""What the review page answers when it refuses or fails a request: the reason, in words a person reads.

A browser opening a page gets a small HTML page saying why (and where to sign in); the page's own
script (``/api/...``, or a request carrying the CSRF header) gets ``{"error": why}`` with the same
status. Never a bare "Forbidden", never a traceback.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from cleaner.serve.auth import CSRF_HEADER

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>face-clean review: {title}</title></head>
<body><h1>{code} {title}</h1><p>{why}</p><p><a href="/">Back to the review page</a> · <a href="/login">Sign in</a></p>
</body></html>
"""


def wants_json() -> bool:
    return (
        request.path.startswith("/api/")
        or CSRF_HEADER in request.headers
        or request.accept_mimetypes.best == ("application/json")
    )


def install(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def refused(err: HTTPException) -> Response:
        code = err.code or 500
        why = err.description or err.name
        if wants_json():
            response = jsonify(error=why, status=code)
        else:
            html = PAGE.format(code=code, title=escape(err.name), why=escape(why))
            response = Response(html, mimetype="text/html")
        response.status_code = code
        for name, value in err.get_headers():  # e.g. a 405's Allow
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
