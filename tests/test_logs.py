"""With LOG_FORMAT=json (production) the app's own logs are JSON lines, with their request."""
import json
import logging

import pytest

from community.config import ConfigurationError
from community.logs import JsonFormatter
from wsgi import create_app

from .conftest import settings_for


@pytest.fixture
def json_logging(tmp_path, monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield lambda: create_app(settings_for(f"sqlite:///{tmp_path}/logs.sqlite"))
    root.handlers[:] = before  # the JSON handler writes to this test's captured stderr
    root.setLevel(level)


def test_app_logs_are_json_lines_with_their_request(json_logging, capsys):
    app = json_logging()
    json_logging()  # a second app in the same process adds no second handler
    with app.test_request_context("/t/7", method="POST"):
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            app.logger.exception("unhandled error")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "error" and entry["logger"] == "community" and entry["message"] == "unhandled error"
    assert (entry["method"], entry["path"]) == ("POST", "/t/7")
    assert "RuntimeError: boom" in entry["exception"] and entry["ts"].endswith("Z")


def test_text_stays_the_default(tmp_path, monkeypatch):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    create_app(settings_for(f"sqlite:///{tmp_path}/logs.sqlite"))
    assert not any(isinstance(handler.formatter, JsonFormatter) for handler in logging.getLogger().handlers)


def test_an_unknown_log_format_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ConfigurationError, match="LOG_FORMAT"):
        create_app(settings_for(f"sqlite:///{tmp_path}/logs.sqlite"))
