"""One way to show a moment: relative within a day, the date after; 24-hour clocks."""

import datetime as dt
import re
from pathlib import Path

import time_machine
from django.template import Context, Template
from django.utils import translation
from django.utils.formats import date_format

import sofno

NOW = dt.datetime(2026, 11, 30, 0, 43, tzinfo=dt.UTC)


def shown(moment, language="en"):
    with translation.override(language), time_machine.travel(NOW, tick=False):
        return Template("{% load sofno_web %}{% when moment %}").render(Context({"moment": moment}))


def test_it_says_how_long_ago_within_a_day_with_the_exact_time_on_hover(settings):
    settings.TIME_ZONE = "UTC"
    html = shown(NOW - dt.timedelta(hours=3))
    assert ">3\xa0hours ago</time>" in html
    assert 'title="29 Nov 2026, 21:43"' in html
    assert 'datetime="2026-11-29T21:43:00+00:00"' in html


def test_it_shows_older_moments_as_a_date_on_a_24_hour_clock(settings):
    settings.TIME_ZONE = "UTC"
    html = shown(dt.datetime(2026, 11, 2, 23, 5, tzinfo=dt.UTC))
    assert ">02/11/2026 23:05</time>" in html and "p.m." not in html
    assert ">02/11/2026 23:05</time>" in shown(dt.datetime(2026, 11, 2, 23, 5, tzinfo=dt.UTC), "es")


def test_it_shows_nothing_for_no_moment():
    assert shown(None) == ""


def test_templates_name_their_date_formats_instead_of_spelling_them_out():
    """A spelt-out format ("D j M H:i") fixes one language's order on every language;
    a named one follows the reader's locale. Lone weekday names and the timetable's
    compact day/month column headings are the only spelt-out parts allowed."""
    allowed = {"D", "l", "j/n", "D j/n"}
    root = Path(sofno.__file__).parent
    spelt = [
        f"{path.relative_to(root)}: {fmt}"
        for path in root.glob("**/templates/**/*.html")
        for fmt in re.findall(r'\|date:"([^"]*)"', path.read_text())
        if not re.fullmatch(r"[A-Z_]+_FORMAT", fmt) and fmt not in allowed
    ]
    assert spelt == []


def lasted(value, language="en"):
    with translation.override(language), time_machine.travel(NOW, tick=False):
        template = Template("{% load sofno_web %}{{ value|duration }}")
        return template.render(Context({"value": value}))


def test_it_says_how_long_in_words_never_as_a_clock_value():
    assert lasted(dt.timedelta(hours=2, minutes=5, seconds=7)) == "2\xa0hours, 5\xa0minutes"
    assert lasted(dt.timedelta(seconds=20)) == "under a minute"
    assert lasted(93_784) == "1\xa0day, 2\xa0hours"  # an agent's uptime in seconds
    assert lasted(dt.timedelta(minutes=4), "es") == "4\xa0minutos"
    assert lasted(None) == lasted("") == lasted("soon") == ""


def test_italian_writes_month_and_short_day_names_in_lower_case():
    day = dt.date(2026, 11, 30)
    with translation.override("it"):
        assert date_format(day, "DATE_FORMAT") == "30 novembre 2026"
        assert date_format(day, "D") == "lun"
    with translation.override("en"):
        assert date_format(day, "D j M Y") == "Mon 30 Nov 2026"
