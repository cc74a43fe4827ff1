"""The notifications page. Thin: parse, call a service, render."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..errors import NotFound
from . import services
from .models import Notification

bp = Blueprint("notifications", __name__)


def target_url(notification: Notification) -> str:
    """Where a notification leads."""
    if notification.idea_id is not None:
        return url_for("ideas.idea", idea_id=notification.idea_id)
    if notification.thread_id is not None:
        anchor = f"post-{notification.post_id}" if notification.post_id else None
        return url_for("threads.thread", thread_id=notification.thread_id, _anchor=anchor)
    if notification.event_id is not None:
        return url_for("gatherings.meetings", event_id=notification.event_id)
    return url_for("notifications.index")


def public_links():
    """A request context on the public address, so links made outside a request (emails,
    pushes) point at the site."""
    return current_app.test_request_context(base_url=current_app.config["BASE_URL"])


@bp.get("/notifications")
def index():
    page = services.list_notifications(current_user, cursor=request.args.get("cursor"),
                                       limit=request.args.get("limit"))
    return render_template("notifications/index.html", page=page, target_url=target_url)


@bp.get("/notifications/<int:notification_id>")
def open_notification(notification_id: int):
    """Follow a notification, marking it read on the way."""
    notification = next(iter(services.list_notifications_by_id(current_user, [notification_id])), None)
    if notification is None:
        raise NotFound("No such notification.")
    services.do_mark_read(current_user, [notification.id])
    return redirect(target_url(notification))


@bp.post("/notifications/read")
def mark_all_read():
    services.do_mark_read(current_user)
    flash("All notifications marked read.", "info")
    return redirect(url_for("notifications.index"))


@bp.app_context_processor
def _unread_count():
    """The unread count in the top bar of every page."""
    if not current_user.is_authenticated:
        return {}
    return {"unread_notifications": services.count_unread(current_user)}
