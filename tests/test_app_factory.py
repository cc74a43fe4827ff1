"""The app factory honours what it is given and what the environment says."""
import re

import pytest

from community.config import ConfigurationError
from wsgi import create_app


def test_create_app_honours_its_settings(tmp_path):
    app = create_app({"SECRET_KEY": "k" * 32, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite",
                      "TESTING": True, "MAX_CONTENT_LENGTH": 1234})
    assert app.testing
    assert app.config["MAX_CONTENT_LENGTH"] == 1234
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("/x.sqlite")


def test_environment_names_from_the_design(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env-" + "x" * 24)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/db")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("RATELIMIT_ENABLED", "false")
    app = create_app()
    assert app.config["SECRET_KEY"].startswith("from-env-")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1/db"
    assert app.config["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert app.config["RATELIMIT_ENABLED"] is False


def test_sqlite_in_the_instance_folder_is_the_default(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/roundtable.sqlite"


def test_no_secret_key_means_no_start_outside_the_demo(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("ROUNDTABLE_DEMO", raising=False)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app()


def test_the_demo_keeps_a_random_key_in_its_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("ROUNDTABLE_DEMO", "1")
    monkeypatch.setattr("community.config.Path", lambda *_: tmp_path)
    first, second = create_app(), create_app()
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]


def test_jwt_secret_defaults_to_the_secret_key(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    assert create_app().config["JWT_SECRET_KEY"] == "s" * 32
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 32)
    assert create_app().config["JWT_SECRET_KEY"] == "j" * 32


@pytest.mark.parametrize(("name", "default", "good", "bad", "says"), [
    ("UPLOAD_MAX_BYTES", 10 * 1024 * 1024, "2048", ["0", "-1", "1.5", "ten", "²"], "a whole number of at least 1"),
    ("TRUSTED_PROXY_HOPS", 0, "2", ["-1", "one", "²"], "a whole number (0 or more)"),
    ("DIGEST_HOUR", 7, "23", ["24", "-1", "7am"], "an hour of the day (0 to 23, UTC)"),
])
def test_whole_numbers_in_the_environment_are_checked(monkeypatch, name, default, good, bad, says):
    monkeypatch.setenv("SECRET_KEY", "n" * 32)
    monkeypatch.setenv(name, good)
    assert create_app().config[name] == int(good)
    monkeypatch.setenv(name, " ")
    assert create_app().config[name] == default
    for value in bad:
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigurationError, match=fr"{name} must be {re.escape(says)}, not '{re.escape(value)}'"):
            create_app()


@pytest.mark.parametrize(("name", "default"), [("REALTIME_SWEEP_SECONDS", 20), ("PUSH_GROUP_SECONDS", 5)])
def test_lengths_of_time_in_the_environment_are_checked(monkeypatch, name, default):
    monkeypatch.setenv("SECRET_KEY", "n" * 32)
    monkeypatch.setenv(name, "1.5")
    assert create_app().config[name] == 1.5
    monkeypatch.setenv(name, "")
    assert create_app().config[name] == default
    for value in ["0", "-2", "soon", "nan", "inf", "²"]:
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigurationError, match=fr"{name} must be a number of seconds above 0, not '{value}'"):
            create_app()


def test_the_database_pool_size_is_a_whole_number_of_at_least_1(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "n" * 32)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/db")
    monkeypatch.setenv("DB_POOL_SIZE", "4")
    assert create_app().config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 4
    monkeypatch.setenv("DB_POOL_SIZE", "many")
    with pytest.raises(ConfigurationError, match="DB_POOL_SIZE must be a whole number of at least 1, not 'many'"):
        create_app()
