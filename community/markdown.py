"""Markdown to safe HTML, done once when a post is written, with @mentions as profile links;
and Markdown to plain text, for the places that show an excerpt (notifications, search, pushes)."""
import html
import re
from collections.abc import Mapping

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

# `@handle`: lower case letters, digits and underscores (see accounts.services.handle_base), not
# inside a word or an email address (`bob@acme.test` mentions nobody), any case when written.
MENTION = re.compile(r"(?<![\w@.+-])@([A-Za-z0-9_]{2,32})")

ALLOWED_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "img", "span",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
    "code": {"class"},
}
# Syntax colouring marks tokens with Pygments' short class names (`k` keyword, `s2` string…).
ALLOWED_CLASSES = {"a": {"mention"}, "span": {name for name in STANDARD_TYPES.values() if name}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def _mentions(state) -> None:
    """Find `@handle` in plain text (never in code, nor inside a link's text) and, for the
    handles `env["mentions"]` maps to a member id, turn it into a link to their profile.
    Every handle seen is collected in `env["handles"]`."""
    known: Mapping[str, int] = state.env.get("mentions", {})
    seen: set[str] = state.env.setdefault("handles", set())
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children, in_link = [], 0
        for token in block.children:
            in_link += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            if token.type != "text" or in_link or "@" not in token.content:
                children.append(token)
                continue
            position = 0
            for match in MENTION.finditer(token.content):
                handle = match.group(1).lower()
                seen.add(handle)
                if handle not in known:
                    continue
                children.append(_text(token.content[position:match.start()]))
                link = Token("link_open", "a", 1, attrs={"href": f"/u/{known[handle]}", "class": "mention"})
                children.extend([link, _text(match.group(0)), Token("link_close", "a", -1)])
                position = match.end()
            children.append(_text(token.content[position:]))
        block.children = children


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


_FORMATTER = HtmlFormatter(nowrap=True)
MAX_HIGHLIGHTED = 20_000  # longer blocks stay plain: colouring is done on write, and must stay quick


def _highlight(code: str, language: str, attrs: str) -> str:
    """A fenced block whose language Pygments knows, coloured on the server (no script runs in
    the page); "" leaves the block to the plain renderer."""
    if not language or len(code) > MAX_HIGHLIGHTED:
        return ""
    try:
        lexer = get_lexer_by_name(language.strip().lower())
    except ClassNotFound:
        return ""
    return highlight(code, lexer, _FORMATTER)


# linkify: a bare URL (https://…, www.…) in a post is a link, as people expect.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True,
                                      "highlight": _highlight}).enable(
    ["table", "strikethrough", "linkify"]
)
_markdown.core.ruler.push("mentions", _mentions)


def _image(renderer, tokens, idx, options, env):
    """Images of known size (uploads) carry it, so the page keeps their space while they load."""
    token = tokens[idx]
    size = env.get("image_sizes", {}).get(token.attrGet("src"))
    if size:
        token.attrSet("width", str(size[0]))
        token.attrSet("height", str(size[1]))
    token.attrSet("loading", "lazy")
    return _default_image(tokens, idx, options, env)


_default_image = _markdown.renderer.rules["image"]
_markdown.add_render_rule("image", _image)


def mentioned_handles(source: str) -> set[str]:
    """The handles `source` mentions (lower case), whoever they belong to."""
    env: dict = {}
    _markdown.parse(source, env)
    return env["handles"]


def render_markdown(source: str, mentions: Mapping[str, int] | None = None,
                    image_sizes: Mapping[str, tuple[int, int]] | None = None) -> str:
    """Render Markdown, then sanitize by allow-list: raw HTML is escaped by the parser and
    whatever the renderer produces still passes nh3 (no scripts, handlers or unsafe URLs).
    `mentions` maps handles to member ids: those `@handle`s become links to the profiles;
    `image_sizes` maps image URLs to their (width, height)."""
    return nh3.clean(
        _markdown.render(source, {"mentions": dict(mentions or {}), "image_sizes": dict(image_sizes or {})}),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        filter_style_properties={"text-align"},
    )


def plain_text(source: str) -> str:
    """What a reader sees of some Markdown, as one line of plain text: the renderer's own
    output with every tag stripped by the sanitizer (`**Q3**` reads "Q3", a fenced block its
    code), entities decoded and whitespace collapsed. Not HTML: escape it where it is shown."""
    stripped = nh3.clean(_markdown.render(source, {}), tags=set(), clean_content_tags={"script", "style"})
    return " ".join(html.unescape(stripped).split())
