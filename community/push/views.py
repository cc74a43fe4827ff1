"""The web side of push: the service worker, the device switch and the push choices on the
settings page.
Thin: parse, call a service, answer."""
from pathlib import Path

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, request, url_for
from flask_login import current_user

from .. import json_input
from ..accounts import services as accounts
from ..accounts import web_sign_in
from ..web import public
from . import keys, services

bp = Blueprint("push", __name__)


@bp.get("/service-worker.js")
@public
def service_worker():
    """Served from the root so that it may show notifications for the whole site."""
    script = (Path(current_app.static_folder) / "service-worker.js").read_bytes()
    return Response(script, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})


@bp.get("/settings/push")
def push_config():
    return jsonify(vapid_public_key=keys.public_key())


@bp.post("/settings/push-subscriptions")
def subscribe_this_browser():
    """The switch on the settings page: the browser's PushSubscription, for this web session
    (signing this browser out removes it)."""
    subscription = services.do_subscribe(current_user, web_sign_in.current_web_session_id(),
                                         {**json_input.request_object(), "kind": "webpush"})
    return jsonify(id=subscription.id), 201


@bp.post("/settings/push-subscriptions/remove")
def unsubscribe_this_browser():
    services.do_unsubscribe_endpoint(current_user, json_input.request_object().get("endpoint"))
    return "", 204


@bp.post("/settings/push")
def push_choices():
    """Checkboxes: an unchecked box is not sent, so the form sends every choice."""
    accounts.do_update_notification_choices(current_user, **{name: name in request.form for name in services.CHOICES})
    flash("Push choices saved.", "success")
    return redirect(url_for("accounts.edit_profile", _anchor="push"))
