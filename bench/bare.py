"""The ceiling: a bare Flask JSON endpoint, served by the same gunicorn settings as the product.

`gunicorn -c gunicorn.conf.py bench.bare:app` — the command-line app wins over the config's
`wsgi_app`, everything else (gevent worker, logging, keep-alive) stays the product's.
"""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/bare")
def bare():
    return jsonify(status="ok")
