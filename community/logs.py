"""Structured logs. With LOG_FORMAT=json (what gunicorn.conf.py sets for production) everything
the app and its libraries log goes to stderr as one JSON object per line, with the request it
belongs to, so a log pipeline can index it. Otherwise Flask's readable lines stay."""
import json
import logging
import time

from flask import Flask, has_request_context, request
from flask.logging import default_handler


class JsonFormatter(logging.Formatter):
    converter = time.gmtime  # timestamps in UTC, like everything else

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry.update(method=request.method, path=request.path, remote=request.remote_addr)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(app: Flask) -> None:
    if app.config["LOG_FORMAT"] != "json":
        return
    root = logging.getLogger()
    # One handler per process, however many apps it creates (tests, tools).
    if not any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    app.logger.removeHandler(default_handler)  # its records reach the JSON handler through the root
