"""The production server's configuration (`gunicorn.conf.py`), read as gunicorn reads it."""
import gc
import os
import runpy
from pathlib import Path
from unittest import mock

import pytest

CONFIG = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def read_config() -> dict:
    """The configuration's names, as gunicorn sees them; what it sets in the environment
    (LOG_FORMAT) stays out of this test process."""
    with mock.patch.dict(os.environ):
        return runpy.run_path(str(CONFIG))


@pytest.fixture
def restored_gc():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_a_worker_runs_with_the_websocket_capable_worker_and_the_app_factory():
    config = read_config()
    assert config["worker_class"] == "gevent" and config["workers"] == 1
    assert config["wsgi_app"] == "wsgi:create_app()"


def test_a_loaded_worker_freezes_its_objects_and_collects_rarely(restored_gc):
    """Full collections walked 1,000 sockets' objects for a third of a second, and pushes waited."""
    gc.unfreeze()
    read_config()["post_worker_init"](worker=None)
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] >= 10_000 and gc.get_threshold()[2] >= 100
