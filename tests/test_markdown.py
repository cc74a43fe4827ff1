"""Markdown is rendered once on write and sanitized by an allow-list."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from community.markdown import plain_text, render_markdown

from .html_safety import executable_markup

ATTACKS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "![x](javascript:alert(1))",
    "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=//evil.test></iframe>",
    '<div onmouseover="alert(1)">hover</div>',
    "<svg><script>alert(1)</script></svg>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "[x](<javascript:alert(1)>)",
    '<<script>script>alert(1)<</script>/script>',
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_attacks_come_out_harmless(attack):
    assert executable_markup(render_markdown(attack)) == []


def test_bare_urls_become_links_and_stay_sanitized():
    html = render_markdown("Docs: https://docs.acme.test/sso?x=1 and www.example.com, `https://in.code.test`")
    assert '<a href="https://docs.acme.test/sso?x=1" rel="nofollow noopener noreferrer">' in html
    assert '<a href="http://www.example.com" rel="nofollow noopener noreferrer">www.example.com</a>' in html
    assert "<code>https://in.code.test</code>" in html  # code stays code
    assert executable_markup(render_markdown("javascript:alert(1) and data:text/html,x")) == []
    assert "<a" not in render_markdown("javascript:alert(1)")


def test_plain_text_is_what_a_reader_sees():
    source = ("We hit **Q3** goals\n\n```python\nif a < b:\n    pass\n```\n\n"
              "> [the plan](https://x.test) &amp; <b>raw</b>")
    assert plain_text(source) == "We hit Q3 goals if a < b: pass the plan & <b>raw</b>"
    assert plain_text("") == ""


def test_ordinary_markdown_renders():
    html = render_markdown("# Title\n\n**bold** *em* `code` ~~gone~~\n\n- a\n- b\n\n[site](https://example.com)")
    for fragment in ("<h1>Title</h1>", "<strong>bold</strong>", "<em>em</em>", "<code>code</code>",
                     "<s>gone</s>", "<li>a</li>"):
        assert fragment in html
    assert '<a href="https://example.com" rel="nofollow noopener noreferrer">site</a>' in html


def test_raw_html_is_shown_as_text():
    assert render_markdown("<b>hi</b>") == "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["<", ">", "\"", "'", "=", "(", ")", "[", "]", "!", ":", "/", " ", "\n",
                                 "javascript", "script", "onerror", "img", "a href", "src", "data",
                                 "&#", "x", "`", "*", "\t", "\u200b"]), max_size=40).map("".join))
def test_no_mix_of_dangerous_pieces_produces_executable_markup(source):
    assert executable_markup(render_markdown(source)) == []


def test_code_blocks_with_a_language_are_coloured_on_the_server():
    html = render_markdown('```python\ndef f():\n    return "<b>"\n```\n\n```\nplain\n```\n\n```unknownlang\nx\n```')
    assert '<span class="k">def</span>' in html and '<span class="s2">"&lt;b&gt;"</span>' in html
    assert "<pre><code>plain\n</code></pre>" in html
    assert '<pre><code class="language-unknownlang">x\n</code></pre>' in html
    # A span written by hand is still text, and a class outside Pygments' set never survives.
    assert "&lt;span" in render_markdown('<span class="k">x</span>')
