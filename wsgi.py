"""Wires the whole app: the community, its REST API and its realtime pushes.

`flask --app wsgi run` and gunicorn (see gunicorn.conf.py) both call `create_app`.
"""
from api import init_api
from community import create_app as create_community_app
from community import trust_proxy_hops
from realtime import init_realtime


def create_app(settings: dict | None = None):
    app = create_community_app(settings)
    init_api(app)
    init_realtime(app)
    trust_proxy_hops(app)
    return app
