"""The weekly activity chart of an account page, drawn by pygal as a standalone SVG.

Two sizes of one chart: a phone gets a narrow drawing with large type and a label per quarter,
a wide screen one with a label per month, so the text stays readable at either width (a single
drawing scaled down to a phone would shrink its labels below legibility).
"""
import pygal
from pygal.style import Style

SIZES = {
    "phone": {"width": 420, "height": 400, "font": 19, "label_every": 13},
    "wide": {"width": 1000, "height": 360, "font": 15, "label_every": 4},
}
SERIES = (("posts", "Posts"), ("votes", "Votes"), ("checkins", "Check-ins"))
# The site's own colours (see roundtable.css), readable on white and apart for common colour blindness.
COLOURS = ("#2f5fd0", "#d07a1f", "#2a9d6f")


def check_size(size: str | None) -> str:
    return size if size in SIZES else "wide"


def weekly_activity_svg(weeks: list[dict], size: str) -> bytes:
    """A stacked bar chart of posts, votes and check-ins per week; no script, no remote font."""
    spec = SIZES[check_size(size)]
    font = spec["font"]
    style = Style(background="white", plot_background="white", colors=COLOURS, font_family="sans-serif",
                  label_font_size=font, major_label_font_size=font, legend_font_size=font,
                  title_font_size=font + 2, value_font_size=font, tooltip_font_size=font)
    chart = pygal.StackedBar(
        width=spec["width"], height=spec["height"], style=style, js=[], disable_xml_declaration=False,
        title="Weekly activity, last 12 months", legend_at_bottom=True, legend_at_bottom_columns=3,
        show_minor_x_labels=False, x_label_rotation=0, truncate_label=-1, truncate_legend=-1, margin=12,
        spacing=4, min_scale=2, max_scale=6, print_values=False, show_y_guides=True,
    )
    # Week labels are unique (a week's first day), so marking some of them major marks only those.
    chart.x_labels = [f"{week['starts']:%b} {week['starts'].day}" for week in weeks]
    chart.x_labels_major = [label for i, label in enumerate(chart.x_labels) if i % spec["label_every"] == 0]
    for key, title in SERIES:
        chart.add(title, [week[key] for week in weeks])
    return chart.render()
