"""The API's one error format: {"error": {"code", "message", "fields"}}."""
from flask import Flask, jsonify
from marshmallow import Schema, fields
from werkzeug.exceptions import BadRequest, UnprocessableEntity

from community.responses import http_error_response, register_error_renderer, render_error


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "validation_failed"})
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


def render_api_error(status: int, code: str, message: str, fields: dict, headers: list):
    response = jsonify(error={"code": code, "message": message, "fields": fields})
    response.status_code = status
    for name, value in headers:
        response.headers[name] = value
    return response


def _flatten(messages) -> dict[str, str]:
    """webargs reports {location: {field: [messages]}}; clients want {field: "message"}."""
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            flat[prefix or "_body"] = " ".join(value)
        else:
            flat[prefix or "_body"] = str(value)

    for location_messages in messages.values():
        walk("", location_messages)
    return flat


def _request_parsing_error(error):
    """Bodies and query strings that do not fit their schema (webargs via flask-smorest)."""
    messages = getattr(error, "data", {}).get("messages")
    if messages is None:
        return http_error_response(error)
    fields = _flatten(messages)
    if error.code == 400 or "_body" in fields and "Invalid JSON" in fields["_body"]:
        return render_error(400, "malformed_request", "The request body is not valid JSON.", fields)
    return render_error(422, "validation_failed", "Some fields are not valid.", fields)


def register_errors(app: Flask) -> None:
    register_error_renderer(app, "/api/", render_api_error)
    app.register_error_handler(UnprocessableEntity, _request_parsing_error)
    app.register_error_handler(BadRequest, _request_parsing_error)
