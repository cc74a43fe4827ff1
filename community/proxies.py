"""Behind reverse proxies: whose `X-Forwarded-*` headers to believe.

Each proxy appends the address it received the request from to `X-Forwarded-For`, so with N
trusted proxies in front the client's address is the N-th entry from the right; whatever a
client writes further left itself is never read. With `TRUSTED_PROXY_HOPS=0` (`flask run`, or a
process exposed directly) the headers are ignored: the address is the socket's. Everything that
keys on the client's address (rate limits, logs) then sees the real one.
"""
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def trust_proxies(app: Flask) -> None:
    """Wrap the whole WSGI app, Socket.IO included: call it after every other middleware."""
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
