"""Web pages of the ideas board. Thin: parse, call a service, render."""
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from .. import permissions, rate_limits
from ..errors import ValidationFailed
from ..extensions import limiter
from ..moderation import services as moderation
from ..pagination import MAX_LIMIT
from ..threads import services as threads
from ..threads.views import SUBSCRIPTION_FLASHES
from ..web import safe_next_url, signed_in_user_key
from . import merging, services
from .models import ANSWER_STATUSES, IdeaStatus, Importance, status_label

bp = Blueprint("ideas", __name__)


@bp.app_template_filter("idea_status")
def _idea_status(status: str) -> str:
    return status_label(status)


@bp.app_template_filter("importance")
def _importance(importance: str) -> str:
    return services.importance_label(importance)


def _list_args() -> dict:
    return {name: request.args.get(name) or None for name in ("status", "sort", "tag")}


@bp.get("/ideas")
def index():
    args = _list_args()
    page = services.list_ideas(current_user, **args, cursor=request.args.get("cursor"),
                               limit=request.args.get("limit"))
    return render_template("ideas/index.html", page=page, args=args, sort=args["sort"] or "top",
                           sorts=services.sorts_for(current_user), statuses=list(IdeaStatus))


@bp.route("/ideas/new", methods=["GET", "POST"])
@limiter.limit(rate_limits.WRITE, methods=["POST"], key_func=signed_in_user_key)
@limiter.limit(rate_limits.WRITE, methods=["POST"])
def new_idea():
    errors = {}
    if request.method == "POST":
        try:
            idea = services.do_create_idea(current_user, request.form.get("title"), request.form.get("body"),
                                           request.form.get("tags"))
        except ValidationFailed as failure:
            errors = failure.fields
        else:
            return redirect(url_for("ideas.idea", idea_id=idea.id))
    return render_template("ideas/new_idea.html", errors=errors, form=request.form), 422 if errors else 200


def _render_idea(idea_id: int, errors: dict | None = None, form=None, status: int = 200):
    idea = services.access_idea(current_user, idea_id)
    comments = services.list_comments(current_user, idea.id, cursor=request.args.get("cursor"),
                                      limit=request.args.get("limit"))
    moderation.attach_my_flags(current_user, comments.items)
    merged_into = services.access_idea(current_user, idea.merged_into_id) if idea.merged_into_id else None
    demand = (services.list_demand(current_user, idea.id, limit=MAX_LIMIT)
              if permissions.can_see_demand(current_user) else None)
    return render_template("ideas/idea.html", idea=idea, comments=comments, merged_into=merged_into,
                           answer_statuses=ANSWER_STATUSES, demand=demand,
                           importances=list(Importance), errors=errors or {}, form=form or {}), status


@bp.get("/ideas/<int:idea_id>")
def idea(idea_id: int):
    return _render_idea(idea_id)


@bp.post("/ideas/<int:idea_id>/subscription")
def subscription(idea_id: int):
    idea = services.do_set_subscription(current_user, idea_id, request.form.get("level") or None)
    flash(SUBSCRIPTION_FLASHES[idea.subscription], "success")
    return redirect(url_for("ideas.idea", idea_id=idea.id))


@bp.get("/ideas/of-thread/<int:thread_id>")
def idea_of_thread(thread_id: int):
    """From an idea's discussion thread to the idea itself."""
    return redirect(url_for("ideas.idea", idea_id=services.access_idea_of_thread(current_user, thread_id).id))


@bp.post("/ideas/<int:idea_id>/vote")
@limiter.limit(rate_limits.VOTE, key_func=signed_in_user_key)
@limiter.limit(rate_limits.VOTE)
def vote(idea_id: int):
    """The vote button: a plain form, which static/ideas.js submits with fetch asking for JSON.
    The idea page's importance choice posts here too."""
    state = services.do_vote(current_user, idea_id, request.form.get("vote") != "0",
                             request.form.get("importance") or None)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(vote_count=state.vote_count, voter_org_count=state.voter_org_count,
                       has_voted=state.has_voted)
    return redirect(safe_next_url(request.form.get("next"), url_for("ideas.idea", idea_id=idea_id)))


PROXY_VOTE_FLASHES = {
    "added": "Vote added for {name}: they are told, and it is in the audit log.",
    "importance": "{name} had voted already: the importance of their vote is changed, and they are told.",
    "removed": "Vote of {name} withdrawn: they are told, and it is in the audit log.",
    None: "Nothing to change: {name}'s vote was already so.",
}


@bp.post("/ideas/<int:idea_id>/votes")
@limiter.limit(rate_limits.VOTE, key_func=signed_in_user_key)
def vote_for(idea_id: int):
    """Staff add or withdraw a customer's vote on their behalf, naming them by email or @handle."""
    voted = request.form.get("vote") != "0"
    try:
        member = services.find_member(request.form.get("member"))
        state = services.do_vote_for(current_user, idea_id, member.id, voted, request.form.get("importance") or None,
                                     request.form.get("reason"))
    except ValidationFailed as failure:
        return _render_idea(idea_id, failure.fields, request.form, 422)
    flash(PROXY_VOTE_FLASHES[state.change].format(name=member.display_name), "success")
    return redirect(url_for("ideas.idea", idea_id=idea_id))


@bp.post("/ideas/<int:idea_id>/comment")
@limiter.limit(rate_limits.WRITE, key_func=signed_in_user_key)
@limiter.limit(rate_limits.WRITE)
def comment(idea_id: int):
    idea = services.access_idea(current_user, idea_id)
    try:
        post = threads.do_reply(current_user, idea.thread_id, request.form.get("body"))
    except ValidationFailed as failure:
        return _render_idea(idea_id, failure.fields, request.form, 422)
    flash("Comment posted.", "success")
    return redirect(url_for("ideas.idea", idea_id=idea_id, _anchor=f"post-{post.id}"))


@bp.post("/ideas/<int:idea_id>/status")
def change_status(idea_id: int):
    try:
        services.do_change_status(current_user, idea_id, request.form.get("status"), request.form.get("note"))
    except ValidationFailed as failure:
        return _render_idea(idea_id, failure.fields, request.form, 422)
    flash("Status and answer saved; voters and followers are notified.", "success")
    return redirect(url_for("ideas.idea", idea_id=idea_id))


@bp.post("/ideas/<int:idea_id>/merge")
def merge(idea_id: int):
    try:
        merging.do_merge(current_user, idea_id, request.form.get("into_id"))
    except ValidationFailed as failure:
        return _render_idea(idea_id, failure.fields, request.form, 422)
    flash("Merged: the votes moved over and the voters are told where.", "success")
    return redirect(url_for("ideas.idea", idea_id=idea_id))


@bp.post("/ideas/<int:idea_id>/unmerge")
def unmerge(idea_id: int):
    merging.do_unmerge(current_user, idea_id)
    flash("Unmerged: both ideas are as they were before the merge.", "success")
    return redirect(url_for("ideas.idea", idea_id=idea_id))


@bp.get("/roadmap")
def roadmap():
    return render_template("ideas/roadmap.html", columns=services.roadmap(current_user))


@bp.get("/changelog")
def changelog():
    page = services.list_changelog(current_user, cursor=request.args.get("cursor"), limit=request.args.get("limit"))
    return render_template("ideas/changelog.html", page=page)
