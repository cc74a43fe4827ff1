"""What counts as executable markup, judged by a real HTML parser rather than substrings."""
from html.parser import HTMLParser

EXECUTABLE_TAGS = {"script", "iframe", "object", "embed", "style", "link", "meta", "base", "form", "svg", "math"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "poster"}
SAFE_SCHEMES = ("http:", "https:", "mailto:")


class _Finder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in EXECUTABLE_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag}[{name}]")
            if name in URL_ATTRIBUTES and value is not None:
                url = "".join(value.split()).lower()
                if ":" in url.split("/")[0] and not url.startswith(SAFE_SCHEMES):
                    self.problems.append(f"{tag}[{name}={value!r}]")
            if name == "style" and value and ("url(" in value.lower() or "expression" in value.lower()):
                self.problems.append(f"{tag}[style]")


def executable_markup(html: str) -> list[str]:
    """Every tag, handler or URL in `html` that could run script; empty when it is safe."""
    finder = _Finder()
    finder.feed(html)
    finder.close()
    return finder.problems
