"""HTTP as clients expect it: OPTIONS and CORS preflights, 415 for bodies that are not JSON,
ISO-8601 UTC timestamps, and a document that names its resources and its server."""
import re
from datetime import UTC, date, datetime

import pytest

from community import config
from community.database import db
from community.notifications import services as notifications
from community.threads.models import Thread
from wsgi import create_app

from .conftest import assert_error, settings_for
from .factories import make_category, make_event, make_thread

APP_ORIGIN = "https://app.example.com"
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$")


def _concrete_path(rule) -> str:
    """A URL of the rule, with placeholder values for its parameters."""
    path = re.sub(r"<int:[^>]+>", "1", rule.rule)
    return re.sub(r"<(?:[^:>]+:)?[^>]+>", "x", path)


def test_options_answers_every_route_with_its_methods(app, people, api_as):
    """Web pages and API routes alike, signed in or not: 200 with `Allow`, never a sign-in
    redirect, a 401 or a 500 (flask-jwt-extended lets OPTIONS through unverified)."""
    member = api_as(people.member)
    anonymous = app.test_client()
    rules = [rule for rule in app.url_map.iter_rules() if "OPTIONS" in rule.methods]
    assert any(rule.rule.startswith("/api/v1/") for rule in rules) and any(rule.rule == "/login" for rule in rules)
    for rule in rules:
        path = _concrete_path(rule)
        for response in (anonymous.options(path), member.request("OPTIONS", path)):
            assert response.status_code == 200, (path, response.status_code)
            allowed = {method.strip() for method in response.headers["Allow"].split(",")}
            assert rule.methods <= allowed, (path, allowed)


def test_a_route_with_its_own_options_view_is_guarded(database_url):
    """Only Flask's own OPTIONS answer skips the sign-in: a view that answers OPTIONS itself runs
    for members only, as any other view does."""
    guarded_app = create_app(settings_for(database_url))
    guarded_app.add_url_rule("/options-probe", "options_probe", lambda: "ran", methods=["OPTIONS"])
    response = guarded_app.test_client().options("/options-probe")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    with guarded_app.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture(scope="module")
def cors_app(database_url):
    cors_app = create_app(settings_for(database_url, CORS_ORIGINS=[APP_ORIGIN, "http://[::1]:3000"]))
    yield cors_app
    with cors_app.app_context():
        for engine in db.engines.values():
            engine.dispose()


def _preflight(client, path, origin, method="POST"):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": "authorization, content-type"})


def test_a_preflight_from_an_allowed_origin_is_answered(cors_app):
    response = _preflight(cors_app.test_client(), "/api/v1/threads", APP_ORIGIN)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert {"authorization", "content-type"} <= {
        header.strip().lower() for header in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert "Access-Control-Allow-Credentials" not in response.headers  # bearer tokens, never cookies
    assert "Origin" in response.headers["Vary"]


def test_an_actual_request_from_an_allowed_origin_may_read_the_answer(cors_app, people, make):
    from api.auth import issue_tokens

    with cors_app.app_context():
        token = issue_tokens(db.session.merge(people.member), "browser app")["access_token"]
    client = cors_app.test_client()
    response = client.get("/api/v1/threads", headers={"Origin": APP_ORIGIN, "Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    # Errors too, so the app can read why it was refused.
    refused = client.get("/api/v1/threads", headers={"Origin": APP_ORIGIN})
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == APP_ORIGIN


@pytest.mark.parametrize("origin", ["https://evil.example.com", "https://app.example.com.evil.example",
                                    "http://app.example.com", "http://[::1]:30000", "null"])
def test_other_origins_get_no_cors_headers(cors_app, origin):
    client = cors_app.test_client()
    for response in (_preflight(client, "/api/v1/threads", origin),
                     client.get("/api/v1/threads", headers={"Origin": origin})):
        assert not [name for name, _ in response.headers if name.startswith("Access-Control-")], origin


def test_cors_covers_the_api_only(cors_app):
    client = cors_app.test_client()
    assert "Access-Control-Allow-Origin" not in _preflight(client, "/login", APP_ORIGIN).headers
    assert "Access-Control-Allow-Origin" not in client.get("/login", headers={"Origin": APP_ORIGIN}).headers
    assert _preflight(client, "/api/v1/threads", "http://[::1]:3000").headers["Access-Control-Allow-Origin"] \
        == "http://[::1]:3000"


def test_without_cors_origins_no_origin_is_allowed(app):
    response = _preflight(app.test_client(), "/api/v1/threads", APP_ORIGIN)
    assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response.headers


def test_cors_origins_are_read_as_whole_origins(monkeypatch, tmp_path):
    monkeypatch.setenv("CORS_ORIGINS", " https://app.example.com, http://localhost:3000/ ,")
    assert config.from_environment(str(tmp_path), {"TESTING": True})["CORS_ORIGINS"] == [
        "https://app.example.com", "http://localhost:3000"]
    monkeypatch.delenv("CORS_ORIGINS")
    assert config.from_environment(str(tmp_path), {"TESTING": True})["CORS_ORIGINS"] == []
    for wrong in ("*", "app.example.com", "https://app.example.com/app", "ftp://files.example.com"):
        monkeypatch.setenv("CORS_ORIGINS", wrong)
        with pytest.raises(config.ConfigurationError, match="CORS_ORIGINS"):
            config.from_environment(str(tmp_path), {"TESTING": True})


@pytest.mark.parametrize(("content_type", "data"), [
    (None, '{"category_id": 1, "title": "Hello there", "body": "Some text"}'),
    ("application/x-www-form-urlencoded", "category_id=1&title=Hello+there&body=Some+text"),
    ("text/plain", '{"category_id": 1, "title": "Hello there", "body": "Some text"}'),
    (None, None),
])
def test_a_json_route_refuses_other_bodies_with_415(app, people, make, api_as, content_type, data):
    category = make(lambda: make_category("General"))
    member = api_as(people.member)
    headers = {"Content-Type": content_type} if content_type else {}
    body = data.replace("1", str(category.id), 1) if data else None
    response = member.request("POST", "/api/v1/threads", data=body, headers=headers)
    error = assert_error(response, 415, "unsupported_media_type")
    assert error["fields"] == {} and "application/json" in error["message"]
    with app.app_context():
        assert db.session.query(Thread).count() == 0


def test_a_body_that_is_all_optional_may_be_left_out(people, api_as):
    assert api_as(people.member).request("POST", "/api/v1/notifications/read").json == {"unread_count": 0}


def test_my_checkin_on_the_event(people, make, api_as):
    event = make(make_event)
    member, outsider = api_as(people.member), api_as(people.outsider)
    assert member.get(f"/api/v1/events/{event.id}").json["my_checkin"] is None
    checked_in = member.post(f"/api/v1/events/{event.id}/checkin", {"code": event.checkin_code, "zone": "Expo"}).json
    assert member.get(f"/api/v1/events/{event.id}").json["my_checkin"] == checked_in
    assert checked_in["zone"] == "Expo" and checked_in["event_id"] == event.id
    assert outsider.get(f"/api/v1/events/{event.id}").json["my_checkin"] is None  # their own, not anyone's
    member.delete(f"/api/v1/events/{event.id}/checkin")
    assert member.get(f"/api/v1/events/{event.id}").json["my_checkin"] is None


def _resolve(document, schema):
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _date_times(document, schema, value, where="$"):
    """Every (place, value) of the answer that its schema in the document says is a date-time."""
    schema = _resolve(document, schema)
    if value is None:
        return
    for alternative in schema.get("anyOf", []) + schema.get("allOf", []):
        yield from _date_times(document, alternative, value, where)
    if schema.get("format") == "date-time":
        yield where, value
    if isinstance(value, dict):
        for name, inner in value.items():
            if name in schema.get("properties", {}):
                yield from _date_times(document, schema["properties"][name], inner, f"{where}.{name}")
    if isinstance(value, list) and "items" in schema:
        for index, inner in enumerate(value):
            yield from _date_times(document, schema["items"], inner, f"{where}[{index}]")


def test_every_timestamp_is_iso_8601_utc(app, people, make, api_as):
    category = make(lambda: make_category("General"))
    thread = make(make_thread, people.member, category, replies=1)
    event = make(make_event)
    with app.app_context():
        notifications.notify([db.session.merge(people.member)], "reply", actor=db.session.merge(people.outsider),
                             text="Otto replied", thread=db.session.get(Thread, thread.id))
        db.session.commit()
    member = api_as(people.member)
    document = member.get("/api/v1/openapi.json").json
    idea = member.post("/api/v1/ideas", {"title": "Dark mode please", "body": "For the night shift."}).json
    calls = [("GET", "/api/v1/me", None), ("GET", "/api/v1/me/sessions", None), ("GET", "/api/v1/threads", None),
             ("GET", f"/api/v1/threads/{thread.id}", None), ("GET", f"/api/v1/threads/{thread.id}/posts", None),
             ("GET", f"/api/v1/ideas/{idea['id']}", None), ("GET", "/api/v1/notifications", None),
             ("POST", f"/api/v1/events/{event.id}/checkin", {"code": event.checkin_code}),
             ("PATCH", f"/api/v1/events/{event.id}/checkin", {"zone": "Expo"}),
             ("GET", f"/api/v1/events/{event.id}", None), ("GET", "/api/v1/events", None)]
    seen = set()
    for method, path, body in calls:
        response = member.request(method, path, json=body)
        assert response.status_code in (200, 201), (path, response.json)
        template = next(template for template in document["paths"]
                        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path))
        operation = document["paths"][template][method.lower()]
        schema = operation["responses"][str(response.status_code)]["content"]["application/json"]["schema"]
        for where, value in _date_times(document, schema, response.json):
            assert ISO_UTC.match(value) and datetime.fromisoformat(value).utcoffset().total_seconds() == 0, \
                (path, where, value)
            seen.add(where.split(".")[-1].split("[")[0])
    # The walk found the timestamps that matter (the check-in's expiry was an HTTP date once).
    assert {"created_at", "last_seen_at", "expires_at", "checked_in_at", "starts_at", "ends_at"} <= seen


def test_a_timestamp_without_a_schema_is_iso_8601_too(app):
    """What reaches JSON without a schema (a plain dict, a Function field) is not an HTTP date."""
    from flask import jsonify

    with app.test_request_context():
        body = jsonify(at=datetime(2026, 5, 3, 14, 0, tzinfo=UTC), day=date(2026, 5, 3)).json
    assert body == {"at": "2026-05-03T14:00:00+00:00", "day": "2026-05-03"}


def test_the_document_names_its_resources_and_its_server(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": app.config["BASE_URL"], "description": "This community"}]
    tags = [tag["name"] for tag in document["tags"]]
    assert {"Threads", "Ideas", "Events", "Notifications", "Sign-in"} <= set(tags)
    assert all(re.fullmatch(r"[A-Z][a-z]+( [a-z]+)*|Sign-in", tag) for tag in tags), tags
    operations = [operation for item in document["paths"].values() for operation in item.values()
                  if isinstance(operation, dict)]
    assert {tag for operation in operations for tag in operation["tags"]} == set(tags)
    # Generated clients name their functions after these: each one a view's own name, once.
    ids = [operation["operationId"] for operation in operations]
    assert len(ids) == len(set(ids)) and {"list_threads", "create_thread", "login", "unread_count"} <= set(ids)


LIBRARY_WORDING = ["Not a valid", "Missing data for required field", "Field may not be null", "Unknown field",
                   "Invalid input type", "Invalid type", "Must be one of", "greater than or equal",
                   "Invalid JSON body", "non-refresh", "Only refresh tokens", "Missing Authorization Header",
                   "Not enough segments", "Signature verification failed", "requested URL", "The browser (or proxy)"]


def test_error_messages_are_our_own(app, people, make, api_as):
    from werkzeug.exceptions import ImATeapot, RequestedRangeNotSatisfiable

    from community.responses import http_error_response

    member = api_as(people.member)
    refresh = member.tokens["refresh_token"]
    answers = [  # (response, the status it must have)
        (member.post("/api/v1/threads", {"category_id": "x", "title": 5, "body": None, "surprise": 1}), 422),
        (member.post("/api/v1/threads", [1]), 422),
        (member.post("/api/v1/threads", {}), 422),
        (member.get("/api/v1/threads?limit=abc&sort=sideways"), 422),
        (member.post("/api/v1/events", {"name": "x", "venue": "y", "starts_at": "soon", "ends_at": "2020-01-01T00:00",
                                        "geofence": {"lat": "north"}, "zones": "all"}), 422),
        (member.post("/api/v1/notifications/read", {"ids": [0, "a"]}), 422),
        (member.request("POST", "/api/v1/threads", data="{not json", headers={"Content-Type": "application/json"}),
         400),
        (member.get("/api/v1/threads", token=refresh), 401),  # a refresh token where an access token belongs
        (member.post("/api/v1/auth/refresh"), 401),  # and the other way round
        (member.get("/api/v1/threads", token="not-a-token"), 401),
        (member.client.get("/api/v1/threads"), 401),
        (member.put("/api/v1/threads"), 405),
        (member.get("/api/v1/nowhere"), 404),
        (member.post("/api/v1/threads", {"body": "x" * 2_000_000}), 413),
    ]
    messages = []
    for response, status in answers:
        error = assert_error(response, status)
        messages += [error["message"], *error["fields"].values()]
    refresh_as_access = answers[7][0].json["error"]
    assert refresh_as_access["code"] == "token_invalid" and "access token" in refresh_as_access["message"]
    with app.test_request_context("/api/v1/threads"):
        for unusual in (ImATeapot(), RequestedRangeNotSatisfiable()):
            body = http_error_response(unusual).json["error"]
            assert body["message"] != unusual.description
            messages.append(body["message"])
    leaked = [(message, words) for message in messages for words in LIBRARY_WORDING if words.lower() in message.lower()]
    assert leaked == []


def _fields(schema):
    for field in schema.fields.values():
        yield field
        inner = getattr(field, "inner", None) or getattr(field, "value_field", None)
        if inner is not None:
            yield inner
        if hasattr(field, "nested"):
            yield from _fields(field.schema)


def test_every_input_field_speaks_our_words(app):
    """Every body and query field of every route, not only those the requests above reach."""
    schemas = [argument["schema"] for view in app.view_functions.values()
               for argument in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])]
    assert len(schemas) > 50
    for schema in schemas:
        instance = schema() if isinstance(schema, type) else schema
        messages = [*instance.error_messages.values(),
                    *(message for field in _fields(instance) for message in field.error_messages.values())]
        leaked = [message for message in messages for words in LIBRARY_WORDING if words.lower() in message.lower()]
        assert leaked == [], (schema, leaked)
