"""REST API v1 for the mobile apps: marshmallow schemas and thin views over community services."""
import re

from flask import Flask
from flask_cors import CORS
from flask_smorest import Api

from community.extensions import csrf, jwt
from community.ideas.models import Importance
from community.notifications.models import Level
from community.shapes import IMPORTANCE, SUBSCRIPTION_LEVEL

from . import (
    agenda,
    auth,
    contacts,
    docs,
    events,
    exports,
    ideas,
    jobs,
    moderation,
    notifications,
    organizations,
    push,
    search,
    threads,
    uploads,
    users,
    webhooks,
)
from .common import PREFIX
from .errors import ErrorSchema, register_errors

# One module per resource, each with its token-guarded blueprint `bp`.
RESOURCES = (auth, threads, users, notifications, ideas, moderation, events, agenda, contacts, search, jobs, uploads,
             push, organizations, webhooks, exports)


class RoundtableApi(Api):
    """flask-smorest without its own error handlers: errors go through community.web's, which
    answer in the API's envelope on /api/ paths."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass

    def _register_pagination_header(self):
        """Lists page by cursor in the body, never by flask-smorest's page header (whose schema,
        unused, would otherwise become a model of every generated client)."""

    def register_blueprint(self, blp, **options):
        """flask-smorest's steps, with the resource listed under its human tag, not its blueprint's name."""
        self._app.extensions["flask-smorest"]["blp_name_to_api"][blp.name] = self
        self._app.register_blueprint(blp, **options)
        blp.register_views_in_doc(self, self._app, self.spec, name=blp.name, parameters=None)
        self.spec.tag({"name": blp.tag, "description": blp.description})


def init_api(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Roundtable API")
    app.config.setdefault("API_VERSION", "v1")
    # 3.1: a nullable field is `type: [..., "null"]` (or `anyOf` with `null`), which generated
    # clients type exactly; 3.0's `nullable` beside a `$ref` leaves them an untyped object.
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    jwt.init_app(app)
    register_errors(app)
    servers = [{"url": app.config["BASE_URL"], "description": "This community"}]
    api = RoundtableApi(app, spec_kwargs={"security": [{"bearerAuth": []}], "servers": servers})
    api.spec.components.schema(SUBSCRIPTION_LEVEL, {"type": "string", "enum": [level.value for level in Level]})
    api.spec.components.schema(IMPORTANCE, {"type": "string", "enum": [importance.value for importance in Importance]})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                                       "description": "An access token from /auth/login."})
    api.spec.components.security_scheme("refreshToken", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                                         "description": "A refresh token (only for /auth/refresh)."})
    blueprints = [module.bp for module in RESOURCES]
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # bearer tokens are never sent by a browser on its own
    app.config["TOKEN_AUTH_BLUEPRINTS"] = {blueprint.name for blueprint in blueprints}
    app.extensions[docs.API_EXTENSION] = api
    app.register_blueprint(docs.docs)
    allow_browser_origins(app)


def allow_browser_origins(app: Flask) -> None:
    """CORS for the API only, for the origins of CORS_ORIGINS (none by default). Bearer tokens,
    not cookies, authenticate the API, so no credentials are allowed across origins."""
    if app.config.get("CORS_ORIGINS"):
        # Whole, exact origins: flask-cors reads a string with `[` (an IPv6 host) as a regex it
        # matches as a prefix, so each is given as an anchored pattern of its literal text.
        origins = [re.compile(re.escape(origin) + r"\Z", re.IGNORECASE) for origin in app.config["CORS_ORIGINS"]]
        CORS(app, resources={f"{PREFIX}/*": {"origins": origins}},
             allow_headers=["Authorization", "Content-Type", "If-None-Match"],
             expose_headers=["ETag", "Retry-After", "WWW-Authenticate"], supports_credentials=False, max_age=600)
