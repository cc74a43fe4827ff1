"""One way to read JSON that comes from outside (request bodies, cursors): at most MAX_DEPTH
levels of arrays and objects. Python's parser recurses once per level, so a body of a few
thousand brackets raised RecursionError (a 500, and a cheap way to fill the error log), and
every walk over a decoded body (the NUL check, the schemas) recurses as deep again. No input
of this app nests more than a few levels. Flask reads with it (`responses.JSONProvider`)."""
import json
from typing import Any

from flask import request

MAX_DEPTH = 32


def loads(text: str | bytes, **kwargs) -> Any:
    """Like `json.loads`, raising `json.JSONDecodeError` (a ValueError) for anything nested deeper
    than MAX_DEPTH as for any other malformed JSON."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise _too_deep(text) from None
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth >= MAX_DEPTH:
                    raise _too_deep(text)
                pending.append((child, depth + 1))
    return value


def _too_deep(text: str | bytes) -> json.JSONDecodeError:
    document = text if isinstance(text, str) else text.decode("utf-8", "replace")
    return json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", document[:100], 0)


def request_body() -> Any:
    """The request's JSON body, whatever its shape; None for a body that is not JSON (by its
    type or by its bytes)."""
    return request.get_json(silent=True) if request.is_json else None


def request_object() -> dict:
    """The request's body as a JSON object; anything else (a list, a number, no JSON) is an empty one."""
    body = request_body()
    return body if isinstance(body, dict) else {}
