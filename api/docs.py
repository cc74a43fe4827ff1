"""The OpenAPI document (public: it holds no data) and a browsable reference served by the app."""
from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, current_app, jsonify, render_template, send_from_directory, url_for

from community.responses import public

# swagger-ui-dist as shipped inside flask-swagger-ui's wheel (with its license): no CDN.
SWAGGER_UI_DIST = Path(flask_swagger_ui.__file__).parent / "dist"
API_EXTENSION = "roundtable.api"

docs = Blueprint("api_docs", __name__, url_prefix="/api/v1", template_folder="templates",
                 static_folder="static", static_url_path="/docs/static")


@docs.get("/openapi.json")
@public
def openapi_json():
    return jsonify(current_app.extensions[API_EXTENSION].spec.to_dict())


@docs.get("/docs")
def reference():
    """The reference page, for signed-in members (the app's developers have accounts)."""
    return render_template("api/docs.html", spec_url=url_for("api_docs.openapi_json"))


@docs.get("/docs/ui/<path:filename>")
@public
def swagger_ui_asset(filename):
    return send_from_directory(SWAGGER_UI_DIST, filename)
