"""Web pages for categories, threads and posts. Thin: parse, call a service, render."""
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from .. import permissions, rate_limits
from ..errors import Forbidden, ValidationFailed
from ..extensions import limiter
from ..moderation import services as moderation
from ..notifications import subscriptions
from ..uploads.receiving import accepts_uploads, store
from ..uploads.views import markdown_for
from ..web import form_int, signed_in_user_key
from . import reactions, reading, services

bp = Blueprint("threads", __name__)

SUBSCRIPTION_FLASHES = {
    "watch": "Watching: you will be notified of new activity.",
    "mute": "Muted: you will not be notified of activity here (mentions still reach you).",
    None: "Notifications back to the default.",
}


@bp.app_context_processor
def _reaction_choices():
    return {"reaction_choices": reactions.REACTIONS, "reaction_names": reactions.REACTION_NAMES}


@bp.get("/")
def index():
    return render_template(
        "threads/index.html",
        categories=services.list_categories(current_user),
        thread_counts=services.count_threads_by_category(current_user),
        latest=services.list_threads(current_user, cursor=request.args.get("cursor"), limit=10),
    )


@bp.get("/c/<int:category_id>")
def category(category_id: int):
    category = services.access_category(current_user, category_id)
    unsolved = category.kind == "support" and request.args.get("unsolved") == "1"
    page = services.list_threads(current_user, category_id=category.id, sort=request.args.get("sort"),
                                 cursor=request.args.get("cursor"), limit=request.args.get("limit"), unsolved=unsolved)
    return render_template("threads/category.html", category=category, page=page, unsolved=unsolved,
                           sort=request.args.get("sort") or "activity", sorts=services.THREAD_SORTS,
                           subscription=subscriptions.level_of(current_user, category=category))


@bp.post("/c/<int:category_id>/subscription")
def category_subscription(category_id: int):
    level = services.do_set_category_subscription(current_user, category_id, request.form.get("level") or None)
    flash(SUBSCRIPTION_FLASHES[level], "success")
    return redirect(url_for("threads.category", category_id=category_id))


def _body_with_attachment() -> str:
    """The form's message, with the file attached to it (if one was chosen) shown at its end:
    how browsers without JavaScript add an image to a post."""
    body = request.form.get("body") or ""
    file = request.files.get("file")
    if file is not None and file.filename:
        body = f"{body.rstrip()}\n\n{markdown_for(store(current_user, file))}".strip()
    return body


@bp.route("/c/<int:category_id>/new", methods=["GET", "POST"])
@accepts_uploads
@limiter.limit(rate_limits.WRITE, methods=["POST"], key_func=signed_in_user_key)
@limiter.limit(rate_limits.WRITE, methods=["POST"])
def new_thread(category_id: int):
    category = services.access_category(current_user, category_id)
    errors = {}
    if request.method == "POST":
        try:
            thread = services.do_create_thread(current_user, category.id, request.form.get("title"),
                                               _body_with_attachment())
        except ValidationFailed as failure:
            errors = failure.fields
        else:
            return redirect(url_for("threads.thread", thread_id=thread.id))
    return render_template("threads/new_thread.html", category=category, errors=errors,
                           form=request.form), 422 if errors else 200


@bp.get("/t/<int:thread_id>")
def thread(thread_id: int):
    thread = reading.load_reading_state(current_user, services.access_thread(current_user, thread_id))
    cursor, limit = request.args.get("cursor"), request.args.get("limit")
    page = services.list_posts(current_user, thread.id, cursor=cursor, limit=limit)
    first_unread = reading.first_unread_post_id(current_user, thread)
    if first_unread and not cursor and request.args.get("from") != "start" and page.next_cursor \
            and first_unread > page.items[-1].id:
        # What is new lies beyond the first page: open the thread where the member left off.
        cursor = services.POST_KEYSET.cursor_after(thread.last_read_post_id)
        page = services.list_posts(current_user, thread.id, cursor=cursor, limit=limit)
    return _render_thread(thread, page, first_unread=first_unread, resumed=bool(cursor))


def _render_thread(thread, page, errors=None, form=None, first_unread=None, resumed=False):
    reactions.attach(current_user, page.items)
    moderation.attach_my_flags(current_user, page.items)
    # Staff get the categories they may move the thread to; nobody else needs that query.
    categories = services.list_categories(current_user) if permissions.can_moderate_thread(current_user, thread) \
        else []
    return render_template("threads/thread.html", thread=thread, page=page, errors=errors or {}, form=form or {},
                           categories=categories,
                           subscription=subscriptions.level_of(current_user, thread=thread),
                           first_unread=first_unread, resumed=resumed)


@bp.post("/t/<int:thread_id>/read")
def mark_read(thread_id: int):
    """Posts read as the member scrolls (static/reading.js), or all shown ones (the button
    for browsers without JavaScript)."""
    services.do_mark_read(current_user, thread_id, form_int("post_id"))
    if request.accept_mimetypes.best == "application/json":
        return "", 204
    return redirect(url_for("threads.thread", thread_id=thread_id))


@bp.post("/t/<int:thread_id>/subscription")
def thread_subscription(thread_id: int):
    level = services.do_set_thread_subscription(current_user, thread_id, request.form.get("level") or None)
    flash(SUBSCRIPTION_FLASHES[level], "success")
    return redirect(url_for("threads.thread", thread_id=thread_id))


@bp.get("/p/<int:post_id>/fragment")
def post_fragment(post_id: int):
    """One post rendered for the viewer, for live pages that were told it appeared or changed."""
    post = services.access_post(current_user, post_id)
    reactions.attach(current_user, [post])
    moderation.attach_my_flags(current_user, [post])
    return render_template("threads/_post.html", post=post, thread=post.thread)


@bp.post("/p/<int:post_id>/reactions/<reaction>")
@limiter.limit(rate_limits.VOTE, key_func=signed_in_user_key)
def react(post_id: int, reaction: str):
    """One click adds or withdraws a reaction (`on`: 1 or 0); static/reactions.js sends it
    without leaving the page and gets the new counts back as JSON."""
    summary = reactions.do_react(current_user, post_id, reaction, on=request.form.get("on") != "0")
    if request.accept_mimetypes.best == "application/json":
        return summary.as_dict()
    post = services.access_post(current_user, post_id)
    return redirect(url_for("threads.thread", thread_id=post.thread_id, _anchor=f"post-{post.id}"))


@bp.post("/t/<int:thread_id>/solution")
@limiter.limit(rate_limits.WRITE, key_func=signed_in_user_key)
def solution(thread_id: int):
    """Mark a reply as the solution (`post_id`), or with an empty `post_id` unmark it."""
    post_id = form_int("post_id") if request.form.get("post_id") else None
    services.do_set_solution(current_user, thread_id, post_id)
    flash("Marked as the solution." if post_id else "The solution mark is removed.", "success")
    return redirect(url_for("threads.thread", thread_id=thread_id))


@bp.post("/t/<int:thread_id>/reply")
@accepts_uploads
@limiter.limit(rate_limits.WRITE, key_func=signed_in_user_key)
@limiter.limit(rate_limits.WRITE)
def reply(thread_id: int):
    try:
        post = services.do_reply(current_user, thread_id, _body_with_attachment())
    except ValidationFailed as failure:
        thread = reading.load_reading_state(current_user, services.access_thread(current_user, thread_id))
        page = services.list_posts(current_user, thread.id)
        return _render_thread(thread, page, failure.fields, request.form), 422
    flash("Reply posted.", "success")
    return redirect(url_for("threads.thread", thread_id=thread_id, _anchor=f"post-{post.id}"))


@bp.route("/p/<int:post_id>/edit", methods=["GET", "POST"])
@limiter.limit(rate_limits.WRITE, methods=["POST"], key_func=signed_in_user_key)
def edit_post(post_id: int):
    post = services.access_post(current_user, post_id)
    if not permissions.can_edit_post(current_user, post):
        raise Forbidden("You may not edit this post.")
    errors = {}
    if request.method == "POST":
        try:
            services.do_edit_post(current_user, post.id, request.form.get("body"))
        except ValidationFailed as failure:
            errors = failure.fields
        else:
            flash("Post updated.", "success")
            return redirect(url_for("threads.thread", thread_id=post.thread_id, _anchor=f"post-{post.id}"))
    form = request.form if errors else {"body": post.body}
    return render_template("threads/edit_post.html", post=post, errors=errors, form=form), 422 if errors else 200


@bp.post("/t/<int:thread_id>/update")
@limiter.limit(rate_limits.WRITE, key_func=signed_in_user_key)
def update_thread(thread_id: int):
    """Staff controls and renaming: each form sends only the fields it changes."""
    changes = {name: request.form[name] == "true" for name in services.THREAD_SWITCHES if name in request.form}
    if "title" in request.form:
        changes["title"] = request.form["title"]
    if "category_id" in request.form:
        changes["category_id"] = form_int("category_id")
    services.do_update_thread(current_user, thread_id, changes)
    flash("Thread updated.", "success")
    return redirect(url_for("threads.thread", thread_id=thread_id))


@bp.post("/t/<int:thread_id>/delete")
def delete_thread(thread_id: int):
    thread = services.do_delete_thread(current_user, thread_id, request.form.get("reason"))
    flash("Thread deleted. Staff can still open and restore it.", "info")
    return redirect(url_for("threads.category", category_id=thread.category_id))


@bp.post("/t/<int:thread_id>/restore")
def restore_thread(thread_id: int):
    services.do_restore_thread(current_user, thread_id)
    flash("Thread restored.", "success")
    return redirect(url_for("threads.thread", thread_id=thread_id))


@bp.get("/p/<int:post_id>/history")
def post_history(post_id: int):
    post = services.access_post(current_user, post_id)
    page = services.list_post_revisions(current_user, post.id, cursor=request.args.get("cursor"),
                                        limit=request.args.get("limit"))
    return render_template("threads/post_history.html", post=post, page=page)


@bp.post("/p/<int:post_id>/delete")
@limiter.limit(rate_limits.WRITE, key_func=signed_in_user_key)
def delete_post(post_id: int):
    post = services.do_delete_post(current_user, post_id)
    flash("Post deleted.", "info")
    return redirect(url_for("threads.thread", thread_id=post.thread_id))


@bp.post("/preview")
@limiter.limit(rate_limits.PREVIEW, key_func=signed_in_user_key)
def preview():
    """The composer's preview: the body rendered by the same renderer as a posted one."""
    return render_template("threads/_preview.html", body_html=services.preview(current_user, request.form.get("body")))


@bp.get("/mentions")
def mentions():
    """The composer's @ autocomplete: members who could read what is being written."""
    thread_id = request.args.get("thread_id", type=int)
    category_id = request.args.get("category_id", type=int)
    people = services.mention_candidates(current_user, request.args.get("q", ""), thread_id=thread_id,
                                         category_id=category_id)
    return jsonify(items=[{"handle": user.handle, "display_name": user.display_name,
                           "organization": user.organization_name} for user in people])
