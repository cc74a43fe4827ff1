"""The API's one error format: {"error": {"code", "message", "fields"}}."""
from flask import Flask, jsonify
from flask_jwt_extended.exceptions import WrongTokenError
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import BadRequest, UnprocessableEntity

from community.responses import http_error_response, register_error_renderer, render_error

# What a field of a refused body or query says, in our words: marshmallow's own ("Not a valid
# integer.", "Missing data for required field.") would reach clients through `fields`. A field and
# a schema take their messages when they are made, so these are set before the API declares any.
FIELD_MESSAGES = {
    fields.Field: {"required": "This field is required.", "null": "This field cannot be null.",
                   "validator_failed": "This value is not accepted."},
    fields.String: {"invalid": "Send text here.", "invalid_utf8": "Send text (UTF-8) here."},
    fields.Number: {"invalid": "Send a number here.", "too_large": "This number is too large."},
    fields.Integer: {"invalid": "Send a whole number here."},
    fields.Float: {"special": "Send a finite number here."},
    fields.Boolean: {"invalid": "Send true or false here."},
    fields.DateTime: {"invalid": "Send a date and time in ISO 8601, such as 2026-05-03T14:00:00Z.",
                      "invalid_awareness": "Give the time zone too, such as 2026-05-03T14:00:00Z.",
                      "format": "This date and time cannot be written out."},
    fields.Date: {"invalid": "Send a date in ISO 8601, such as 2026-05-03."},
    fields.List: {"invalid": "Send a list here."},
    fields.Mapping: {"invalid": "Send an object here."},
    fields.Nested: {"type": "Send an object here."},
    fields.Email: {"invalid": "Send an email address here."},
    fields.URL: {"invalid": "Send a URL here."},
    fields.Enum: {"unknown": "Choose one of: {choices}."},
}
SCHEMA_MESSAGES = {"type": "Send a JSON object here.", "unknown": "This field is not part of this request."}


def _use_our_words() -> None:
    for field_class, messages in FIELD_MESSAGES.items():
        field_class.default_error_messages = {**field_class.__dict__.get("default_error_messages", {}), **messages}
    Schema.error_messages = SCHEMA_MESSAGES
    validate.OneOf.default_message = "Choose one of: {choices}."
    validate.Range.message_min = "Send a number {min_op} {{min}}."
    validate.Range.message_max = "Send a number {max_op} {{max}}."
    validate.Range.message_all = "Send a number {min_op} {{min}} and {max_op} {{max}}."
    validate.Range.message_gte, validate.Range.message_gt = "no less than", "greater than"
    validate.Range.message_lte, validate.Range.message_lt = "no more than", "less than"


_use_our_words()


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
        return render_error(400, "malformed_request", "The request body is not valid JSON.")  # webargs' words stay out
    return render_error(422, "validation_failed", "Some fields are not valid.", fields)


def _wrong_kind_of_token(error: WrongTokenError):
    """flask-jwt-extended's words ("Only non-refresh tokens are allowed") never reach clients."""
    return render_error(401, "token_invalid", "This route takes the other kind of token: an access token everywhere, "
                        "the refresh token only at /auth/refresh.", headers=[("WWW-Authenticate", "Bearer")])


def register_errors(app: Flask) -> None:
    """Call after flask-jwt-extended's init_app: its handlers for the same errors are replaced."""
    register_error_renderer(app, "/api/", render_api_error)
    app.register_error_handler(WrongTokenError, _wrong_kind_of_token)
    app.register_error_handler(UnprocessableEntity, _request_parsing_error)
    app.register_error_handler(BadRequest, _request_parsing_error)
