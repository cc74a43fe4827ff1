"""Full-text search over what the viewer may read."""
from marshmallow import Schema, fields

from community.search import services

from .common import ListArgsSchema, api_blueprint, page_schema, viewer

bp = api_blueprint("search", "Search", "Ranked full-text search over threads, posts and ideas you may read.")


class SearchArgsSchema(ListArgsSchema):
    q = fields.String(required=True, metadata={
        "description": f"Words to find (all of them), at most {services.MAX_QUERY_LENGTH} characters; "
                       "punctuation and query syntax are ignored."})


class HitSchema(Schema):
    type = fields.String(metadata={"enum": [kind.name.lower() for kind in services.Kind]})
    id = fields.Integer(metadata={"description": "The thread's, idea's or post's id, by `type`."})
    thread_id = fields.Integer()
    title = fields.String(metadata={"description": "The thread's (or idea's) title, plain text."})
    snippet = fields.String(metadata={"description": "Safe HTML: escaped text with <mark> around the words found."})


@bp.get("/search")
@bp.arguments(SearchArgsSchema, location="query")
@bp.response(200, page_schema(HitSchema, "SearchPage"))
@bp.error(422, description="Empty, too long, or no words to search for.")
def search(args):
    """Best matches first; nothing you may not read is found, counted or quoted."""
    return services.search(viewer(), args["q"], cursor=args.get("cursor"), limit=args.get("limit"))
