"""Staff tools: flags and their queue, hiding posts, edit history, suspending and silencing
members, category moderators, the audit log."""
from marshmallow import Schema, fields, validate

from community import rate_limits
from community.extensions import limiter
from community.moderation import services
from community.moderation.models import AUDIT_TARGET_TYPES, FlagReason, Resolution
from community.shapes import PostSchema, ProfileSchema, UserRefSchema
from community.threads import reactions
from community.threads import services as threads

from .common import ListArgsSchema, api_blueprint, page_schema, user_rate_key, viewer

bp = api_blueprint("moderation", "Moderation", "Flags, the flag queue, hiding posts, suspensions and the audit log.")


class FlagCreateSchema(Schema):
    reason = fields.String(required=True, validate=validate.OneOf([r.value for r in FlagReason]))
    text = fields.String(load_default="", metadata={"description": "Required when the reason is `other`."})


class FlagSchema(Schema):
    id = fields.Integer()
    post_id = fields.Integer()
    reason = fields.String()
    text = fields.String()
    created_at = fields.DateTime()


class QueuedFlagSchema(FlagSchema):
    user = fields.Nested(UserRefSchema)


class QueueItemSchema(Schema):
    id = fields.Integer(attribute="flag_id", metadata={"description": "Resolve the item with this flag id."})
    post = fields.Nested(PostSchema)
    thread_id = fields.Integer(attribute="post.thread_id")
    thread_title = fields.String(attribute="post.thread.title")
    flag_count = fields.Integer()
    first_flagged_at = fields.DateTime()
    reasons = fields.Dict(keys=fields.String(), values=fields.Integer())
    flags = fields.List(fields.Nested(QueuedFlagSchema))


class ResolveSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf([r.value for r in Resolution]))
    reason = fields.String(load_default="")


class ResolutionSchema(Schema):
    action = fields.String()
    resolved_count = fields.Integer(metadata={"description": "How many open flags of the post were resolved."})
    post = fields.Nested(PostSchema)


class ReasonSchema(Schema):
    reason = fields.String(required=True)


class RestrictSchema(Schema):
    until = fields.String(required=True, metadata={"description": "A future date or ISO-8601 time."})
    reason = fields.String(required=True)


class ModeratedUserSchema(ProfileSchema):
    """A member as staff see them: their restrictions included."""

    status = fields.String(metadata={"description": "active, silenced or suspended"})
    suspended_until = fields.DateTime(allow_none=True)
    suspension_reason = fields.String()
    silenced_until = fields.DateTime(allow_none=True)
    silence_reason = fields.String()


class RevisionSchema(Schema):
    id = fields.Integer()
    post_id = fields.Integer()
    body = fields.String(metadata={"description": "The Markdown of this former version."})
    editor = fields.Nested(UserRefSchema, metadata={"description": "Who wrote this version."})
    created_at = fields.DateTime(metadata={"description": "When this version was written."})


class AuditArgsSchema(ListArgsSchema):
    actor_id = fields.Integer()
    action = fields.String(metadata={"description": "e.g. thread.lock, post.hide, user.suspend, flag.dismiss"})
    target_type = fields.String(validate=validate.OneOf(AUDIT_TARGET_TYPES))
    target_id = fields.Integer()


class AuditEntrySchema(Schema):
    id = fields.Integer()
    actor = fields.Nested(UserRefSchema, allow_none=True, metadata={"description": "null: the system"})
    action = fields.String()
    target_type = fields.String()
    target_id = fields.Integer()
    category_id = fields.Integer(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    reason = fields.String()
    created_at = fields.DateTime()


class CategoryModeratorSchema(Schema):
    category_id = fields.Integer()
    user = fields.Nested(UserRefSchema)
    created_at = fields.DateTime()


# Flags


@bp.post("/posts/<int:post_id>/flags")
@bp.arguments(FlagCreateSchema)
@bp.response(201, FlagSchema)
@bp.error(403, description="Your own post, or you are silenced.")
@bp.error(409, description="You already flagged this post.")
@limiter.limit(rate_limits.FLAG, key_func=user_rate_key)
@limiter.limit(rate_limits.FLAG)
def flag_post(data, post_id):
    return services.do_flag_post(viewer(), post_id, data["reason"], data["text"])


@bp.get("/moderation/flags")
@bp.arguments(ListArgsSchema, location="query")
@bp.response(200, page_schema(QueueItemSchema, "FlagQueuePage"))
@bp.error(403, description="Staff only.")
def flag_queue(args):
    """Flagged posts in the categories you moderate, oldest flag first, with their open flags."""
    page = services.list_flag_queue(viewer(), cursor=args.get("cursor"), limit=args.get("limit"))
    posts = [item.post for item in page.items]
    reactions.attach(viewer(), posts)
    services.attach_my_flags(viewer(), posts)  # one lookup, where each item's shape would make its own
    return page


@bp.post("/moderation/flags/<int:flag_id>/resolve")
@bp.arguments(ResolveSchema)
@bp.response(200, ResolutionSchema)
@bp.error(404, description="No such flag among those you may resolve.")
@bp.error(409, description="Already resolved.")
def resolve_flag(data, flag_id):
    """Hide the post or dismiss: every open flag of the post is resolved."""
    return services.do_resolve_flag(viewer(), flag_id, data["action"], data["reason"])


# Posts


@bp.post("/posts/<int:post_id>/hide")
@bp.arguments(ReasonSchema)
@bp.response(200, PostSchema)
@bp.error(403, description="Staff of the category only.")
@bp.error(409, description="Already hidden, or deleted.")
def hide_post(data, post_id):
    """Others see a placeholder; the author is told the reason."""
    return services.do_hide_post(viewer(), post_id, data["reason"])


@bp.post("/posts/<int:post_id>/unhide")
@bp.response(200, PostSchema)
@bp.error(403, description="Staff of the category only.")
@bp.error(409, description="Not hidden.")
def unhide_post(post_id):
    return services.do_unhide_post(viewer(), post_id)


@bp.get("/posts/<int:post_id>/revisions")
@bp.arguments(ListArgsSchema, location="query")
@bp.response(200, page_schema(RevisionSchema, "RevisionPage"))
@bp.error(403, description="Staff of the category only.")
def post_revisions(args, post_id):
    """Former versions of the post, newest first."""
    return threads.list_post_revisions(viewer(), post_id, cursor=args.get("cursor"), limit=args.get("limit"))


# People


@bp.post("/users/<int:user_id>/suspend")
@bp.arguments(RestrictSchema)
@bp.response(200, ModeratedUserSchema)
@bp.error(403, description="Moderators suspend members; admins also moderators.")
def suspend(data, user_id):
    """The member cannot sign in until then; their tokens stop working at once."""
    return services.do_suspend(viewer(), user_id, data["until"], data["reason"])


@bp.post("/users/<int:user_id>/unsuspend")
@bp.response(200, ModeratedUserSchema)
@bp.error(409, description="Not suspended.")
def unsuspend(user_id):
    return services.do_unsuspend(viewer(), user_id)


@bp.post("/users/<int:user_id>/silence")
@bp.arguments(RestrictSchema)
@bp.response(200, ModeratedUserSchema)
@bp.error(403, description="Moderators silence members; admins also moderators.")
def silence(data, user_id):
    """The member reads but cannot post, vote or flag until then."""
    return services.do_silence(viewer(), user_id, data["until"], data["reason"])


@bp.post("/users/<int:user_id>/unsilence")
@bp.response(200, ModeratedUserSchema)
@bp.error(409, description="Not silenced.")
def unsilence(user_id):
    return services.do_unsilence(viewer(), user_id)


@bp.get("/categories/<int:category_id>/moderators")
@bp.response(200, Schema.from_dict({"items": fields.List(fields.Nested(CategoryModeratorSchema))},
                                   name="CategoryModeratorList"))
def category_moderators(category_id):
    return {"items": services.list_category_moderators(viewer(), category_id)}


@bp.put("/categories/<int:category_id>/moderators/<int:user_id>")
@bp.response(200, CategoryModeratorSchema)
@bp.error(403, description="Admins only.")
@bp.error(409, description="Moderators and admins already moderate every category.")
def assign_category_moderator(category_id, user_id):
    return services.do_assign_category_moderator(viewer(), category_id, user_id)


@bp.delete("/categories/<int:category_id>/moderators/<int:user_id>")
@bp.response(204)
@bp.error(403, description="Admins only.")
def remove_category_moderator(category_id, user_id):
    services.do_remove_category_moderator(viewer(), category_id, user_id)


# The audit log


@bp.get("/moderation/audit")
@bp.arguments(AuditArgsSchema, location="query")
@bp.response(200, page_schema(AuditEntrySchema, "AuditPage"))
@bp.error(403, description="Staff only.")
def audit_log(args):
    """Staff actions, newest first; filter by actor, action and target."""
    return services.list_audit_log(viewer(), actor_id=args.get("actor_id"), action=args.get("action"),
                                   target_type=args.get("target_type"), target_id=args.get("target_id"),
                                   cursor=args.get("cursor"), limit=args.get("limit"))
