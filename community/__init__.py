"""Roundtable: a private community for a B2B vendor's customers."""
import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config, freshness, shared_pages  # noqa: F401 (shared_pages: its tags, in every process)
from .accounts import oidc
from .accounts.views import bp as accounts_pages
from .cli import register_cli
from .extensions import csrf, db, limiter, migrate
from .gatherings.plan_views import bp as event_pages  # the event pages of both modules
from .ideas.views import bp as ideas_pages
from .jobs.queue import init_jobs
from .jobs.views import bp as jobs_pages
from .logs import configure_logging
from .moderation.views import bp as moderation_pages
from .notifications.views import bp as notifications_pages
from .organizations.views import bp as organization_pages
from .privacy.views import bp as privacy_pages
from .push.keys import init_push
from .push.views import bp as push_pages
from .search import schema as search_schema
from .search.views import bp as search_pages
from .threads.views import bp as threads_pages
from .uploads.views import bp as upload_pages
from .web import register_web
from .webhooks.views import bp as webhook_pages

MIGRATIONS_DIRECTORY = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(settings: dict | None = None) -> Flask:
    """Build the app. `settings` override what the environment says (tests, tools)."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(config.from_environment(app.instance_path, settings))
    configure_logging(app)
    configure_extensions(app)
    register_web(app)
    configure_blueprints(app)
    register_cli(app)
    return app


def trust_proxy_hops(app: Flask) -> None:
    """Behind TRUSTED_PROXY_HOPS proxies, the client is the address (and scheme) the outermost
    of them saw: each proxy appends to X-Forwarded-For, so only that many values from the end
    are believed and whatever a client wrote before them is ignored. With 0 (the default) no
    header is believed, so nobody picks their own address. Call it last: the wrapper must be
    outermost, so Socket.IO's handshakes see the real address too."""
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def configure_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIRECTORY, render_as_batch=True,
                     include_name=search_schema.include_name, include_object=search_schema.include_object)
    csrf.init_app(app)
    freshness.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    limiter.init_app(app)
    oidc.init_app(app)
    init_jobs(app)
    init_push(app)


def configure_blueprints(app: Flask) -> None:
    app.register_blueprint(accounts_pages)
    app.register_blueprint(threads_pages)
    app.register_blueprint(notifications_pages)
    app.register_blueprint(ideas_pages)
    app.register_blueprint(moderation_pages)
    app.register_blueprint(event_pages)
    app.register_blueprint(search_pages)
    app.register_blueprint(organization_pages)
    app.register_blueprint(upload_pages)
    app.register_blueprint(jobs_pages)
    app.register_blueprint(push_pages)
    app.register_blueprint(privacy_pages)
    app.register_blueprint(webhook_pages)
