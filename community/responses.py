"""What every entry point shares about answering: which views answer without a signed-in user,
and how an error is answered in the format of the face the request came through.

Neutral ground: the web pages (`web.py`) and the API both import this; it imports neither.
Each face registers its renderer for a path prefix; the longest matching prefix answers.
"""
from datetime import date
from typing import Any

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from . import json_input

ERROR_RENDERERS = "roundtable.error_renderers"

DEFAULT_MESSAGES = {
    400: "The request could not be understood.",
    401: "Check your email and password.",
    403: "You are not allowed to do that.",
    404: "There is nothing here, or you cannot see it.",
    405: "That method is not allowed here.",
    409: "That is not possible in the current state.",
    410: "This is no longer available.",
    413: "What you sent is too large.",
    415: "Send the body as JSON, with Content-Type: application/json.",
    422: "Some fields are not valid.",
    429: "Too many attempts. Wait a minute and try again.",
    500: "Something went wrong on our side. Please try again.",
    503: "The service is briefly unavailable. Try again in a moment.",
}
ERROR_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 410: "gone", 413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_failed",
    429: "rate_limited", 500: "internal_error", 503: "unavailable",
}


class JSONProvider(DefaultJSONProvider):
    """Dates and times as ISO 8601 (the database hands them out in UTC) wherever a value reaches
    JSON without a schema, never as Flask's HTTP dates ("Wed, 02 Dec 2026 05:00:00 GMT"). Read
    with the one JSON policy (`json_input`), so `request.get_json` everywhere has its depth limit."""

    @staticmethod
    def default(value):
        if isinstance(value, date):
            return value.isoformat()
        return DefaultJSONProvider.default(value)

    def loads(self, s: str | bytes, **kwargs) -> Any:
        return json_input.loads(s, **kwargs)


def answered_by_flask() -> bool:
    """OPTIONS is answered by Flask itself (`Allow`) and, on the API, by the CORS preflight: it runs
    no view and reads nothing, so it needs no sign-in (a browser's preflight never carries one).
    Not on a route that answers OPTIONS with its own view: that view is guarded like any other."""
    return request.method == "OPTIONS" and getattr(request.url_rule, "provide_automatic_options", False)


def public(view):
    """Mark a view as answering without a signed-in user (login, invitations, health)."""
    view.is_public = True
    return view


def register_error_renderer(app: Flask, path_prefix: str, renderer) -> None:
    """`renderer(status, code, message, fields, headers)` answers errors of paths under the prefix."""
    app.extensions.setdefault(ERROR_RENDERERS, []).append((path_prefix, renderer))


def render_error(status: int, code: str | None = None, message: str | None = None,
                 fields: dict | None = None, headers: list | None = None):
    """Answer an error in the format of the entry point the request came through."""
    renderers = [entry for entry in current_app.extensions.get(ERROR_RENDERERS, ())
                 if request.path.startswith(entry[0])]
    _, render = max(renderers, key=lambda entry: len(entry[0]))
    return render(status, code or ERROR_CODES.get(status, "error"), message or DEFAULT_MESSAGES.get(status, ""),
                  fields or {}, headers or [])


def http_error_response(error: HTTPException):
    """Werkzeug's errors in our words: its own descriptions are never shown."""
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    status = error.code or 500
    message = DEFAULT_MESSAGES.get(status) or DEFAULT_MESSAGES[500 if status >= 500 else 400]
    return render_error(status, None, message, getattr(error, "fields", None), headers)
