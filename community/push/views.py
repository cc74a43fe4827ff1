"""The web side of push: the service worker, the device switch and the push choices on the
settings page. Thin: parse, call a service, answer."""
from flask import Blueprint, current_app, flash, jsonify, redirect, request, send_from_directory, url_for
from flask_login import current_user

from ..accounts import services as accounts
from ..web import public
from . import keys, services

bp = Blueprint("push", __name__)


@bp.get("/service-worker.js")
@public
def service_worker():
    """Served from the root so that it may show notifications for the whole site."""
    response = send_from_directory(current_app.static_folder, "service-worker.js", mimetype="text/javascript",
                                   max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/settings/push")
def push_config():
    return jsonify(vapid_public_key=keys.public_key())


@bp.post("/settings/push-subscriptions")
def subscribe_this_browser():
    """The switch on the settings page: the browser's PushSubscription, for this web session."""
    from ..accounts.web_sign_in import current_web_session_id  # TEMP until issue 17 lands

    subscription = services.do_subscribe(current_user, current_web_session_id(),
                                         {**(request.get_json(silent=True) or {}), "kind": "webpush"})
    return jsonify(id=subscription.id), 201


@bp.post("/settings/push-subscriptions/remove")
def unsubscribe_this_browser():
    endpoint = (request.get_json(silent=True) or {}).get("endpoint")
    services.do_unsubscribe_endpoint(current_user, endpoint)
    return "", 204


@bp.post("/settings/push")
def push_choices():
    """Checkboxes: an unchecked box is not sent, so the form sends every choice."""
    accounts.do_update_notification_choices(current_user, **{name: name in request.form for name in services.CHOICES})
    flash("Push choices saved.", "success")
    return redirect(url_for("accounts.edit_profile", _anchor="push"))
