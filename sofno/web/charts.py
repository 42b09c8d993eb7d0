"""Charts drawn on the server as inline SVG with pygal.

No JavaScript and nothing fetched from the internet: pygal's tooltip script normally
comes from a CDN, and ``js=[]`` leaves it out, so a chart works on a closed network
and costs the browser nothing. The SVG has a ``viewBox`` and no fixed size, so it
scales to its card; it is drawn narrow (560 units) with large fonts so a phone, at
about 330 px, still shows labels of about 11 px.
"""

from __future__ import annotations

import re

import pygal
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

# Mid greys and Bootstrap's own colours: readable on the light and the dark theme alike.
_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#8a939b",
    foreground_strong="#8a939b",
    foreground_subtle="rgba(138,147,155,0.25)",
    opacity="0.9",
    opacity_hover="1",
    colors=("#0d6efd", "#dc3545", "#fd7e14", "#198754"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=20,
    major_label_font_size=20,
    legend_font_size=22,
    value_font_size=16,
)

_INLINE_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def hourly_bars(hours: list[str], series: list[tuple[str, list[int]]], *, title: str) -> SafeString:
    """A bar chart with one group of bars per hour, as an SVG string to inline.

    ``hours`` labels the x axis (every fourth label is shown, so 24 hours fit a phone);
    ``series`` is ``(legend, counts)`` pairs, counts aligned with ``hours``;
    ``title`` is read by screen readers (the chart draws no visible title).
    """
    chart = pygal.Bar(
        style=_STYLE,
        js=[],  # no tooltip script from a CDN: the page must work offline
        width=560,
        height=300,
        explicit_size=False,  # viewBox only: the SVG fills its container's width
        legend_at_bottom=True,
        legend_at_bottom_columns=len(series),
        show_minor_x_labels=False,
        x_labels_major_every=4,
        truncate_label=-1,
        truncate_legend=-1,  # legends are short and translated: never cut them
        show_y_guides=True,
        show_x_guides=False,
        min_scale=2,
        max_scale=5,
        margin=8,
        spacing=12,
        print_values=False,
        include_x_axis=True,
        disable_xml_declaration=True,
    )
    chart.x_labels = hours
    for legend, counts in series:
        chart.add(legend, counts)
    svg = chart.render(is_unicode=True)
    # pygal always writes its tooltip script's config inline; with no script loaded it
    # only costs bytes (and would trip a strict CSP), and its credit comments link out.
    svg = _INLINE_SCRIPT.sub("", svg)
    svg = _COMMENT.sub("", svg)
    # The SVG's own <title> is empty without a chart title; give assistive tech one.
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1)
    return mark_safe(svg)  # noqa: S308 - pygal escapes the labels it draws
