"""REST API v1 for the mobile apps: marshmallow schemas and thin views over community services."""
from flask import Flask
from flask_smorest import Api

from community.extensions import csrf, jwt

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


def init_api(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Roundtable API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    register_errors(app)
    jwt.init_app(app)
    api = RoundtableApi(app, spec_kwargs={"security": [{"bearerAuth": []}]})
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
