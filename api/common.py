"""What every API module shares: blueprints guarded by bearer tokens, the viewer, list shapes."""
from functools import cache, wraps

from flask import current_app, g, request
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, missing, validate
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import UnsupportedMediaType

from community import json_input
from community.accounts import device_sessions
from community.accounts import services as accounts
from community.database import MAX_ID, read_without_transaction
from community.errors import ValidationFailed
from community.responses import answered_by_flask
from community.shapes import SUBSCRIPTION_LEVEL, component_or_null, viewing_as
from community.validation import check_datetime

from .errors import ErrorSchema

PREFIX = "/api/v1"


def viewer():
    """The signed-in user of this API request (None on public routes)."""
    return g.get("viewer")


@cache
def _declared_query_parameters(view) -> frozenset[str]:
    """The query parameters a route documents (flask-smorest keeps them on the view); read once
    per route, not per request."""
    names = set()
    for parameter in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
        if parameter.get("in") == "query":
            names |= {field.data_key or name for name, field in parameter["schema"]().fields.items()}
    return frozenset(names)


def refuse_unknown_query_parameters():
    """What the document does not declare is refused, on every route (routes with a query
    schema refuse it while parsing; this covers the routes that take no query at all)."""
    if answered_by_flask():
        return
    view = current_app.view_functions.get(request.endpoint)
    unknown = set(request.args) - _declared_query_parameters(view)
    if unknown:
        raise ValidationFailed({name: "Unknown parameter." for name in sorted(unknown)})


def read_only_requests_without_transaction():
    if request.method in ("GET", "HEAD"):
        read_without_transaction()


def require_access_token():
    """Every API route needs a valid access token, except those marked `@public` (and OPTIONS,
    which flask-jwt-extended lets through unverified: going on would read a session it never set)."""
    if answered_by_flask() or getattr(current_app.view_functions.get(request.endpoint), "is_public", False):
        return None
    verify_jwt_in_request()
    user = g.device_session.user
    g.device_seen = (g.device_session.id, g.device_session.last_seen_at)
    accounts.check_not_suspended(user)
    g.viewer = user
    return None


def mark_device_seen(response):
    """After the answer is made: authentication itself writes nothing."""
    if g.get("device_seen") is not None:
        device_sessions.do_mark_seen(*g.device_seen)
    return response


def conditional_get(response):
    """ETag on every successful GET, so an unchanged resource answers 304 to If-None-Match."""
    if request.method == "GET" and response.status_code == 200 and response.is_json:
        response.add_etag()
        response.headers["Cache-Control"] = "private, no-cache"
        response.make_conditional(request)
    return response


def json_answer(body: bytes):
    """A JSON answer encoded already (`community.shared_pages`); the route's schema still documents it."""
    return current_app.response_class(body, mimetype="application/json")


class StrictParser(FlaskParser):
    """Unknown query parameters are refused (422) like unknown body fields: a misspelt
    `?categroy_id=` should fail loudly, not quietly list everything. Bodies are read by the
    app's one JSON policy (too deep is malformed: 400), not by webargs' own `json.loads`."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE, "querystring": RAISE}

    def load_json(self, req, schema):
        """A body sent as anything but JSON is a 415, not "missing" for every field (webargs would
        read it as no body). Only a route whose body is all optional may be called with none."""
        sent_something = bool(req.mimetype or req.content_length or req.headers.get("Transfer-Encoding"))
        needs_a_body = any(field.required for field in schema.fields.values())
        if not is_json_request(req) and (sent_something or needs_a_body):
            raise UnsupportedMediaType()
        return super().load_json(req, schema)

    def _get_schema(self, argmap, req):
        # webargs makes a schema instance per request from a class (a tenth of a kept list's
        # time); a schema keeps nothing of what it loads, so one instance per class serves all.
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            return _schema_instance(argmap)
        return super()._get_schema(argmap, req)

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return missing
        return json_input.loads(req.get_data(cache=True))


@cache
def _schema_instance(schema_class: type[Schema]) -> Schema:
    return schema_class()


def _dumped_for_the_viewer(view):
    """Answers are dumped inside the view's call (flask-smorest shapes them there), as its viewer sees them."""

    @wraps(view)
    def view_for_viewer(*args, **kwargs):
        with viewing_as(viewer()):
            return view(*args, **kwargs)

    return view_for_viewer


class ApiBlueprint(Blueprint):
    """A resource of the API; `tag` is its name in the document (what a reader and a generated
    client see), the blueprint's own name stays the endpoints' prefix."""

    ARGUMENTS_PARSER = StrictParser()

    def __init__(self, *args, tag: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.tag = tag

    def add_url_rule(self, rule, endpoint=None, view_func=None, provide_automatic_options=None, **options):
        options["tags"] = options.get("tags") or [self.tag]
        # The view's name is its operationId: generated clients call `list_threads`, not `get_api_v1_threads`.
        view = self.doc(operationId=view_func.__name__)(_dumped_for_the_viewer(view_func))
        super().add_url_rule(rule, endpoint, view, provide_automatic_options, **options)

    def error(self, status: int, description: str):
        """Document an error answer of a route (always the error envelope)."""
        return self.alt_response(status, schema=ErrorSchema, description=description)


def api_blueprint(name: str, tag: str, description: str) -> ApiBlueprint:
    blueprint = ApiBlueprint(f"api_{name}", __name__, url_prefix=PREFIX, description=description, tag=tag)
    blueprint.before_request(read_only_requests_without_transaction)
    blueprint.before_request(require_access_token)
    blueprint.before_request(refuse_unknown_query_parameters)
    blueprint.after_request(conditional_get)
    blueprint.after_request(mark_device_seen)
    return blueprint


def user_rate_key() -> str:
    """Rate limits count per signed-in user (or per address before sign-in)."""
    identity = get_jwt_identity() if g.get("viewer") else None
    return f"user:{identity}" if identity else f"ip:{request.remote_addr}"


class Moment(fields.AwareDateTime):
    """A date and time with its offset, parsed and bounded like every other moment the app
    takes in (community.validation.check_datetime)."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return check_datetime(attr or "value", value if isinstance(value, str) else None)
        except ValidationFailed as refusal:
            raise ValidationError(next(iter(refusal.fields.values()))) from None


def Id(**kwargs) -> fields.Integer:  # noqa: N802 (reads like the field class it returns)
    """An id in a body or query: a positive integer no larger than any row can have."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class SubscriptionSchema(Schema):
    level = fields.String(required=True, validate=validate.OneOf(["watch", "mute"]), metadata={
        "description": "watch: be notified of activity; mute: never (mentions still reach you)."})


class SubscriptionStateSchema(Schema):
    level = fields.Raw(metadata={**component_or_null(SUBSCRIPTION_LEVEL),
                                 "description": "Your own choice here; null: the default."})


class ListArgsSchema(Schema):
    limit = fields.Integer(metadata={"description": "Items per page, 1 to 100 (default 20)."})
    cursor = fields.String(metadata={"description": "The `next_cursor` of the previous page."})


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """`{"items": [...], "next_cursor": "…" | null}` for a given item schema."""
    return Schema.from_dict(
        {"items": fields.List(fields.Nested(item_schema), required=True),
         "next_cursor": fields.String(allow_none=True, required=True)},
        name=name,
    )
