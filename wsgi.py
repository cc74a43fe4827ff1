"""Wires the whole app: the community, its REST API and its realtime pushes.

`flask --app wsgi run` and `gunicorn 'wsgi:create_app()'` both call `create_app`.
"""
from api import init_api
from community import create_app as create_community_app


def create_app(settings: dict | None = None):
    app = create_community_app(settings)
    init_api(app)
    return app
