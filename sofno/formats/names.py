"""Month names and short day names as each language writes them inside a date.

Django's Italian catalog capitalizes them ("Lun 30 Novembre 2026"), though Italian
writes them in lower case, as Spanish and Catalan do. Naming them here puts them
in SOFNO's own catalogs, which Django reads before its own, so every date format
with a month name ("F") or a short day name ("D") follows the language's rule.
"""

from django.utils.translation import gettext_noop

MONTHS = (
    gettext_noop("January"),
    gettext_noop("February"),
    gettext_noop("March"),
    gettext_noop("April"),
    gettext_noop("May"),
    gettext_noop("June"),
    gettext_noop("July"),
    gettext_noop("August"),
    gettext_noop("September"),
    gettext_noop("October"),
    gettext_noop("November"),
    gettext_noop("December"),
)

DAYS = (
    gettext_noop("Mon"),
    gettext_noop("Tue"),
    gettext_noop("Wed"),
    gettext_noop("Thu"),
    gettext_noop("Fri"),
    gettext_noop("Sat"),
    gettext_noop("Sun"),
)
