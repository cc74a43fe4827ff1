"""The ideas board: feature requests, votes, official answers, merges."""
from marshmallow import Schema, fields, validate

from community import rate_limits, shared_pages
from community.extensions import limiter
from community.ideas import merging, services
from community.ideas.models import ANSWER_STATUSES, IdeaStatus, Importance
from community.moderation import services as moderation
from community.shapes import IMPORTANCE, IdeaSchema, PostSchema, component

from .common import (
    ListArgsSchema,
    SubscriptionSchema,
    SubscriptionStateSchema,
    api_blueprint,
    json_answer,
    page_schema,
    user_rate_key,
    viewer,
)

bp = api_blueprint("ideas", "Ideas", "Feature requests: post, vote, follow their status; staff answer and merge.")


class IdeaListArgsSchema(ListArgsSchema):
    status = fields.String(validate=validate.OneOf(list(IdeaStatus)),
                           metadata={"description": "Without it, every idea but the merged ones."})
    sort = fields.String(validate=validate.OneOf(services.IDEA_SORTS), load_default="top", metadata={
        "description": "top: most votes; trending: recent votes weigh more; new; organizations: most customer "
                       "organizations; demand (staff only, else 403): summed organization weight times importance."})
    tag = fields.String()


class IdeaCreateSchema(Schema):
    title = fields.String(required=True)
    body = fields.String(required=True)
    tags = fields.List(fields.String(), load_default=list)


class VoteSchema(Schema):
    importance = fields.String(validate=validate.OneOf(list(Importance)), metadata={
        "description": "How important it is to you; without it a new vote is nice_to_have and a vote keeps its own."})


class ProxyVoteSchema(VoteSchema):
    reason = fields.String(load_default="", metadata={
        "description": "Why, for the audit log and the member (e.g. 'from the call on May 3')."})


class DemandItemSchema(Schema):
    organization = fields.Nested(Schema.from_dict({"id": fields.Integer(), "name": fields.String()},
                                                  name="OrganizationRef"))
    voters = fields.Integer(metadata={"description": "Members of it who want the idea."})
    importance = fields.Raw(metadata={**component(IMPORTANCE), "description": "Its most urgent voter's importance."})
    weight = fields.Float(metadata={"description": "The organization's weight (staff only)."})
    demand = fields.Float(metadata={"description": "weight times the importance factor: what it adds to the "
                                                   "idea's demand."})


class VoteStateSchema(Schema):
    vote_count = fields.Integer()
    voter_org_count = fields.Integer()
    has_voted = fields.Boolean()


class StatusChangeSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(ANSWER_STATUSES))
    note = fields.String(required=True, metadata={"description": "The official answer shown with the idea."})


class MergeSchema(Schema):
    into_id = fields.Integer(required=True, strict=True)


@bp.get("/ideas")
@bp.arguments(IdeaListArgsSchema, location="query")
@bp.response(200, page_schema(IdeaSchema, "IdeaPage"))
def list_ideas(args):
    """Ideas you may read, by votes, trending or newest; filter by status and tag."""
    return json_answer(shared_pages.idea_page(viewer(), status=args.get("status"), sort=args["sort"],
                                              tag=args.get("tag"), cursor=args.get("cursor"), limit=args.get("limit")))


@bp.get("/ideas/changelog")
@bp.arguments(ListArgsSchema, location="query")
@bp.response(200, page_schema(IdeaSchema, "ChangelogPage"))
def changelog(args):
    """Shipped ideas, the most recently shipped first."""
    return services.list_changelog(viewer(), cursor=args.get("cursor"), limit=args.get("limit"))


@bp.post("/ideas")
@bp.arguments(IdeaCreateSchema)
@bp.response(201, IdeaSchema)
@limiter.limit(rate_limits.WRITE, key_func=user_rate_key)
@limiter.limit(rate_limits.WRITE)
def create_idea(data):
    """Post an idea: it starts its discussion thread and counts your vote."""
    return services.do_create_idea(viewer(), data["title"], data["body"], data["tags"])


@bp.get("/ideas/<int:idea_id>")
@bp.response(200, IdeaSchema)
@bp.error(404, description="No such idea (or not one you may read).")
def get_idea(idea_id):
    return services.access_idea(viewer(), idea_id)


@bp.put("/ideas/<int:idea_id>/subscription")
@bp.arguments(SubscriptionSchema)
@bp.response(200, SubscriptionStateSchema)
@bp.error(404, description="No such idea (or not one you may read).")
def set_subscription(data, idea_id):
    """Watch (status changes, answers and comments) or mute this idea."""
    return {"level": services.do_set_subscription(viewer(), idea_id, data["level"]).subscription}


@bp.delete("/ideas/<int:idea_id>/subscription")
@bp.response(200, SubscriptionStateSchema)
@bp.error(404, description="No such idea (or not one you may read).")
def delete_subscription(idea_id):
    return {"level": services.do_set_subscription(viewer(), idea_id, None).subscription}


@bp.get("/ideas/<int:idea_id>/comments")
@bp.arguments(ListArgsSchema, location="query")
@bp.response(200, page_schema(PostSchema, "IdeaCommentPage"))
def list_comments(args, idea_id):
    """The discussion, oldest first: the idea's thread after its description, with the
    discussions of the ideas merged into it. Post comments to /threads/{thread_id}/posts."""
    page = services.list_comments(viewer(), idea_id, cursor=args.get("cursor"), limit=args.get("limit"))
    moderation.attach_my_flags(viewer(), page.items)  # one lookup, where each item's shape would make its own
    return page


@bp.put("/ideas/<int:idea_id>/vote")
@bp.arguments(VoteSchema, required=False)
@bp.response(200, VoteStateSchema)
@bp.error(409, description="The idea is closed (shipped, declined or merged).")
@limiter.limit(rate_limits.VOTE, key_func=user_rate_key)
@limiter.limit(rate_limits.VOTE)
def vote(data, idea_id):
    """Vote for the idea, optionally with how important it is to you; voting again changes
    nothing but the importance."""
    return services.do_vote(viewer(), idea_id, True, (data or {}).get("importance"))


@bp.delete("/ideas/<int:idea_id>/vote")
@bp.response(200, VoteStateSchema)
@bp.error(409, description="The idea is closed (shipped, declined or merged).")
@limiter.limit(rate_limits.VOTE, key_func=user_rate_key)
@limiter.limit(rate_limits.VOTE)
def unvote(idea_id):
    """Withdraw your vote; withdrawing again changes nothing."""
    return services.do_vote(viewer(), idea_id, False)


@bp.post("/ideas/<int:idea_id>/status")
@bp.arguments(StatusChangeSchema)
@bp.response(200, IdeaSchema)
@bp.error(403, description="Staff only.")
@bp.error(409, description="The idea is merged: unmerge it first.")
@limiter.limit(rate_limits.WRITE, key_func=user_rate_key)
def change_status(data, idea_id):
    """Set the status with an official answer; voters and followers are notified."""
    return services.do_change_status(viewer(), idea_id, data["status"], data["note"])


@bp.post("/ideas/<int:idea_id>/merge")
@bp.arguments(MergeSchema)
@bp.response(200, IdeaSchema)
@bp.error(403, description="Staff only.")
@bp.error(409, description="One of the ideas is already merged.")
@limiter.limit(rate_limits.WRITE, key_func=user_rate_key)
def merge(data, idea_id):
    """Merge this duplicate into `into_id`: votes move over (once per member) and its voters are
    told where. Answers the merged idea."""
    return merging.do_merge(viewer(), idea_id, data["into_id"])


@bp.post("/ideas/<int:idea_id>/unmerge")
@bp.response(200, IdeaSchema)
@bp.error(403, description="Staff only.")
@bp.error(409, description="The idea is not merged, or its target was merged in turn.")
@limiter.limit(rate_limits.WRITE, key_func=user_rate_key)
def unmerge(idea_id):
    """Undo a merge: the votes it moved go back and both ideas are as they were."""
    return merging.do_unmerge(viewer(), idea_id)


@bp.put("/ideas/<int:idea_id>/votes/<int:user_id>")
@bp.arguments(ProxyVoteSchema, required=False)
@bp.response(200, VoteStateSchema)
@bp.error(403, description="Staff only.")
@bp.error(404, description="No such idea, or no such member who may read it.")
@bp.error(409, description="The idea is closed, or the user is staff (staff vote themselves).")
@limiter.limit(rate_limits.VOTE, key_func=user_rate_key)
def vote_for(data, idea_id, user_id):
    """Add a customer member's vote on their behalf (e.g. from a call): it counts exactly like
    their own, records who cast it, is audit-logged and tells the member. `has_voted` is theirs."""
    data = data or {}
    return services.do_vote_for(viewer(), idea_id, user_id, True, data.get("importance"), data.get("reason"))


@bp.delete("/ideas/<int:idea_id>/votes/<int:user_id>")
@bp.arguments(ProxyVoteSchema, required=False)
@bp.response(200, VoteStateSchema)
@bp.error(403, description="Staff only.")
@bp.error(404, description="No such idea, or no such member who may read it.")
@bp.error(409, description="The idea is closed, or the user is staff.")
@limiter.limit(rate_limits.VOTE, key_func=user_rate_key)
def unvote_for(data, idea_id, user_id):
    """Withdraw a customer member's vote on their behalf; audit-logged, and the member is told."""
    return services.do_vote_for(viewer(), idea_id, user_id, False, reason=(data or {}).get("reason"))


@bp.get("/ideas/<int:idea_id>/demand")
@bp.arguments(ListArgsSchema, location="query")
@bp.response(200, page_schema(DemandItemSchema, "DemandPage"))
@bp.error(403, description="Staff only.")
def demand(args, idea_id):
    """The organizations that want the idea, the biggest demand first: voters, importance, weight."""
    return services.list_demand(viewer(), idea_id, cursor=args.get("cursor"), limit=args.get("limit"))
